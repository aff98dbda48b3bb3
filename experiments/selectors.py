"""Reads that span projects and their experiments, for the API, the pages and the consumer alike."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404

from experiments.filters import ExperimentFilterSet
from experiments.models import TrainingJob
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


def experiment_list(project: Project, params) -> ExperimentList:
    """The experiments of `project` that the query string `params` asks for; ValidationError names a bad filter.

    The counts come from the maintained ProjectStatusCount rows when only the
    status narrows the list; other filters count the rows they keep.
    """
    jobs = TrainingJob.objects.for_project(project).newest_first()
    filterset = ExperimentFilterSet(params, queryset=jobs)
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    if filterset.filters_beyond_status:
        every_status = params.copy()
        every_status.pop("status", None)
        counts = _counts_by_status(ExperimentFilterSet(every_status, queryset=jobs).qs)
    else:
        counts = status_counts(project)
    return ExperimentList(jobs=filterset.qs, statuses=filterset.statuses, counts=counts)


def _counts_by_status(jobs: QuerySet) -> dict[str, int]:
    counted = dict(jobs.order_by().values_list("status").annotate(count=Count("id")))
    return {status: counted.get(status, 0) for status in TrainingJob.Status.values}


def status_counts(project: Project) -> dict[str, int]:
    """{status: number of the project's experiments} for every status, zeros included.

    One query, or none for projects read with prefetch_related("status_count_rows").
    """
    return project.status_count_rows.all().by_status()


def get_owned_experiment_or_404(user, project_id, experiment_id) -> TrainingJob:
    """One experiment, with its metrics, of one of `user`'s projects; Http404 as for a project otherwise."""
    project = get_owned_project_or_404(user, project_id)
    try:
        job = TrainingJob.objects.for_project(project).with_metrics().get(pk=parse_id(experiment_id))
    except TrainingJob.DoesNotExist:
        raise Http404(EXPERIMENT_NOT_FOUND) from None
    job.project = project  # already read: the pages show its name without another query
    return job
