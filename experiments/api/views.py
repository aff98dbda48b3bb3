from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from experiments.api.serializers import ExperimentSerializer
from experiments.filters import ExperimentFilterSet
from experiments.models import TrainingJob
from platform_site.api_docs import ERROR_RESPONSES, PAGE_HEADERS, PROJECT_PK
from projects.api.views import get_owned_project


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
)
class ExperimentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ExperimentSerializer
    filterset_class = ExperimentFilterSet
    queryset = TrainingJob.objects.none()  # for schema generation; see get_queryset

    def get_queryset(self):
        project = get_owned_project(self.request, self.kwargs["project_pk"])
        return TrainingJob.objects.for_project(project).newest_first()
