from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from platform_site.api_docs import ERROR_RESPONSES, PAGE_HEADERS, PROJECT_ID
from platform_site.parsers import SafeJSONParser
from projects.api.serializers import ProjectSerializer
from projects.models import Project, get_owned_project_or_404


@extend_schema_view(
    list=extend_schema(
        summary="The caller's projects, newest first",
        parameters=PAGE_HEADERS,
        responses={200: ProjectSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One of the caller's projects",
        parameters=[PROJECT_ID],
        responses={200: ProjectSerializer, **ERROR_RESPONSES},
    ),
    create=extend_schema(summary="Create a project", responses={201: ProjectSerializer, **ERROR_RESPONSES}),
    update=extend_schema(
        summary="Rename or describe a project",
        parameters=[PROJECT_ID],
        responses={200: ProjectSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Rename or describe a project",
        parameters=[PROJECT_ID],
        responses={200: ProjectSerializer, **ERROR_RESPONSES},
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's projects. Deleting one is added by the experiments app, which knows what runs in it."""

    serializer_class = ProjectSerializer
    lookup_value_regex = "[^/]+"
    # JSON only: a form body that parses to nothing would be an empty, accepted PATCH.
    parser_classes = [SafeJSONParser]

    def get_queryset(self):
        return Project.objects.owned_by(self.request.user).newest_first()

    def get_object(self):
        return get_owned_project_or_404(self.request.user, self.kwargs["pk"])

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
