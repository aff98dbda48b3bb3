from django.urls import re_path

from experiments import views

PROJECT = r"^projects/(?P<project_id>[^/]+)/experiments"
EXPERIMENT = PROJECT + r"/(?P<experiment_id>[^/]+)"

urlpatterns = [
    re_path(PROJECT + r"/new/?$", views.experiment_new, name="experiment_new"),
    re_path(EXPERIMENT + r"/?$", views.experiment_detail, name="experiment_detail"),
    re_path(EXPERIMENT + r"/panel/?$", views.experiment_panel, name="experiment_panel"),
    re_path(EXPERIMENT + r"/row/?$", views.experiment_row, name="experiment_row"),
    re_path(EXPERIMENT + r"/cancel/?$", views.experiment_cancel, name="experiment_cancel"),
]
