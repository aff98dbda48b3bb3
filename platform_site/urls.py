from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from rest_framework.routers import SimpleRouter

from datasets.api.views import DatasetVersionViewSet, DatasetViewSet
from experiments.api.views import ExperimentViewSet, ProjectViewSet
from platform_site import api_docs, api_views
from platform_site.throttling import RateLimitedLoginView
from serving.api.views import ExportViewSet, PredictionViewSet


# "/?": every API path works with and without a trailing slash, without a
# redirect (a redirect drops the Authorization header in many clients).
class OptionalSlashRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[^/]+)/experiments", ExperimentViewSet, basename="experiment")
router.register(r"projects/(?P<project_pk>[^/]+)/experiments/(?P<experiment_pk>[^/]+)/exports", ExportViewSet,
                basename="export")  # fmt: skip
router.register(r"projects/(?P<project_pk>[^/]+)/experiments/(?P<experiment_pk>[^/]+)/predictions", PredictionViewSet,
                basename="prediction")  # fmt: skip
router.register("datasets", DatasetViewSet, basename="dataset")
router.register("dataset-versions", DatasetVersionViewSet, basename="dataset-version")

api_v1 = [
    re_path(r"^auth/token/?$", api_views.TokenObtainView.as_view(), name="token_obtain_pair"),
    re_path(r"^auth/token/refresh/?$", api_views.TokenRefreshView.as_view(), name="token_refresh"),
    re_path(r"^schema/?$", api_docs.SchemaView.as_view(), name="schema"),
    re_path(r"^me/?$", api_views.me, name="me"),
    *router.urls,
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("api/v1/", include(api_v1)),
    re_path(r"^api/docs/?$", api_docs.SwaggerUIView.as_view(url_name="schema"), name="swagger-ui"),
    # Sign in and out only: password reset needs e-mail, which the platform does not send.
    path("accounts/login/", RateLimitedLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("datasets.urls")),
    path("", include("experiments.urls")),
    path("", include("serving.urls")),
]

handler400 = "platform_site.api_errors.api_bad_request"
handler403 = "platform_site.api_errors.api_permission_denied"
handler404 = "platform_site.api_errors.api_not_found"
handler500 = "platform_site.api_errors.api_server_error"
