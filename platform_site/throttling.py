"""Brute-force protection: login and token attempts are rate limited per client address.

The counters live in the shared cache (settings.CACHES), so every web process
counts the same attempts. The rate is settings.AUTH_RATE_LIMIT (10/minute).
"""

import math

from django.contrib.auth.views import LoginView
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle

from platform_site.api_errors import error_response


class AuthRateThrottle(SimpleRateThrottle):
    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RateLimitedLoginView(LoginView):
    """Django's login page; a client that posts too often gets 429 with Retry-After."""

    def post(self, request, *args, **kwargs):
        throttle = AuthRateThrottle()
        if not throttle.allow_request(request, self):
            seconds = math.ceil(throttle.wait() or 1)
            message = _("Too many login attempts. Try again in %(seconds)d seconds.") % {"seconds": seconds}
            return error_response(request, 429, message, retry_after=seconds)
        return super().post(request, *args, **kwargs)
