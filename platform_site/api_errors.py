"""One error shape for the whole API.

Every error body is {"detail": "<what went wrong>"}; validation errors add
"errors": {"<parameter or field>": ["<message>", ...]} and their detail names
the first problem.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler


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


def api_not_found(request, exception=None):
    """handler404 for paths that match no route: JSON under /api/, HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def api_server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)
