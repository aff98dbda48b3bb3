"""Shared OpenAPI pieces: the error body and the paging headers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Validation errors by parameter or field name.",
        ),
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid query parameter or body field"),
    401: OpenApiResponse(ErrorSerializer, description="Missing, expired or invalid token"),
    404: OpenApiResponse(ErrorSerializer, description="Not found (also when it belongs to someone else)"),
}

PROJECT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Project id.")
EXPERIMENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Experiment id.")
PROJECT_PK = OpenApiParameter("project_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Project id.")
COMPARED_IDS = OpenApiParameter(
    "ids",
    {"type": "string", "pattern": r"^[0-9]+(,[0-9]+){0,19}$"},
    OpenApiParameter.QUERY,
    required=True,
    description="Experiment ids, e.g. 3,7,9 (up to 20).",
)

FILE_NAME = OpenApiParameter(
    "name",
    {"type": "string", "enum": ["best.pt", "last.pt", "train.log", "config.json", "metrics.csv", "bundle.zip"]},
    OpenApiParameter.PATH,
    description="Which of the run's files.",
)
STARTING_WEIGHTS_PARAMETERS = [
    OpenApiParameter("framework", {"type": "string", "enum": ["timm", "ultralytics"]}, required=True),
    OpenApiParameter(
        "model_name",
        {"type": "string", "minLength": 1, "maxLength": 200},
        required=True,
        description="e.g. resnet18, yolo11n.",
    ),
]

PAGE_HEADERS = [
    OpenApiParameter(
        "X-Total-Count",
        OpenApiTypes.INT,
        location=OpenApiParameter.HEADER,
        response=[200],
        description="Number of items across all pages.",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        location=OpenApiParameter.HEADER,
        response=[200],
        description='RFC 8288 links: rel="first", "prev", "next", "last".',
    ),
]


def document_paths_without_trailing_slash(endpoints, **kwargs):
    """Every API path accepts an optional trailing slash; document the canonical form (docs/api.md)."""
    return [(path.rstrip("/"), regex, method, callback) for path, regex, method, callback in endpoints]


PAGING_PARAMETERS = {"page", "per_page"}


def empty_filters_mean_not_given(result, **kwargs):
    """Say that an optional filter sent empty (?task=, as a submitted page form sends it) is no filter.

    django-filter reads it so; paging parameters are the exception, and answer 400 when empty.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("required")
                    and parameter["name"] not in PAGING_PARAMETERS
                ):
                    parameter["allowEmptyValue"] = True
    return result


def text_filters_have_no_nul(result, **kwargs):
    """Say that a text filter may not hold a NUL character: Django's form fields answer 400 to one."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if (
                    parameter.get("in") == "query"
                    and schema.get("type") == "string"
                    and not ({"pattern", "enum", "format"} & schema.keys())
                ):
                    schema["pattern"] = r"^[^\x00]*$"
    return result


class JSONErrorsMixin:
    """An error under /api/ has the API's one JSON shape, on the views that answer YAML or HTML too."""

    def handle_exception(self, exc):
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)


class SchemaView(JSONErrorsMixin, SpectacularAPIView):
    pass


class SwaggerUIView(JSONErrorsMixin, SpectacularSwaggerSplitView):
    """Swagger UI with no inline script or style: our Content-Security-Policy allows neither."""

    template_name = "api_docs.html"
    http_method_names = ["get", "head"]  # OPTIONS would render DRF's metadata with the HTML template
