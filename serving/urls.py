from django.urls import re_path

from serving import views

EXPERIMENT = r"^projects/(?P<project_id>[^/]+)/experiments/(?P<experiment_id>[^/]+)"

urlpatterns = [
    re_path(EXPERIMENT + r"/exports/?$", views.exports_request, name="exports_request"),
    re_path(EXPERIMENT + r"/exports/(?P<export_format>[^/]+)$", views.export_file, name="export_file"),
    re_path(EXPERIMENT + r"/predictions/?$", views.prediction_create, name="prediction_create"),
    re_path(
        EXPERIMENT + r"/predictions/(?P<prediction_id>[^/]+)/image$", views.prediction_image, name="prediction_image"
    ),  # fmt: skip
]
