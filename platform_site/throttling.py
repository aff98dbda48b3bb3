"""Brute-force protection: every place that checks a password shares one budget of attempts.

Attempts are counted per client address and per account name (so a guess
spread over many addresses is slowed too), at settings.AUTH_RATE_LIMIT
(10/minute) each. The counters live in the shared cache (settings.CACHES),
so every web process counts the same attempts. The places: the token
endpoints (DRF throttles), the sign-in page and the admin's sign-in
(sign_in_refusal()).
"""

import hashlib
import math

from django.contrib.auth.views import LoginView
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from platform_site.api_errors import error_response


class AuthRateThrottle(SimpleRateThrottle):
    """Sign-in attempts from one client address."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AccountRateThrottle(SimpleRateThrottle):
    """Sign-in attempts at one account name, from any address."""

    scope = "auth"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request, Request) else request.POST
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str) or not username:
            return None  # nothing to count by (a token refresh, say)
        digest = hashlib.sha256(username.casefold().encode()).hexdigest()  # any length and character fits a key
        return self.cache_format % {"scope": "auth-account", "ident": digest}


SIGN_IN_THROTTLES = [AuthRateThrottle, AccountRateThrottle]


def sign_in_refusal(request):
    """A 429 with Retry-After when this sign-in attempt is over the budget, else None (and it is counted)."""
    waits = [
        throttle.wait()
        for throttle in (cls() for cls in SIGN_IN_THROTTLES)
        if not throttle.allow_request(request, None)
    ]
    if not waits:
        return None
    seconds = math.ceil(max(wait or 1 for wait in waits))
    message = _("Too many login attempts. Try again in %(seconds)d seconds.") % {"seconds": seconds}
    return error_response(request, 429, message, retry_after=seconds)


class RateLimitedLoginView(LoginView):
    """Django's login page; a client that posts too often gets 429 with Retry-After."""

    def post(self, request, *args, **kwargs):
        return sign_in_refusal(request) or super().post(request, *args, **kwargs)
