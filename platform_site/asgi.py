"""ASGI entry point: HTTP through Django's ASGI handler (behind the body size limit), WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
django_asgi_app = get_asgi_application()  # loads the apps, which the imports below need

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from datasets.routing import websocket_urlpatterns as dataset_routes  # noqa: E402
from experiments.routing import websocket_urlpatterns as experiment_routes  # noqa: E402
from live.consumers import BrowserOriginValidator, JWTAuthMiddleware  # noqa: E402
from platform_site.middleware import RequestBodyLimit  # noqa: E402


class NoSuchRoute(AsyncWebsocketConsumer):
    """Any other WebSocket path: refused (a 403 handshake), as a missing page is, not a router error."""

    async def connect(self):
        await self.close()


websocket_routes = URLRouter([*experiment_routes, *dataset_routes, re_path(r"", NoSuchRoute.as_asgi())])
application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(JWTAuthMiddleware(websocket_routes))),
    }
)
