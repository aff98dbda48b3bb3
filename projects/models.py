from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_ID = 2**63 - 1


def parse_id(raw) -> int | None:
    """An id from a URL, or None when it cannot name a row (not a number, out of range)."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ProjectQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def newest_first(self) -> "ProjectQuerySet":
        return self.order_by("-created_at", "-id")

    def with_status_counts(self) -> "ProjectQuerySet":
        """Prefetches the maintained experiment counts per status (one query for all projects)."""
        return self.prefetch_related("status_count_rows")


# Every project request starts with ProjectManager.read_owned(). The ORM took longer to
# build this query (subqueries, or values across two reverse joins) than the rest of a
# cached list request; one row per status (a join) cost RawQuerySet a model instance each.
# The user's row comes first so that a user without such a project still gets a row.
OWNED_PROJECT_SQL = """
    SELECT users.id AS reader_id, users.is_active AS reader_is_active,
           projects.*,
           (SELECT number FROM experiment_list_versions WHERE project_id = projects.id) AS read_list_version,
           {counted}
    FROM {users} AS users
    LEFT JOIN projects ON projects.id = %s AND projects.user_id = users.id
    WHERE users.id = %s
"""
COUNTED = "(SELECT count FROM project_status_counts WHERE project_id = projects.id AND status = %s) AS counted_{}"


@cache
def owned_project_sql() -> tuple[str, tuple[str, ...]]:
    """OWNED_PROJECT_SQL with a counted_<i> column per status, and the statuses in that order."""
    from experiments.models import TrainingJob

    statuses = tuple(TrainingJob.Status.values)
    counted = ", ".join(COUNTED.format(index) for index in range(len(statuses)))
    users = get_user_model()._meta.db_table
    return OWNED_PROJECT_SQL.format(counted=counted, users=users), statuses


class ProjectManager(models.Manager.from_queryset(ProjectQuerySet)):
    def get_owned(self, raw_id, owner) -> "Project":
        """One of `owner`'s projects (`raw_id` from a URL), with its status_counts() and experiment list version.

        DoesNotExist whether it is missing or someone else's. One query: the
        project pages and the experiments list need all three on every request.
        The counts and the version are a snapshot taken with the row, as a
        prefetch would be. A manager method, not a queryset one: the SQL is
        written out, so it could not honour a queryset's filters.
        """
        if parse_id(raw_id) is None or not owner.is_authenticated:
            raise Project.DoesNotExist
        _, project = self.read_owned(raw_id, owner.pk)
        if project is None:
            raise Project.DoesNotExist
        return project

    def read_owned(self, raw_id, user_id) -> tuple[AbstractBaseUser | None, "Project | None"]:
        """The user `user_id`, and their project `raw_id` as get_owned() reads it, in one query.

        For authentication that knows only the user's id (a JWT): (None, None)
        when there is no such user, (user, None) when they have no such project.
        The user has only `id` and `is_active` loaded; any other field is read
        from the database when first used.
        """
        sql, statuses = owned_project_sql()
        found = list(self.raw(sql, [*statuses, parse_id(raw_id), parse_id(user_id)]))
        if not found:
            return None, None
        row = found[0]
        reader = get_user_model().from_db(self.db, ["id", "is_active"], [row.reader_id, bool(row.reader_is_active)])
        if row.pk is None:  # the LEFT JOIN found no project
            return reader, None
        # A status the project has never had has no row: NULL, which status_counts() reads as 0.
        counts = {status: getattr(row, f"counted_{index}") for index, status in enumerate(statuses)}
        row.read_status_counts = {status: count for status, count in counts.items() if count is not None}
        return reader, row


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

    objects = ProjectManager()

    class Meta:
        db_table = "projects"
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        indexes = [models.Index(fields=["owner", "-created_at", "-id"], name="project_owner_created_idx")]

    def __str__(self):
        return self.name

    def status_counts(self) -> dict[str, int]:
        """{status: number of experiments} for every status, zeros included.

        Read from project_status_counts, which triggers keep exact, so it costs
        one tiny query (none after with_status_counts() or get_owned()) however many
        experiments the project has.
        """
        from experiments.models import TrainingJob

        counts = dict.fromkeys(TrainingJob.Status.values, 0)
        read = getattr(self, "read_status_counts", None)  # from get_owned()
        if read is None:
            read = {row.status: row.count for row in self.status_count_rows.all()}
        counts.update(read)
        return counts

    def experiments_cache_key(self, *parts) -> str:
        """A cache key for something made from this project's experiments (a page of the list, say).

        It names the project's experiment list version, which triggers renew on
        every change to the experiments or their metrics: a later change gives a
        new key, so what is cached under an older one is simply never asked for again.
        """
        from experiments.models import ExperimentListVersion

        if hasattr(self, "read_list_version"):  # from get_owned()
            version = self.read_list_version
        else:
            version = ExperimentListVersion.objects.filter(project=self).values_list("number", flat=True).first()
        # None: the project has never had an experiment (its first one creates the version).
        return ":".join(["experiments", str(self.pk), str(version), *map(str, parts)])

    def count_jobs(self, statuses=()) -> int:
        counts = self.status_counts()
        return sum(counts[s] for s in (statuses or counts))

    def seek_newest_first(self, offset: int, statuses=()) -> tuple[datetime, int] | None:
        """Where the experiment at `offset` (0-based, newest first) is: (before, newer).

        It was created before `before` (a Monday, 00:00 UTC), and exactly `newer`
        of the listed experiments were created at or after that time. A deep page
        can then read from `before` and skip only `offset - newer` rows, at most a
        week's. Costs one query on the maintained per-week counts (52 rows a year
        per status), whatever the depth. None when there is nothing to narrow:
        the offset is past the end, or in the last week a date can have.
        """
        from experiments.models import ProjectWeekCount

        weeks = ProjectWeekCount.objects.filter(project=self)
        if statuses:
            weeks = weeks.filter(status__in=statuses)
        newer = 0
        for week, count in (
            weeks.values("week").annotate(total=Sum("count")).order_by("-week").values_list("week", "total")
        ):
            if newer + count > offset:
                if week > date.max - timedelta(weeks=1):
                    return None
                return datetime.combine(week + timedelta(weeks=1), time.min, tzinfo=UTC), newer
            newer += count
        return None
