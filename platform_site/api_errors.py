"""One error shape for the whole API.

Every error body is {"detail": "<what went wrong>"}; validation errors add
"errors": {"<parameter or field>": ["<message>", ...]} and their detail names
the first problem.
"""

import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler

from platform_site.database import drop_idle_connections


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        errors = _as_field_errors(response.data)
        field, messages = next(iter(errors.items()))
        response.data = {
            "detail": _("Invalid %(field)s: %(message)s") % {"field": field, "message": messages[0]},
            "errors": errors,
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail)}
    return response


def _as_field_errors(data) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])] for field, msgs in data.items()}
    return {"non_field_errors": [str(m) for m in data]}


def api_bad_request(request, exception=None):
    """handler400 (Django's own: too many parameters, a body too large for a form, ...): JSON under /api/."""
    if request.path.startswith("/api/"):
        message = str(exception) if isinstance(exception, TooManyFieldsSent | RequestDataTooBig) else "Bad request."
        return JsonResponse({"detail": message}, status=status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception)


def api_permission_denied(request, exception=None):
    """handler403: JSON under /api/, HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Permission denied."}, status=status.HTTP_403_FORBIDDEN)
    return defaults.permission_denied(request, exception)


def api_not_found(request, exception=None):
    """handler404 for paths that match no route: JSON under /api/, HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def error_response(request, status_code: int, message: str, retry_after: int | None = None):
    """An error outside a view: {"detail": message} under /api/, a plain page elsewhere.

    The page needs no database (it is also the answer when the database is down).
    """
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=status_code)
    else:
        html = render_to_string("error.html", {"status": status_code, "message": message})
        response = HttpResponse(html, status=status_code)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


DATABASE_RETRY_AFTER_SECONDS = 5


def api_server_error(request):
    """handler500. A lost database connection is a 503 the client can retry, not a server error."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        drop_idle_connections()
        message = _("The database is unavailable. Please try again in a few seconds.")
        return error_response(request, status.HTTP_503_SERVICE_UNAVAILABLE, message, DATABASE_RETRY_AFTER_SECONDS)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
