from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from experiments.models import TrainingJob
from platform_site import pagination
from platform_site.pagination import PageRequest, paginate
from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("statuses", [[], ["failed"], ["completed", "failed"]])
def test_pages_read_from_a_boundary_key_equal_offset_pages(demo, statuses):
    project = Project.objects.get(pk=1)
    base = project.created_at
    # Many ties on created_at, so the id tie-break matters.
    TrainingJob.objects.bulk_create(
        TrainingJob(
            project=project, model_name=f"m{i}", framework="timm", task_type="image_classification",
            status=["completed", "failed", "pending"][i % 3], dataset_path="/d", epochs=1, batch_size=1,
            learning_rate=0.1, created_at=base + timedelta(minutes=i // 4),
        )
        for i in range(137)
    )  # fmt: skip
    jobs = TrainingJob.objects.for_project(project).newest_first()
    if statuses:
        jobs = jobs.with_status(statuses)
    expected = list(jobs.values_list("id", flat=True))
    for per_page in (1, 7, 20):
        seen = []
        for number in range(1, len(expected) // per_page + 3):
            page = paginate(jobs, PageRequest(number, per_page), keyset=TrainingJob.NEWEST_FIRST_KEYSET)
            assert [j.id for j in page.items] == expected[(number - 1) * per_page : number * per_page]
            seen += [j.id for j in page.items]
        assert seen == expected


MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture
def weeks_of_jobs(demo):
    """Jobs over several weeks, with an empty week, ties, and rows on both sides of a week's edge."""
    project = Project.objects.get(pk=1)
    moments = [
        MONDAY - timedelta(microseconds=1),  # the last instant of the week before
        MONDAY,  # the first of this week
        MONDAY + timedelta(days=6, hours=23),
        MONDAY - timedelta(weeks=3, hours=5),  # two empty weeks in between
    ]
    TrainingJob.objects.bulk_create(
        TrainingJob(
            project=project, model_name=f"m{i}", framework="timm", task_type="image_classification",
            status=["completed", "failed", "pending"][i % 3], dataset_path="/d", epochs=1, batch_size=1,
            learning_rate=0.1, created_at=moments[i % 4] - timedelta(minutes=i // 40),
        )
        for i in range(160)
    )  # fmt: skip
    return project


@pytest.mark.parametrize("statuses", [[], ["failed"], ["completed", "failed"]])
def test_seek_names_the_week_of_every_offset(weeks_of_jobs, statuses):
    jobs = TrainingJob.objects.for_project(weeks_of_jobs).newest_first()
    if statuses:
        jobs = jobs.with_status(statuses)
    created = list(jobs.values_list("created_at", flat=True))
    for offset, moment in enumerate(created):
        before, newer = weeks_of_jobs.seek_newest_first(offset, statuses)
        assert moment < before, offset
        assert newer == sum(1 for c in created if c >= before) <= offset
        assert before.weekday() == 0 and before - timedelta(weeks=1) <= moment  # within the week before `before`
    assert weeks_of_jobs.seek_newest_first(len(created), statuses) is None


@pytest.mark.parametrize("statuses", [[], ["failed"], ["completed", "failed"]])
def test_pages_read_from_the_week_counts_equal_offset_pages(weeks_of_jobs, monkeypatch, statuses):
    monkeypatch.setattr(pagination, "SEEK_FROM_OFFSET", 1)  # seek on every page after the first
    jobs = TrainingJob.objects.for_project(weeks_of_jobs).newest_first()
    if statuses:
        jobs = jobs.with_status(statuses)
    expected = list(jobs.values_list("id", flat=True))
    seek = partial(weeks_of_jobs.seek_newest_first, statuses=statuses)
    for per_page in (1, 7, 20):
        seen = []
        for number in range(1, len(expected) // per_page + 3):
            page = paginate(jobs, PageRequest(number, per_page), keyset=TrainingJob.NEWEST_FIRST_KEYSET, seek=seek)
            assert [j.id for j in page.items] == expected[(number - 1) * per_page : number * per_page]
            seen += [j.id for j in page.items]
        assert seen == expected


def test_jobs_in_the_last_week_a_date_can_have_are_paged_like_any_other(weeks_of_jobs, monkeypatch):
    monkeypatch.setattr(pagination, "SEEK_FROM_OFFSET", 1)
    # An admin can type such a date; that week has no next Monday to read from.
    far = TrainingJob.objects.filter(project=weeks_of_jobs).order_by("-id")[:2].values_list("id", flat=True)
    TrainingJob.objects.filter(id__in=list(far)).update(created_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    jobs = TrainingJob.objects.for_project(weeks_of_jobs).newest_first()
    expected = list(jobs.values_list("id", flat=True))
    assert weeks_of_jobs.seek_newest_first(1) is None
    seek = weeks_of_jobs.seek_newest_first
    pages = [paginate(jobs, PageRequest(n, 1), keyset=TrainingJob.NEWEST_FIRST_KEYSET, seek=seek) for n in (1, 2, 3)]
    assert [page.items[0].id for page in pages] == expected[:3]


@pytest.mark.parametrize(
    "query",
    ["", "page=2", "per_page=1&page=3", "status=completed&x=a+b&y=%C3%A9&z=&z=2&page=2", "b=1&a=2&page=2&per_page=2#f"],
)
def test_the_link_header_is_what_drfs_replace_query_param_gives(rf, query):
    from urllib.parse import parse_qs, urlsplit

    from rest_framework.request import Request
    from rest_framework.utils.urls import replace_query_param

    request = Request(rf.get(f"/api/v1/projects/1/experiments?{query}"))
    paginator = pagination.PageHeaderPagination()
    page = paginator.page_of(lambda: None, request, view=type("View", (), {"total_rows": 10})())
    with_per_page = replace_query_param(request.build_absolute_uri(), "per_page", page.per_page)
    for link in paginator.link_header().split(", "):
        url = link.split(";")[0].strip("<>")
        number = parse_qs(urlsplit(url).query)["page"][0]
        assert url == replace_query_param(with_per_page, "page", number)
