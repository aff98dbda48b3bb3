from django.urls import re_path

from datasets import views

DATASET = r"^datasets/(?P<dataset_id>[^/]+)"
VERSION = r"^datasets/versions/(?P<version_id>[^/]+)"

urlpatterns = [
    re_path(r"^datasets/?$", views.dataset_list, name="dataset_list"),
    re_path(r"^datasets/upload/?$", views.dataset_upload, name="dataset_upload"),
    re_path(VERSION + r"/?$", views.version_detail, name="version_detail"),
    re_path(VERSION + r"/fix/?$", views.version_fix, name="version_fix"),
    re_path(VERSION + r"/previews/(?P<index>[^/]+)/?$", views.version_preview, name="version_preview"),
    re_path(VERSION + r"/delete/?$", views.version_delete, name="version_delete"),
    re_path(DATASET + r"/?$", views.dataset_detail, name="dataset_detail"),
    re_path(DATASET + r"/delete/?$", views.dataset_delete, name="dataset_delete"),
]
