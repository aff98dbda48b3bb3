from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.request import Request

from experiments.models import TrainingJob
from platform_site.pagination import HeaderPagination, Paginator
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
    jobs = TrainingJob.objects.for_project(project).newest_first().with_status(statuses)
    expected = list(jobs.values_list("id", flat=True))
    for per_page in (1, 7, 20):
        seen = []
        for number in range(1, len(expected) // per_page + 3):
            page = Paginator(jobs, per_page, count=len(expected)).page(number)
            assert [j.id for j in page] == expected[(number - 1) * per_page : number * per_page]
            seen += [j.id for j in page]
        assert seen == expected


def test_a_deep_page_finds_its_first_row_with_an_index_only_query(demo, django_assert_num_queries):
    project = Project.objects.get(pk=1)
    jobs = TrainingJob.objects.for_project(project).newest_first()
    with django_assert_num_queries(2) as queries:
        page = Paginator(jobs, 1, count=4).page(3)
    boundary_sql = queries.captured_queries[0]["sql"]
    assert "OFFSET 2" in boundary_sql and '"model_name"' not in boundary_sql
    assert [job.id for job in page] == list(jobs.values_list("id", flat=True))[2:3]


def link_pages(query: str, count: int, rf) -> dict[str, int]:
    pagination = HeaderPagination()
    request = Request(rf.get(f"/api/v1/projects/1/experiments?{query}"))
    pagination.paginate_queryset(TrainingJob.objects.newest_first(), request, count=count)
    pages = {}
    for link in pagination.get_paginated_response([])["Link"].split(", "):
        url, rel = link.split("; ")
        params = parse_qs(urlsplit(url.strip("<>")).query, keep_blank_values=True)
        pages[rel.removeprefix('rel="').removesuffix('"')] = int(params["page"][0])
        assert params.get("status") == (["completed"] if "status" in query else None)
    return pages


@pytest.mark.parametrize(
    "query, count, pages",
    [
        ("", 0, {"first": 1, "last": 1}),
        ("per_page=2&page=2&status=completed", 5, {"first": 1, "prev": 1, "next": 3, "last": 3}),
        ("per_page=2&page=9", 5, {"first": 1, "prev": 3, "last": 3}),  # past the end: back to the last page
    ],
)
def test_the_link_header_names_first_prev_next_and_last(rf, query, count, pages):
    assert link_pages(query, count, rf) == pages
