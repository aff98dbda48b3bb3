from django.http import Http404

from experiments.live import project_group
from live.consumers import GroupConsumer
from projects.models import get_owned_project_or_404


class ProjectConsumer(GroupConsumer):
    """/ws/projects/<id>: the live events of one of the user's projects.

    Sends {"type": "training_progress", "experiment_id", "epoch", "epochs",
    "progress", "loss", "accuracy"}, {"type": "status_changed", ...} and
    {"type": "experiment_created", ...}. Anyone but the owner is refused with
    the same close code (4404, the WebSocket twin of the API's 404) whether
    the project exists or not.
    """

    refused_code = 4404

    def subscribe(self, user):
        try:
            project = get_owned_project_or_404(user, self.scope["url_route"]["kwargs"]["project_id"])
        except Http404:
            return None
        return project_group(project.id), {"type": "subscribed", "project_id": project.id}
