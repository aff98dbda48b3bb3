"""Sorting and narrowing a project's experiments over the API: every key both ways, ties and empty values,
pages that stay stable, and bad parameters named. Runs on SQLite and PostgreSQL (make test runs both)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.http import QueryDict

from experiments.filters import SORT_KEYS
from experiments.models import TrainingJob
from experiments.selectors import experiment_list
from projects.models import Project

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/{}/experiments"
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def sortable(demo, owner_api):
    """A project of 30 experiments: accuracies with ties, some without a value, two models, three tasks."""
    project = Project.objects.create(owner=demo["owner"], name="Sortable")
    jobs = []
    for i in range(30):
        done = i % 5 != 0  # every fifth is still pending: no accuracy, loss or duration
        jobs.append(
            TrainingJob(
                project=project, model_name=("resnet18", "yolo11n", "resnet50")[i % 3],
                framework="ultralytics" if i % 3 == 1 else "timm",
                task_type=("image_classification", "object_detection", "image_classification")[i % 3],
                status="completed" if done else "pending", dataset_path="/d", epochs=1 + i % 4, batch_size=8,
                learning_rate=0.01, accuracy=(i % 4) / 4 if done else None, loss=(i % 3) / 3 if done else None,
                created_at=START + timedelta(hours=i // 2),  # pairs share a created time: id breaks the tie
                started_at=START + timedelta(hours=i // 2) if done else None,
                completed_at=START + timedelta(hours=i // 2, minutes=i % 7) if done else None,
            )
        )  # fmt: skip
    TrainingJob.objects.bulk_create(jobs)
    return project


def ids(owner_api, project, query="") -> list[int]:
    response = owner_api.get(URL.format(project.id) + "?per_page=100&" + query)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


def expected_order(project, key: str, descending: bool) -> list[int]:
    """Sorted in Python: filled values first (in the direction asked), empty ones last, ties newest then id."""
    jobs = list(TrainingJob.objects.for_project(project).with_duration())
    jobs.sort(key=lambda job: (job.created_at, job.id), reverse=True)  # the tie-breaker, newest first
    filled = [job for job in jobs if getattr(job, key) is not None]
    empty = [job for job in jobs if getattr(job, key) is None]
    filled.sort(key=lambda job: getattr(job, key), reverse=descending)  # stable: ties keep the tie-breaker's order
    return [job.id for job in filled + empty]


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_every_key_sorts_both_ways_with_empty_values_last(owner_api, sortable, key, descending):
    assert ids(owner_api, sortable, f"ordering={'-' if descending else ''}{key}") == expected_order(
        sortable, key, descending
    )


def test_without_ordering_the_list_stays_newest_first_then_by_id(owner_api, sortable):
    assert ids(owner_api, sortable) == expected_order(sortable, "created_at", True)
    assert ids(owner_api, sortable) == ids(owner_api, sortable, "ordering=-created_at")


def test_several_keys_sort_by_each_in_turn(owner_api, sortable):
    jobs = {job.id: job for job in TrainingJob.objects.for_project(sortable)}
    got = ids(owner_api, sortable, "ordering=model_name,-accuracy")
    pairs = [(jobs[i].model_name, -(jobs[i].accuracy if jobs[i].accuracy is not None else -1)) for i in got]
    assert pairs == sorted(pairs)


@pytest.mark.parametrize("ordering", ["-accuracy", "accuracy", "model_name", "-epochs", "duration"])
def test_pages_under_any_ordering_hold_every_experiment_once(owner_api, sortable, ordering):
    paged = []
    for page in range(1, 5):
        response = owner_api.get(URL.format(sortable.id), {"ordering": ordering, "per_page": 8, "page": page})
        paged += [row["id"] for row in response.json()]
    assert paged == ids(owner_api, sortable, f"ordering={ordering}")
    assert len(set(paged)) == 30


FILTERS = {
    "framework=ultralytics": lambda job: job.framework == "ultralytics",
    "task=object_detection": lambda job: job.task_type == "object_detection",
    "model_name=resnet18": lambda job: job.model_name == "resnet18",
    "model_name_contains=RESNET": lambda job: "resnet" in job.model_name,
    "accuracy_min=0.5": lambda job: job.accuracy is not None and job.accuracy >= 0.5,
    "created_after=2026-01-01T05:00:00Z": lambda job: job.created_at >= START + timedelta(hours=5),
    "created_before=2026-01-01T05:00:00%2B00:00": lambda job: job.created_at < START + timedelta(hours=5),
    "status=completed&model_name=yolo11n&accuracy_min=0.25": lambda job: (
        job.status == "completed" and job.model_name == "yolo11n" and job.accuracy >= 0.25
    ),
}


@pytest.mark.parametrize("query", FILTERS)
def test_each_filter_narrows_the_list_and_its_total(owner_api, sortable, query):
    expected = [
        job.id
        for job in TrainingJob.objects.for_project(sortable).order_by("-created_at", "-id")
        if FILTERS[query](job)
    ]
    response = owner_api.get(URL.format(sortable.id) + "?per_page=5&" + query)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == expected[:5]
    assert response["X-Total-Count"] == str(len(expected)) and 0 < len(expected) < 30


def test_the_dataset_filter_finds_the_experiments_of_one_version(owner_api, sortable, demo_versions):
    version = demo_versions["shapes-cls"]
    TrainingJob.objects.filter(pk__in=ids(owner_api, sortable)[:3]).update(dataset_version=version)
    assert sorted(ids(owner_api, sortable, f"dataset={version.id}")) == sorted(ids(owner_api, sortable)[:3])


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("ordering=accuracyy", "ordering"),
        ("ordering=-status", "ordering"),
        ("framework=keras", "framework"),
        ("task=captioning", "task"),
        ("accuracy_min=high", "accuracy_min"),
        ("created_after=yesterday", "created_after"),
        ("dataset=abc", "dataset"),
    ],
)
def test_a_bad_ordering_or_filter_is_a_400_naming_it(owner_api, sortable, query, parameter):
    response = owner_api.get(URL.format(sortable.id) + "?" + query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


@pytest.mark.parametrize(
    ("query", "narrowing", "maintained"),
    [
        ("", {}, True),
        ("model_name=resnet18", {"model_name": "resnet18"}, True),
        ("model_name_contains=NET", {"model_name__icontains": "net"}, True),
        ("framework=ultralytics", {"framework": "ultralytics"}, True),
        ("task=object_detection&model_name=yolo11n", {"task_type": "object_detection", "model_name": "yolo11n"}, True),
        ("task=object_detection&model_name=resnet18", {"pk": None}, True),  # nothing is both
        ("accuracy_min=0.5", {"accuracy__gte": 0.5}, False),
        ("model_name=resnet18&created_after=2026-01-01T05:00:00Z",
         {"model_name": "resnet18", "created_at__gte": START + timedelta(hours=5)}, False),
    ],
)  # fmt: skip
def test_the_status_counts_follow_the_other_filters(sortable, django_assert_num_queries, query, narrowing, maintained):
    """Every status's count is that of the rows the other filters keep. Status, framework, task and model
    are answered by the maintained counts (one query on project_status_counts), other filters by counting.
    Only when nothing is counted does a second query look the project up."""
    TrainingJob.objects.filter(project=sortable, model_name="resnet50", status="pending").update(status="failed")
    kept = TrainingJob.objects.for_project(sortable).filter(**narrowing)
    with django_assert_num_queries(1 if kept.exists() else 2) as queries:
        narrowed = experiment_list(sortable.owner, sortable.id, QueryDict(query + "&status=completed,failed"))
    counted_in = "project_status_counts" if maintained else "training_jobs"
    assert counted_in in queries.captured_queries[0]["sql"]
    for status in TrainingJob.Status.values:
        assert narrowed.counts[status] == kept.filter(status=status).count(), status
    assert narrowed.total == kept.filter(status__in=["completed", "failed"]).count() == len(narrowed.jobs.all())


def test_the_project_page_sorts_by_its_column_headers_and_keeps_the_query(client, demo, sortable):
    client.force_login(demo["owner"])
    page = client.get(f"/projects/{sortable.id}?ordering=-accuracy&model_name_contains=resnet&page=2&per_page=5")
    assert page.status_code == 200
    html = page.content.decode()
    # The accuracy column sorts now; its header reverses it. The others start their own order. Filters stay.
    assert 'aria-sort="descending"><a href="?ordering=accuracy&amp;model_name_contains=resnet&amp;per_page=5"' in html
    assert '<a href="?ordering=model_name&amp;model_name_contains=resnet&amp;per_page=5" class="sort">' in html
    assert html.count("aria-sort=") == 1
    assert '<a href="?ordering=-accuracy&amp;model_name_contains=resnet&amp;page=3&amp;per_page=5" rel="next">' in html
    rows = [int(i) for i in re.findall(r'data-experiment-id="(\d+)"', html)]
    assert rows == ids_in_order(sortable, "-accuracy", model_contains="resnet")[5:10]


def test_a_bad_ordering_on_the_page_is_a_400_naming_it(client, demo, sortable):
    client.force_login(demo["owner"])
    page = client.get(f"/projects/{sortable.id}?ordering=bogus", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400 and "ordering" in page.content.decode()


def ids_in_order(project, ordering: str, model_contains: str) -> list[int]:
    key = ordering.lstrip("-")
    return [
        i
        for i in expected_order(project, key, ordering.startswith("-"))
        if model_contains in TrainingJob.objects.get(pk=i).model_name
    ]
