"""Live updates: every committed change that a page follows becomes an event.

Services record an Event in the same transaction as the change. How it
reaches the browsers' WebSockets depends on the deployment:

- with REDIS_URL, the process that made the change publishes it to the
  channel layer (Redis) right after commit: near-instant, any number of web
  and worker processes;
- without it (the embedded default), each web process runs a DatabaseRelay
  that reads new events every LIVE_RELAY_POLL_MS and publishes them to its
  own in-memory channel layer.
"""

import asyncio
import contextvars
import logging
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from live.models import Event

logger = logging.getLogger(__name__)


def record(group: str, event_type: str, payload: dict) -> Event:
    """Stores the event with the change; publishes it after commit when Redis carries events."""
    event = Event.objects.create(group=group, type=event_type, payload=payload)
    if settings.REDIS_URL:
        transaction.on_commit(lambda: publish(event))
    return event


def publish(event: Event) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(event.group, {"type": "live.event", "message": event.message()})
    except Exception:  # a live push must never break the change it reports; pages resync on reconnect
        logger.exception("Could not publish event %s", event.id)


def forget_before(cutoff: datetime) -> None:
    """Drops the events older than cutoff: a page that reconnects refetches what it shows."""
    Event.objects.filter(created_at__lt=cutoff).delete()


class DatabaseRelay:
    """Publishes committed events from the database to this process's channel layer.

    One per web process, started by the first WebSocket that connects.
    """

    _instance = None

    # On PostgreSQL ids are not committed in order: an event with a lower id can
    # become visible after a higher one. The relay therefore re-reads the last
    # few seconds of ids and remembers which it has already sent.
    SETTLE_SECONDS = 10

    def __init__(self):
        self.low_water = None
        self.sent: set[int] = set()
        self.task = None

    @classmethod
    def ensure_running(cls) -> None:
        if settings.REDIS_URL:
            return
        if cls._instance is None:
            cls._instance = cls()
        relay = cls._instance
        if relay.task is None or relay.task.done():
            # A fresh context: the relay outlives the connection that started it.
            relay.task = asyncio.get_running_loop().create_task(relay.run(), context=contextvars.Context())

    async def run(self) -> None:
        layer = get_channel_layer()
        interval = settings.LIVE_RELAY_POLL_MS / 1000
        if self.low_water is None:
            self.low_water = await database_sync_to_async(_latest_event_id)()
        while True:
            try:
                events = await database_sync_to_async(_events_after)(self.low_water)
                for event in events:
                    if event.id in self.sent:
                        continue
                    await layer.group_send(event.group, {"type": "live.event", "message": event.message()})
                    self.sent.add(event.id)
                settled = timezone.now() - timedelta(seconds=self.SETTLE_SECONDS)
                settled_ids = [e.id for e in events if e.created_at < settled]
                if settled_ids:
                    self.low_water = max(settled_ids)
                    self.sent = {i for i in self.sent if i > self.low_water}
            except Exception:
                logger.exception("Live relay failed; retrying")
            await asyncio.sleep(interval)


def _latest_event_id() -> int:
    latest = Event.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def _events_after(low_water: int) -> list[Event]:
    return list(Event.objects.filter(id__gt=low_water).order_by("id")[:1000])
