from django.conf import settings
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_ID = 2**63 - 1
PROJECT_NOT_FOUND = "Project not found"


def parse_id(raw) -> int | None:
    """An id from a URL, or None when it cannot name a row (not a number, out of range)."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ProjectQuerySet":
        """Only `user`'s projects: every read of a project starts here, so another user's is simply not found."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def newest_first(self) -> "ProjectQuerySet":
        return self.order_by("-created_at", "-id")


class Project(models.Model):
    """A user's project: a named group of training experiments."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="projects",
        db_column="user_id",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        db_table = "projects"
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        indexes = [models.Index(fields=["owner", "-created_at", "-id"], name="project_owner_created_idx")]

    def __str__(self):
        return self.name


def get_owned_project_or_404(user, project_id) -> Project:
    """One of `user`'s projects, `project_id` as it came in the URL.

    Http404 ("Project not found") whether the project is missing, someone
    else's, or the id is malformed: the three cannot be told apart. The API,
    the pages and the WebSocket consumer all fetch a project through this.
    """
    try:
        return Project.objects.owned_by(user).get(pk=parse_id(project_id))
    except Project.DoesNotExist:
        raise Http404(PROJECT_NOT_FOUND) from None
