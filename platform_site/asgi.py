"""ASGI entry point: HTTP through Django's WSGI handler, WebSockets through Channels.

HTTP goes through the WSGI handler on the event loop's thread pool rather
than Django's ASGI handler: our views are synchronous, and the ASGI handler
runs each request in a fresh thread, so every request would open a new
database connection (Django's persistent connections do not work under it).
Pool threads are reused, and so are their connections (CONN_MAX_AGE, checked
before reuse by CONN_HEALTH_CHECKS).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
django_wsgi_app = get_wsgi_application()

from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from asgiref.sync import sync_to_async  # noqa: E402
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance  # noqa: E402
from channels.auth import AuthMiddlewareStack  # noqa: E402 (needs the apps loaded)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from experiments.consumers import BrowserOriginValidator, JWTAuthMiddleware  # noqa: E402
from experiments.routing import websocket_urlpatterns  # noqa: E402

HTTP_THREADS = ThreadPoolExecutor(max_workers=settings.HTTP_THREADS, thread_name_prefix="http")


class PooledWsgiInstance(WsgiToAsgiInstance):
    # asgiref would run WSGI apps "thread-sensitive", sharing one thread with
    # Channels' database calls and their contexts; ours get their own threads.
    run_wsgi_app = sync_to_async(
        WsgiToAsgiInstance.__dict__["run_wsgi_app"].func, thread_sensitive=False, executor=HTTP_THREADS
    )


class PooledWsgiToAsgi(WsgiToAsgi):
    async def __call__(self, scope, receive, send):
        await PooledWsgiInstance(self.wsgi_application, self.duplicate_header_limit)(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": PooledWsgiToAsgi(django_wsgi_app),
        "websocket": BrowserOriginValidator(AuthMiddlewareStack(JWTAuthMiddleware(URLRouter(websocket_urlpatterns)))),
    }
)
