from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

TIMEZONE_COOKIE = "tz"


class UserTimezoneMiddleware:
    """Shows dates in the browser's time zone.

    static/js/timezone.js stores the browser's IANA zone in a cookie; without
    it (or with an unknown zone) dates are shown in settings.TIME_ZONE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = _parse_zone(unquote(request.COOKIES.get(TIMEZONE_COOKIE, "")))
        if zone:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


def _parse_zone(name: str) -> ZoneInfo | None:
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
