from django.contrib import admin

from platform_site.throttling import sign_in_refusal


class PlatformAdminSite(admin.AdminSite):
    """Django's admin, whose sign-in shares the sign-in rate limit (platform_site/throttling.py)."""

    def login(self, request, extra_context=None):
        if request.method == "POST" and (refusal := sign_in_refusal(request)):
            return refusal
        return super().login(request, extra_context)
