from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound

from platform_site.api_docs import ERROR_RESPONSES, PAGE_HEADERS, PROJECT_ID
from projects.api.serializers import ProjectSerializer
from projects.models import Project

PROJECT_NOT_FOUND = "Project not found"


def get_owned_project(request, raw_id) -> Project:
    """The caller's project, or the same 404 whether it is missing or someone else's."""
    owner = request.user  # authenticates first: ProjectJWTAuthentication may have read the project with the user
    read_with_user = getattr(request, "owned_projects", {})
    try:
        project = read_with_user[raw_id] if raw_id in read_with_user else Project.objects.get_owned(raw_id, owner)
    except Project.DoesNotExist:
        project = None
    if project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    return project


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
)
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    project_url_kwarg = "pk"
    serializer_class = ProjectSerializer
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Project.objects.owned_by(self.request.user).newest_first()

    def get_object(self):
        return get_owned_project(self.request, self.kwargs[self.project_url_kwarg])
