from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from experiments import run_files
from experiments.selectors import get_owned_experiment_or_404
from platform_site.api_docs import ERROR_RESPONSES, PROJECT_PK, ErrorSerializer
from serving import selectors, services
from serving.api.serializers import (
    ExportSerializer,
    PredictionImageSerializer,
    PredictionSerializer,
    PredictionValImageSerializer,
)
from serving.models import Export, Prediction

EXPERIMENT_PK = OpenApiParameter("experiment_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Experiment id.")
FORMAT = OpenApiParameter("export_format", {"type": "string", "enum": Export.Format.values}, OpenApiParameter.PATH)
PREDICTION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Prediction id.")
NOT_READY = OpenApiResponse(ErrorSerializer, description="Not a completed experiment with stored best weights")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class ExperimentScoped:
    """Everything here hangs off one of the user's experiments: a foreign or missing one is a 404."""

    lookup_value_regex = "[^/]+"

    def get_experiment(self):
        return get_owned_experiment_or_404(self.request.user, self.kwargs["project_pk"], self.kwargs["experiment_pk"])


@extend_schema_view(
    list=extend_schema(
        summary="An experiment's exports (ONNX, TorchScript) and how each was verified",
        parameters=[PROJECT_PK, EXPERIMENT_PK],
        responses={200: ExportSerializer(many=True), **ERROR_RESPONSES},
    ),
    create=extend_schema(
        summary="Export the best weights to ONNX and TorchScript, and verify both against PyTorch",
        description="Queued for a worker; each export ends verified (offered for download) or failed, with "
        "its figures either way.",
        parameters=[PROJECT_PK, EXPERIMENT_PK],
        request=None,
        responses={202: ExportSerializer(many=True), 409: NOT_READY, **ERROR_RESPONSES},
    ),
    file=extend_schema(
        summary="Download a verified export",
        parameters=[PROJECT_PK, EXPERIMENT_PK, FORMAT],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERROR_RESPONSES},
    ),
)
class ExportViewSet(ExperimentScoped, viewsets.GenericViewSet):
    serializer_class = ExportSerializer
    pagination_class = None
    filter_backends = []
    queryset = Export.objects.none()

    def list(self, request, *args, **kwargs):
        return Response(ExportSerializer(selectors.exports_of(self.get_experiment()), many=True).data)

    def create(self, request, *args, **kwargs):
        try:
            exports = services.exports_request(job=self.get_experiment())
        except services.ServingConflict as error:
            raise Conflict(str(error)) from None
        return Response(ExportSerializer(exports, many=True).data, status=status.HTTP_202_ACCEPTED)

    # Not "format": DRF reads a URL's "format" as the response's format suffix.
    @action(detail=False, methods=["get"], url_path="(?P<export_format>[^/]+)/file")
    def file(self, request, *args, **kwargs):
        export = selectors.verified_export(self.get_experiment(), kwargs["export_format"])
        return run_files.stored_response(
            export.storage_name, filename=f"experiment-{export.job_id}-model.{export.format}"
        )


@extend_schema_view(
    create=extend_schema(
        summary="Try the model on an image: queued for an inference worker",
        description="Multipart `image`, or JSON `val_image` (an index into the experiment's validation images). "
        "The result arrives as a prediction_ready event on the project's WebSocket; then GET it.",
        parameters=[PROJECT_PK, EXPERIMENT_PK],
        request={"multipart/form-data": PredictionImageSerializer, "application/json": PredictionValImageSerializer},
        responses={202: PredictionSerializer, 409: NOT_READY, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One prediction: top-5 classes, or detections with their boxes",
        parameters=[PROJECT_PK, EXPERIMENT_PK, PREDICTION_ID],
        responses={200: PredictionSerializer, **ERROR_RESPONSES},
    ),
    image=extend_schema(
        summary="The image with what the model found drawn on it (PNG)",
        parameters=[PROJECT_PK, EXPERIMENT_PK, PREDICTION_ID],
        responses={(200, "image/png"): OpenApiTypes.BINARY, **ERROR_RESPONSES},
    ),
)
class PredictionViewSet(ExperimentScoped, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PredictionSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    pagination_class = None
    filter_backends = []
    queryset = Prediction.objects.none()

    def get_object(self):
        return selectors.prediction_of(self.get_experiment(), self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        job = self.get_experiment()
        is_json = request.content_type.startswith("application/json")
        serializer = (PredictionValImageSerializer if is_json else PredictionImageSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            prediction = services.prediction_create(job=job, **serializer.validated_data)
        except services.ServingConflict as error:
            raise Conflict(str(error)) from None
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(PredictionSerializer(prediction).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["get"])
    def image(self, request, *args, **kwargs):
        prediction = self.get_object()
        name = (prediction.result or {}).get("image")
        if not name:
            raise Http404("No image yet")
        return run_files.stored_response(name, content_type="image/png")
