from django.urls import re_path

from experiments.consumers import ProjectConsumer

websocket_urlpatterns = [
    re_path(r"^ws/projects/(?P<project_id>[^/]+)/?$", ProjectConsumer.as_asgi()),
]
