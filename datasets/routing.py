from django.urls import re_path

from datasets.consumers import DatasetsConsumer

websocket_urlpatterns = [
    re_path(r"^ws/datasets/?$", DatasetsConsumer.as_asgi()),
]
