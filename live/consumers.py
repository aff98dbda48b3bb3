import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from live.events import DatabaseRelay


class GroupConsumer(AsyncJsonWebsocketConsumer):
    """A WebSocket that follows one group of live events.

    Subclasses say which in subscribe(user): the group and the first message,
    or None to close the socket with refused_code. Answers {"type": "ping"}
    with {"type": "pong"}.
    """

    refused_code = 4404

    def subscribe(self, user) -> tuple[str, dict] | None:
        raise NotImplementedError

    async def connect(self):
        user = self.scope.get("user") or AnonymousUser()
        subscription = await database_sync_to_async(self.subscribe)(user)
        if subscription is None:
            await self.close(code=self.refused_code)
            return
        self.group, hello = subscription
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        DatabaseRelay.ensure_running()
        await self.send_json(hello)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Binary frames and text that is not a JSON object are ignored, not fatal to the connection.
        try:
            content = json.loads(text_data) if text_data else None
        except ValueError:
            content = None
        if isinstance(content, dict):
            await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def live_event(self, event):
        await self.send_json(event["message"])


class JWTAuthMiddleware:
    """Authenticates a WebSocket by a Bearer token (Authorization header or ?token=) when there is one."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        token = _token_from(scope)
        if token:
            scope = {**scope, "user": await _user_for_token(token)}
        return await self.inner(scope, receive, send)


def _token_from(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value.lower().startswith(b"bearer "):
            return value[7:].decode("latin-1").strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [None])[0]


@database_sync_to_async
def _user_for_token(token: str):
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.exceptions import TokenError

    auth = JWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(token.encode()))
    except (AuthenticationFailed, TokenError):  # InvalidToken is an AuthenticationFailed
        return AnonymousUser()


class BrowserOriginValidator(OriginValidator):
    """Refuses WebSockets opened by pages of other origins.

    Browsers always send Origin, and they are the only clients that carry a
    session cookie on their own; a client without Origin (a script with a
    JWT) is let through to the consumer, which still requires a user.
    """

    def __init__(self, application):
        super().__init__(application, [*settings.ALLOWED_HOSTS, *settings.CORS_ALLOWED_ORIGINS])

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or self.validate_origin(parsed_origin)
