from django.urls import re_path

from experiments import views

PROJECT = r"^projects/(?P<project_id>[^/]+)"
EXPERIMENT = PROJECT + r"/experiments/(?P<experiment_id>[^/]+)"

urlpatterns = [
    re_path(r"^dashboard/?$", views.dashboard, name="dashboard"),
    re_path(PROJECT + r"/?$", views.project_detail, name="project_detail"),
    re_path(PROJECT + r"/delete/?$", views.project_delete, name="project_delete"),
    re_path(PROJECT + r"/section/?$", views.project_section, name="project_section"),
    re_path(PROJECT + r"/compare/?$", views.experiment_compare, name="experiment_compare"),
    re_path(PROJECT + r"/compare/section/?$", views.experiment_compare_section, name="experiment_compare_section"),
    re_path(PROJECT + r"/experiments/new/?$", views.experiment_new, name="experiment_new"),
    re_path(EXPERIMENT + r"/?$", views.experiment_detail, name="experiment_detail"),
    re_path(EXPERIMENT + r"/panel/?$", views.experiment_panel, name="experiment_panel"),
    re_path(EXPERIMENT + r"/row/?$", views.experiment_row, name="experiment_row"),
    re_path(EXPERIMENT + r"/cancel/?$", views.experiment_cancel, name="experiment_cancel"),
    re_path(EXPERIMENT + r"/describe/?$", views.experiment_describe, name="experiment_describe"),
    re_path(EXPERIMENT + r"/delete/?$", views.experiment_delete, name="experiment_delete"),
    re_path(EXPERIMENT + r"/resume/?$", views.experiment_resume, name="experiment_resume"),
    re_path(EXPERIMENT + r"/files/(?P<name>[^/]+)$", views.experiment_file, name="experiment_file"),
]
