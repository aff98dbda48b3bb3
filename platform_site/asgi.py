"""ASGI entry point: HTTP through Django's WSGI handler, WebSockets through Channels.

HTTP goes through the WSGI handler on asgiref's thread pool rather than
Django's ASGI handler: our views are synchronous, and the ASGI handler runs
each request in a fresh thread, so every request would open a new database
connection (Django's persistent connections do not work under it). Pool
threads are reused, and so are their connections (CONN_MAX_AGE, checked
before reuse by CONN_HEALTH_CHECKS).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
django_wsgi_app = get_wsgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 (needs the apps loaded)
from asgiref.wsgi import WsgiToAsgi  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from experiments.consumers import BrowserOriginValidator, JWTAuthMiddleware  # noqa: E402
from experiments.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WsgiToAsgi(django_wsgi_app),
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(JWTAuthMiddleware(URLRouter(websocket_urlpatterns)))),
    }
)
