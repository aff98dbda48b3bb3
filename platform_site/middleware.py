import asyncio
import io
import re
import time
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.utils import timezone, translation
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
    before anything reads the body. Under ASGI, RequestBodyLimit (below) has
    already refused such a request before Django read it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, _("The Content-Length header is not a number."))
        if length > body_limit(request.path):
            return body_too_large(request, length)
        return self.get_response(request)


# Where dataset archives are uploaded: the API and the Datasets page.
UPLOAD_PATHS = re.compile(r"^/(api/v1/datasets|datasets/upload)/?$")


# Where "try it" images are sent: the API and the experiment page.
PREDICTION_PATHS = re.compile(r"^/(api/v1/)?projects/[^/]+/experiments/[^/]+/predictions/?$")


def body_limit(path: str) -> int:
    """The largest body a request to `path` may send: MAX_DATASET_UPLOAD_BYTES for uploads, and for "try it"
    MAX_PREDICTION_IMAGE_BYTES with MAX_REQUEST_BODY_BYTES for the form around the image."""
    if UPLOAD_PATHS.match(path):
        return settings.MAX_DATASET_UPLOAD_BYTES
    if PREDICTION_PATHS.match(path):
        return settings.MAX_PREDICTION_IMAGE_BYTES + settings.MAX_REQUEST_BODY_BYTES
    return settings.MAX_REQUEST_BODY_BYTES


def body_too_large(request, length: int | None):
    limit = body_limit(request.path)
    if length is None:
        message = _("The request body is too large (at most %(limit)d bytes).") % {"limit": limit}
    else:
        message = _("The request body is too large (%(length)d bytes; at most %(limit)d).") % {
            "length": length,
            "limit": limit,
        }
    return error_response(request, 413, message)


class BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    """ASGI middleware: refuses a body over MAX_REQUEST_BODY_BYTES with 413 before Django reads it.

    Django's ASGI handler reads the whole body, spooling it to a temporary file,
    before any Django middleware runs; a client could fill the disk. So a
    declared Content-Length over the limit is refused at once, and a body sent
    without one (chunked) as soon as what arrived passes the limit.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _send_refusal(scope, receive, send, int(declared))
        received = 0

        async def receive_within_limit():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, receive_within_limit, send)
        except BodyTooLarge:
            await _send_refusal(scope, receive, send, None)


# After the 413 is sent, what the client still sends is read and dropped, up to these bounds: a client
# that sends its whole body before reading the answer then reads it instead of a reset connection.
DISCARD_BYTES = 16 * 1024 * 1024
DISCARD_SECONDS = 5


async def _send_refusal(scope, receive, send, length: int | None) -> None:
    request = ASGIRequest(scope, io.BytesIO())
    with translation.override(translation.get_language_from_request(request)):
        response = body_too_large(request, length)
    response["Connection"] = "close"
    response["Content-Length"] = str(len(response.content))
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content, "more_body": True})
    discarded, deadline = 0, time.monotonic() + DISCARD_SECONDS
    while discarded < DISCARD_BYTES:
        try:
            message = await asyncio.wait_for(receive(), deadline - time.monotonic())
        except TimeoutError:
            break
        discarded += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.body", "body": b""})
