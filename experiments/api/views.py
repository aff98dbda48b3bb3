from functools import partial

from django.core.cache import caches
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.response import Response

from experiments import services
from experiments.api.serializers import (
    SPEC_FIELDS,
    ExperimentCreateSerializer,
    ExperimentDetailSerializer,
    ExperimentSerializer,
)
from experiments.filters import ExperimentFilterSet, requested_statuses
from experiments.models import TrainingJob
from platform_site.api_docs import ERROR_RESPONSES, EXPERIMENT_ID, PAGE_HEADERS, PROJECT_PK, ErrorSerializer
from platform_site.pagination import InvalidQueryParameter
from platform_site.renderers import JSONRenderer, RenderedJSON
from projects.api.views import get_owned_project

EXPERIMENT_NOT_FOUND = "Experiment not found"


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
    project_url_kwarg = "project_pk"
    filterset_class = ExperimentFilterSet
    keyset = TrainingJob.NEWEST_FIRST_KEYSET
    lookup_value_regex = "[^/]+"
    queryset = TrainingJob.objects.none()  # for schema generation; see get_queryset

    def get_serializer_class(self):
        serializers = {"list": ExperimentSerializer, "create": ExperimentCreateSerializer}
        return serializers.get(self.action, ExperimentDetailSerializer)

    def get_project(self):
        if not hasattr(self, "_project"):
            self._project = get_owned_project(self.request, self.kwargs[self.project_url_kwarg])
        return self._project

    def get_queryset(self):
        return TrainingJob.objects.for_project(self.get_project()).newest_first()

    def list(self, request, *args, **kwargs):
        project = self.get_project()  # a missing or foreign project is a 404 before the parameters are looked at
        try:
            statuses = requested_statuses(request.query_params)
        except InvalidQueryParameter as error:
            raise ValidationError({error.param: [error.message]}) from None
        # X-Total-Count from the maintained per-status counts (read by the paginator): no COUNT(*).
        self.total_rows = project.count_jobs(statuses)
        # Deep pages start from the right week of the maintained per-week counts (see paginate).
        self.seek = partial(project.seek_newest_first, statuses=statuses)
        # Plain rows of the listed columns: building model instances was the list's largest cost.
        # The queryset is only built if the page is not in the cache.
        page = self.paginator.page_of(
            lambda: self.get_queryset().with_status(statuses).values(*SPEC_FIELDS), request, view=self
        )
        # A page is read, serialized and rendered once per version of the project's experiments
        # (see Project.experiments_cache_key); times are rendered in the current time zone.
        key = project.experiments_cache_key(
            "api", ",".join(statuses), page.number, page.per_page, timezone.get_current_timezone_name()
        )
        body = caches["experiment_lists"].get_or_set(
            key, lambda: JSONRenderer().render(self.get_serializer(page.items, many=True).data)
        )
        return self.get_paginated_response(RenderedJSON(body))

    def get_object(self):
        jobs = TrainingJob.objects.for_project(self.get_project()).with_metrics()
        try:
            return jobs.get_by_raw_id(self.kwargs["pk"])
        except TrainingJob.DoesNotExist:
            raise NotFound(EXPERIMENT_NOT_FOUND) from None

    def create(self, request, *args, **kwargs):
        project = self.get_project()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            job = services.experiment_create(project=project, **serializer.validated_data)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(ExperimentDetailSerializer(job).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        try:
            services.experiment_cancel(job=self.get_object())
        except services.ExperimentConflict as error:
            raise Conflict(str(error)) from None
        return Response(ExperimentDetailSerializer(self.get_object()).data)
