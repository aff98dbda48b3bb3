from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from projects.models import Project


class ProjectJWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's Bearer JWT authentication, which reads the project in the URL with the user.

    A view whose URL names one of the caller's projects (it says which
    parameter in `project_url_kwarg`) needs the user and the project on every
    request, and on PostgreSQL every query is a round trip to the server. This
    reads both in one query (Project.objects.read_owned) and leaves the
    project, or None when the caller has no such project, in
    `request.owned_projects` for get_owned_project(). Anywhere else it is
    simplejwt's own.

    The user is checked exactly as simplejwt checks it: a token whose user is
    missing or inactive is a 401, whatever the project. Where simplejwt is
    set to find users by another field, or to check each token against the
    user's password, this leaves the lookup to simplejwt.
    """

    def authenticate(self, request):
        self.request = request
        return super().authenticate(request)

    def get_user(self, validated_token):
        view = self.request.parser_context["view"]
        raw_id = view.kwargs.get(getattr(view, "project_url_kwarg", None))
        # read_owned() finds the user by id and loads only id and is_active.
        if raw_id is None or api_settings.USER_ID_FIELD != "id" or api_settings.CHECK_REVOKE_TOKEN:
            return super().get_user(validated_token)
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error

        user, project = Project.objects.read_owned(raw_id, user_id)
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        self.request.owned_projects = {raw_id: project}
        return user
