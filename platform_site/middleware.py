from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from platform_site.api_errors import error_response

TIMEZONE_COOKIE = "tz"


class UserTimezoneMiddleware:
    """Shows dates in the browser's time zone.

    static/js/site.js stores the browser's IANA zone in a cookie; without
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


class RequestBodyLimitMiddleware:
    """Refuses a request whose declared body exceeds MAX_REQUEST_BODY_BYTES with 413.

    Django limits form bodies (DATA_UPLOAD_MAX_MEMORY_SIZE), but DRF's parsers
    read JSON straight from the stream without a limit; this covers both,
    before anything reads the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, _("The Content-Length header is not a number."))
        if length > limit:
            message = _("The request body is too large (%(length)d bytes; at most %(limit)d).")
            return error_response(request, 413, message % {"length": length, "limit": limit})
        return self.get_response(request)
