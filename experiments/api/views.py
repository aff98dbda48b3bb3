from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from experiments import run_files, selectors, services
from experiments.api.serializers import (
    ComparisonSerializer,
    ExperimentCreateSerializer,
    ExperimentDescribeSerializer,
    ExperimentDetailSerializer,
    ExperimentSerializer,
    StartingWeightsSerializer,
)
from experiments.filters import ExperimentFilterSet
from experiments.models import TrainingJob
from experiments.selectors import experiment_list, get_owned_experiment_or_404
from platform_site.api_docs import (
    COMPARED_IDS,
    ERROR_RESPONSES,
    EXPERIMENT_ID,
    FILE_NAME,
    PAGE_HEADERS,
    PROJECT_ID,
    PROJECT_PK,
    STARTING_WEIGHTS_PARAMETERS,
    ErrorSerializer,
)
from projects.api.views import ProjectViewSet as BaseProjectViewSet
from projects.models import get_owned_project_or_404


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


@extend_schema_view(
    list=extend_schema(
        summary="A project's experiments, newest first",
        description=(
            "The body is a JSON array. Paging metadata is in the X-Total-Count and "
            "Link headers; a page past the end is an empty array."
        ),
        parameters=[PROJECT_PK, *PAGE_HEADERS],
        responses={200: ExperimentSerializer(many=True), **ERROR_RESPONSES},
    ),
    create=extend_schema(
        summary="Start a new experiment (queued as pending)",
        parameters=[PROJECT_PK],
        request=ExperimentCreateSerializer,
        responses={201: ExperimentDetailSerializer, **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One experiment with its progress and per-epoch metrics",
        parameters=[PROJECT_PK, EXPERIMENT_ID],
        responses={200: ExperimentDetailSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Name an experiment or add a note to it",
        parameters=[PROJECT_PK, EXPERIMENT_ID],
        request=ExperimentDescribeSerializer,
        responses={200: ExperimentDetailSerializer, **ERROR_RESPONSES},
    ),
    destroy=extend_schema(
        summary="Delete a finished experiment, its metrics and its run folder",
        parameters=[PROJECT_PK, EXPERIMENT_ID],
        responses={
            204: None,
            409: OpenApiResponse(ErrorSerializer, description="Pending or running: cancel it first"),
            **ERROR_RESPONSES,
        },
    ),
    compare=extend_schema(
        summary="Several experiments side by side: curves, parameters, best epochs",
        description=(
            "ids: up to 20 experiment ids of the project, comma-separated, in the order to show them. "
            "An id that is missing, malformed or in another project answers 404 like a missing experiment."
        ),
        parameters=[PROJECT_PK, COMPARED_IDS],
        responses={200: ComparisonSerializer, **ERROR_RESPONSES},
    ),
    file=extend_schema(
        summary="Download one of the run's files: best.pt, last.pt, train.log, config.json, metrics.csv, bundle.zip",
        description="Streamed as an attachment; X-Checksum-SHA256 and the ETag carry its SHA-256.",
        parameters=[PROJECT_PK, EXPERIMENT_ID, FILE_NAME],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERROR_RESPONSES},
    ),
    resume=extend_schema(
        summary="Resume a cancelled run, or one whose worker was lost, from its last checkpoint",
        description="It is queued again as pending and goes on in the same experiment, with its epochs so far.",
        parameters=[PROJECT_PK, EXPERIMENT_ID],
        request=None,
        responses={
            200: ExperimentDetailSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Not resumable, or no checkpoint was stored"),
            **ERROR_RESPONSES,
        },
    ),
    starting_weights=extend_schema(
        summary="What a new experiment of a model can start from: pretrained weights, earlier runs",
        parameters=[PROJECT_PK, *STARTING_WEIGHTS_PARAMETERS],
        responses={200: StartingWeightsSerializer, **ERROR_RESPONSES},
    ),
    cancel=extend_schema(
        summary="Cancel a pending or running experiment",
        description=(
            "A pending experiment is cancelled at once. A running one stops within about two "
            "seconds (cancel_requested is true until then) and keeps its metrics so far."
        ),
        parameters=[PROJECT_PK, EXPERIMENT_ID],
        request=None,
        responses={
            200: ExperimentDetailSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Already completed, failed or cancelled"),
            **ERROR_RESPONSES,
        },
    ),
)
class ExperimentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = ExperimentFilterSet  # documents the status parameter; experiment_list() applies it
    lookup_value_regex = "[^/]+"
    queryset = TrainingJob.objects.none()  # for schema generation: every request reads through the selectors

    def get_serializer_class(self):
        serializers = {
            "list": ExperimentSerializer,
            "create": ExperimentCreateSerializer,
            "partial_update": ExperimentDescribeSerializer,
        }
        return serializers.get(self.action, ExperimentDetailSerializer)

    def get_project(self):
        return get_owned_project_or_404(self.request.user, self.kwargs["project_pk"])

    def get_object(self):
        return get_owned_experiment_or_404(self.request.user, self.kwargs["project_pk"], self.kwargs["pk"])

    def list(self, request, *args, **kwargs):
        try:
            experiments = experiment_list(request.user, self.kwargs["project_pk"], request.query_params)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        page = self.paginator.paginate_queryset(experiments.jobs, request, view=self, count=experiments.total)
        return self.paginator.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        project = self.get_project()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            job = services.experiment_create(project=project, **serializer.validated_data)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(ExperimentDetailSerializer(job).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        job = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:  # an empty PATCH changes nothing
            job = services.experiment_describe(job=job, **serializer.validated_data)
        return Response(ExperimentDetailSerializer(job).data)

    def destroy(self, request, *args, **kwargs):
        try:
            services.experiment_delete(job=self.get_object())
        except services.ExperimentConflict as error:
            raise Conflict(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def compare(self, request, *args, **kwargs):
        project = self.get_project()
        try:
            comparison = selectors.compare(project, request.query_params.get("ids", ""))
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(ComparisonSerializer(comparison).data)

    @action(detail=True, methods=["get"], url_path="files/(?P<name>[^/]+)", filterset_class=None)
    def file(self, request, *args, **kwargs):
        return run_files.download(self.get_object(), kwargs["name"])

    @action(detail=True, methods=["post"])
    def resume(self, request, *args, **kwargs):
        try:
            job = services.experiment_resume(job=self.get_object())
        except services.ExperimentConflict as error:
            raise Conflict(str(error)) from None
        return Response(ExperimentDetailSerializer(job).data)

    @action(detail=False, methods=["get"], url_path="starting-weights", filterset_class=None, pagination_class=None)
    def starting_weights(self, request, *args, **kwargs):
        self.get_project()
        framework = request.query_params.get("framework", "")
        model_name = request.query_params.get("model_name", "")
        if framework not in TrainingJob.Framework.values:
            raise ValidationError({"framework": [f"Choose one of: {', '.join(TrainingJob.Framework.values)}."]})
        if not model_name or len(model_name) > 200 or "\x00" in model_name:
            raise ValidationError({"model_name": ["Give the model's name (at most 200 characters)."]})
        return Response(StartingWeightsSerializer(selectors.starting_weights(request.user, framework, model_name)).data)

    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        try:
            job = services.experiment_cancel(job=self.get_object())
        except services.ExperimentConflict as error:
            raise Conflict(str(error)) from None
        return Response(ExperimentDetailSerializer(job).data)


@extend_schema_view(
    destroy=extend_schema(
        summary="Delete a project and its experiments",
        parameters=[PROJECT_ID],
        responses={
            204: None,
            409: OpenApiResponse(ErrorSerializer, description="Some of its experiments are pending or running"),
            **ERROR_RESPONSES,
        },
    ),
)
class ProjectViewSet(mixins.DestroyModelMixin, BaseProjectViewSet):
    def perform_destroy(self, project):
        try:
            services.project_delete(project=project)
        except services.ExperimentConflict as error:
            raise Conflict(str(error)) from None
