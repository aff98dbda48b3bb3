from django.urls import re_path

from projects import views

urlpatterns = [
    re_path(r"^dashboard/?$", views.dashboard, name="dashboard"),
    re_path(r"^projects/(?P<project_id>[^/]+)/?$", views.project_detail, name="project_detail"),
    re_path(r"^projects/(?P<project_id>[^/]+)/section/?$", views.project_section, name="project_section"),
]
