"""Reads that span projects and their experiments, for the API, the pages and the consumer alike."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from experiments import weights
from experiments.filters import ExperimentFilterSet
from experiments.models import ProjectStatusCount, RunFile, TrainingJob
from projects.models import Project, get_owned_project_or_404, parse_id

EXPERIMENT_NOT_FOUND = "Experiment not found"


@dataclass(frozen=True)
class ExperimentList:
    """What a project's experiment list shows: the rows asked for, in their order, and the counts around them."""

    jobs: QuerySet
    statuses: list[str]  # the statuses asked for; empty: all
    counts: dict[str, int]  # the experiments in each status that the other filters keep

    @property
    def total(self) -> int:
        return sum(self.counts[status] for status in self.statuses or self.counts)


def experiment_list(user, project_id, params) -> ExperimentList:
    """The experiments of one of `user`'s projects (`project_id` as it came in the URL) that the query string
    `params` asks for.

    Http404 as get_owned_project_or_404 for a project that is not the user's,
    whatever the parameters; then ValidationError names a bad filter.

    The counts come from the maintained ProjectStatusCount rows when the list
    is narrowed by status, framework, task or model only; other filters
    (dates, accuracy, dataset) count the rows they keep. Either way only the
    user's rows are counted, so counting shows the project is theirs, and only
    a list with nothing to count reads the project: one query less per page
    (the list's latency budget: docs/performance.md).
    """
    filterset = ExperimentFilterSet(params, queryset=TrainingJob.objects.newest_first())
    if not filterset.is_valid():
        get_owned_project_or_404(user, project_id)
        raise ValidationError(filterset.errors)
    project_id = parse_id(project_id)
    owned = {"project_id": project_id, "project__owner": user}
    lookups = filterset.count_lookups
    if lookups is None:
        every_status = params.copy()
        every_status.pop("status", None)
        counts = ExperimentFilterSet(every_status, queryset=TrainingJob.objects.filter(**owned)).qs.counts_by_status()
    else:
        counts = ProjectStatusCount.objects.filter(**owned, **lookups).by_status()
    if not any(counts.values()):
        get_owned_project_or_404(user, project_id)
    jobs = filterset.qs.filter(project_id=project_id)
    return ExperimentList(jobs=jobs, statuses=filterset.statuses, counts=counts)


def status_counts(project: Project) -> dict[str, int]:
    """{status: number of the project's experiments} for every status, zeros included.

    One query, or none for projects read with prefetch_related("status_count_rows").
    """
    counts = dict.fromkeys(TrainingJob.Status.values, 0)
    for row in project.status_count_rows.all():
        counts[row.status] += row.count
    return counts


def get_owned_experiment_or_404(user, project_id, experiment_id) -> TrainingJob:
    """One experiment, with its metrics and stored files, of one of `user`'s projects; Http404 as for a project
    otherwise."""
    project = get_owned_project_or_404(user, project_id)
    try:
        job = (
            TrainingJob.objects.for_project(project)
            .with_metrics()
            .prefetch_related("files")
            .get(pk=parse_id(experiment_id))
        )
    except TrainingJob.DoesNotExist:
        raise Http404(EXPERIMENT_NOT_FOUND) from None
    job.project = project  # already read: the pages show its name without another query
    return job


def owned_by(user) -> QuerySet:
    """Every experiment of `user`'s projects."""
    return TrainingJob.objects.filter(project__in=Project.objects.owned_by(user))


def with_best_weights(user) -> QuerySet:
    """`user`'s completed experiments whose best weights are stored: what a new experiment may start from."""
    return (
        owned_by(user)
        .filter(status=TrainingJob.Status.COMPLETED, files__name=RunFile.Name.BEST_WEIGHTS)
        .select_related("project", "dataset_version__dataset")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class StartingWeights:
    """What a new experiment of one model can start from, besides random weights."""

    pretrained_file: str  # expected in WEIGHTS_DIR
    pretrained_available: bool
    experiments: list[TrainingJob]


def starting_weights(user, framework: str, model_name: str) -> StartingWeights:
    return StartingWeights(
        pretrained_file=weights.expected_file(framework, model_name),
        pretrained_available=weights.pretrained_file(framework, model_name) is not None,
        experiments=list(with_best_weights(user).filter(framework=framework, model_name=model_name)[:50]),
    )


MAX_COMPARED = 20
# What the compare view lines up, in order: the settings an experiment was started with.
COMPARED_PARAMETERS = [
    "model_name", "framework", "task_type", "dataset_label", "epochs", "batch_size", "learning_rate", "image_size",
    "augmentation",
]  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    jobs: list[TrainingJob]  # in the order asked for

    @property
    def differing(self) -> list[str]:
        """The parameters whose values are not the same for every experiment."""
        return [name for name in COMPARED_PARAMETERS if len({getattr(job, name) for job in self.jobs}) > 1]


def compare(project: Project, raw_ids: str) -> Comparison:
    """Up to MAX_COMPARED of the project's experiments, with their metrics, by `ids=3,7,9`.

    ValidationError names `ids` when the list is empty or too long; an id that
    is malformed, missing or in another project is Http404, as for one experiment.
    """
    parts = [part.strip() for part in raw_ids.split(",") if part.strip()]
    if not parts:
        raise ValidationError({"ids": [_("Give the ids of the experiments to compare, separated by commas.")]})
    if len(parts) > MAX_COMPARED:
        raise ValidationError({"ids": [_("Compare at most %(max)d experiments at once.") % {"max": MAX_COMPARED}]})
    ids = list(dict.fromkeys(parse_id(part) for part in parts))  # repeats once, in order
    if None in ids:
        raise Http404(EXPERIMENT_NOT_FOUND)
    found = TrainingJob.objects.for_project(project).with_metrics().select_related("dataset_version__dataset")
    by_id = {job.id: job for job in found.filter(pk__in=ids)}
    if len(by_id) != len(ids):
        raise Http404(EXPERIMENT_NOT_FOUND)
    return Comparison(jobs=[by_id[i] for i in ids])
