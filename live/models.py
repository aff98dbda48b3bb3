from django.db import models
from django.utils import timezone


class Event(models.Model):
    """A committed change that live pages follow, in order: the feed the database relay reads.

    Whoever makes a change records its event in the same transaction, so a web
    process that relays from the database never shows a change that did not
    happen, and never misses one. `group` names who may follow it (one
    project's experiments, one user's datasets).
    """

    group = models.CharField(max_length=100)
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "live_events"

    def __str__(self):
        return f"{self.type} to {self.group}"

    def message(self) -> dict:
        return {"type": self.type, "event_id": self.id, "at": self.created_at.isoformat(), **self.payload}
