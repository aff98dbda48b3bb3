from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    """django.contrib.admin, on PlatformAdminSite (its sign-in shares the sign-in rate limit)."""

    default_site = "platform_site.admin_site.PlatformAdminSite"
