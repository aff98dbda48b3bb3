from datasets.live import owner_group
from live.consumers import GroupConsumer

# Close code for a socket without a signed-in user.
NOT_SIGNED_IN = 4401


class DatasetsConsumer(GroupConsumer):
    """/ws/datasets: the live events of the user's own datasets.

    Sends {"type": "check_progress", "version_id", "progress"} while a worker
    checks a version, then {"type": "version_checked", "version_id", "status",
    "findings"}.
    """

    refused_code = NOT_SIGNED_IN

    def subscribe(self, user):
        if not user.is_authenticated:
            return None
        return owner_group(user.pk), {"type": "subscribed"}
