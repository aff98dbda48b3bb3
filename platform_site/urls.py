from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from experiments.api.views import ExperimentViewSet
from platform_site import api_views
from projects.api.views import ProjectViewSet


# "/?": every API path works with and without a trailing slash, without a
# redirect (a redirect drops the Authorization header in many clients).
class OptionalSlashRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[^/]+)/experiments", ExperimentViewSet, basename="experiment")

api_v1 = [
    re_path(r"^auth/token/?$", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    re_path(r"^auth/token/refresh/?$", TokenRefreshView.as_view(), name="token_refresh"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^me/?$", api_views.me, name="me"),
    *router.urls,
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard", permanent=False)),
    path("api/v1/", include(api_v1)),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("projects.urls")),
    path("", include("experiments.urls")),
]

handler404 = "platform_site.api_errors.api_not_found"
handler500 = "platform_site.api_errors.api_server_error"
