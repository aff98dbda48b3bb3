import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from experiments.api.serializers import ExperimentSerializer
from experiments.models import TrainingJob
from projects.models import Project

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/1/experiments"
FIELDS = {
    "id", "project_id", "model_name", "framework", "task_type", "status", "dataset_path", "epochs",
    "batch_size", "learning_rate", "accuracy", "loss", "created_at", "updated_at", "started_at",
    "completed_at", "error_message", "name", "note",
}  # fmt: skip


def add_jobs(project, count, status=TrainingJob.Status.COMPLETED, spacing=timedelta(minutes=1)):
    base = project.created_at
    TrainingJob.objects.bulk_create(
        TrainingJob(
            project=project, model_name=f"m{i}", framework="timm", task_type="image_classification",
            status=status, dataset_path="/d", epochs=1, batch_size=1, learning_rate=0.1,
            created_at=base + timedelta(days=30) + i * spacing,
        )
        for i in range(count)
    )  # fmt: skip


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_it_lists_the_spec_experiments_newest_first_as_an_array(owner_api, path):
    response = owner_api.get(path)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert [job["id"] for job in body] == [5, 3, 2, 1]
    assert all(set(job) == FIELDS for job in body)
    assert response["X-Total-Count"] == "4"


def test_it_gives_the_spec_values(owner_api):
    jobs = {job["id"]: job for job in owner_api.get(URL).json()}
    assert jobs[5] == {
        "id": 5, "project_id": 1, "model_name": "yolo11n-seg", "framework": "ultralytics",
        "task_type": "instance_segmentation", "status": "running", "dataset_path": "/app/datasets/seg-coco8",
        "epochs": 50, "batch_size": 16, "learning_rate": 0.01, "accuracy": None, "loss": None,
        "created_at": "2024-01-18T15:30:00+09:00", "updated_at": "2024-01-18T15:31:00+09:00",
        "started_at": "2024-01-18T15:31:00+09:00", "completed_at": None, "error_message": None, "name": None, "note": None,
    }  # fmt: skip
    assert (jobs[3]["accuracy"], jobs[3]["loss"], jobs[3]["completed_at"]) == (0.89, 0.234, "2024-01-17T11:45:00+09:00")
    assert (jobs[2]["status"], jobs[2]["accuracy"], jobs[2]["error_message"]) == ("failed", None, "CUDA out of memory")
    assert (jobs[1]["model_name"], jobs[1]["accuracy"], jobs[1]["loss"]) == ("efficientnetv2_s", 0.92, 0.156)
    assert jobs[1]["created_at"] == "2024-01-15T16:45:00+09:00"


@pytest.mark.parametrize("time_zone", ["Asia/Seoul", "UTC"])
def test_each_row_of_the_list_is_what_the_experiment_serializer_makes_of_it(owner_api, time_zone):
    """The list writes its rows directly (ExperimentRows); they must be the serializer's, value for value."""
    project = Project.objects.get(pk=1)
    add_jobs(project, 3)
    TrainingJob.objects.filter(model_name="m1").update(name="이름", note="line\nbreak", accuracy=1.0, loss=0.0)
    owner_api.cookies["tz"] = time_zone
    rows = owner_api.get(URL, {"per_page": 100}).json()
    with timezone.override(time_zone):
        expected = [
            dict(ExperimentSerializer(job).data)
            for job in TrainingJob.objects.for_project(project).newest_first()
        ]  # fmt: skip
    assert rows == expected and len(rows) == 7


def test_ties_on_created_at_are_broken_by_id_desc(owner_api):
    job = TrainingJob.objects.get(pk=3)
    twin = TrainingJob.objects.create(
        project_id=1, model_name="twin", framework="timm", task_type="image_classification",
        dataset_path="/d", epochs=1, batch_size=1, learning_rate=0.1, created_at=job.created_at,
    )  # fmt: skip
    ids = [j["id"] for j in owner_api.get(URL).json()]
    assert ids == [5, twin.id, 3, 2, 1]


def test_it_filters_by_one_status(owner_api):
    response = owner_api.get(URL, {"status": "completed"})
    assert [job["id"] for job in response.json()] == [3, 1]
    assert response["X-Total-Count"] == "2"


def test_it_filters_by_a_set_of_statuses(owner_api):
    response = owner_api.get(URL, {"status": "failed,running"})
    assert [job["id"] for job in response.json()] == [5, 2]


def test_it_pages_with_headers(owner_api):
    project = Project.objects.get(pk=1)
    add_jobs(project, 41)  # 45 in all
    response = owner_api.get(URL, {"page": 2})
    assert response.status_code == 200
    assert len(response.json()) == 20
    assert response["X-Total-Count"] == "45"
    links = dict((part.split(";")[1].strip(), part.split(";")[0].strip(" <>")) for part in response["Link"].split(","))
    assert set(links) == {'rel="first"', 'rel="prev"', 'rel="next"', 'rel="last"'}
    assert "page=1" in links['rel="first"'] and "page=3" in links['rel="last"']
    assert "page=1" in links['rel="prev"'] and "page=3" in links['rel="next"']
    assert all("per_page=20" in url for url in links.values())

    last = owner_api.get(URL, {"page": 3})
    assert [job["id"] for job in last.json()][-4:] == [5, 3, 2, 1]
    assert 'rel="next"' not in last["Link"]


def test_the_link_header_keeps_the_filter(owner_api):
    add_jobs(Project.objects.get(pk=1), 3)
    response = owner_api.get(URL, {"status": "completed", "per_page": 2})
    assert response["X-Total-Count"] == "5"
    assert all("status=completed" in part for part in response["Link"].split(","))


def test_per_page_sets_the_page_size(owner_api):
    assert [job["id"] for job in owner_api.get(URL, {"per_page": 2, "page": 2}).json()] == [2, 1]


def test_a_page_past_the_end_is_an_empty_array(owner_api):
    response = owner_api.get(URL, {"page": 99})
    assert response.status_code == 200
    assert response.json() == []
    assert response["X-Total-Count"] == "4"
    assert 'rel="prev"' in response["Link"]


def test_a_huge_page_number_is_still_just_past_the_end(owner_api):
    response = owner_api.get(URL, {"page": "9" * 30})
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    "params, param",
    [
        ({"page": "0"}, "page"),
        ({"page": "-3"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"per_page": "0"}, "per_page"),
        ({"per_page": "1000"}, "per_page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"status": "bogus"}, "status"),
        ({"status": "completed,bogus"}, "status"),
        ({"status": "COMPLETED"}, "status"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_the_parameter(owner_api, params, param):
    response = owner_api.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == [param]
    assert param in body["detail"]


def test_bad_status_lists_the_allowed_values(owner_api):
    body = owner_api.get(URL, {"status": "bogus"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert "pending, running, completed, failed, cancelled" in body["errors"]["status"][0]


def test_per_page_of_100_is_allowed(owner_api):
    assert owner_api.get(URL, {"per_page": 100}).status_code == 200


def test_someone_elses_experiments_are_not_found(owner_api, other_api):
    foreign = owner_api.get("/api/v1/projects/2/experiments")
    assert foreign.status_code == 404
    assert foreign.json() == {"detail": "Project not found"}
    assert owner_api.get("/api/v1/projects/999/experiments").json() == foreign.json()
    assert [job["id"] for job in other_api.get("/api/v1/projects/2/experiments").json()] == [4]


def test_bad_ids_in_the_experiments_path_are_not_found(owner_api):
    for raw in ["abc", "0", "99999999999999999999999"]:
        response = owner_api.get(f"/api/v1/projects/{raw}/experiments")
        assert response.status_code == 404
        assert response.json() == {"detail": "Project not found"}


def test_a_missing_project_wins_over_bad_query_parameters(owner_api):
    # Nothing about a foreign project leaks through validation either.
    assert owner_api.get("/api/v1/projects/2/experiments", {"page": "abc"}).status_code == 404


@pytest.mark.parametrize(
    "query", ["", "ordering=-accuracy", "model_name=resnet18", "model_name=none-such", "accuracy_min=0.5",
              "status=bogus"],
)  # fmt: skip
def test_the_list_tells_a_foreign_project_from_an_empty_one_whatever_the_filters(owner_api, demo, query):
    """The list does not read the project: counting the user's rows shows it is theirs, and a list with
    nothing to count looks it up. Another user's project, with experiments the filters keep, stays unseen."""
    empty = Project.objects.create(owner=demo["owner"], name="Empty")
    foreign = owner_api.get(f"/api/v1/projects/2/experiments?{query}")
    assert (foreign.status_code, foreign.json()) == (404, {"detail": "Project not found"})
    own = owner_api.get(f"/api/v1/projects/{empty.id}/experiments?{query}")
    if query == "status=bogus":
        assert own.status_code == 400
    else:
        assert (own.status_code, own.json(), own["X-Total-Count"]) == (200, [], "0")


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "completed"},
        {"status": "completed,failed", "page": 2},
        {"ordering": "-accuracy", "page": 2},
        {"ordering": "model_name,-duration", "model_name_contains": "m", "status": "completed"},
    ],
)
def test_the_list_runs_a_fixed_number_of_queries(owner_api, params):
    add_jobs(Project.objects.get(pk=1), 25)
    small = count_queries(owner_api, URL, params)
    add_jobs(Project.objects.get(pk=1), 150)
    assert count_queries(owner_api, URL, params) == small
    assert small <= 4  # the user, the counts, (the boundary key on later pages,) the page


def test_a_deep_page_lists_the_right_rows(owner_api):
    project = Project.objects.get(pk=1)
    add_jobs(project, 200, spacing=timedelta(hours=5))  # about six weeks
    add_jobs(project, 50, status=TrainingJob.Status.FAILED, spacing=timedelta(hours=17))
    for params in ({"page": 5}, {"page": 3, "per_page": 30}, {"status": "failed", "page": 3}):
        per_page, number = params.get("per_page", 20), params["page"]
        jobs = TrainingJob.objects.for_project(project).newest_first()
        if "status" in params:
            jobs = jobs.filter(status=params["status"])
        expected = list(jobs.values_list("id", flat=True)[(number - 1) * per_page : number * per_page])
        response = owner_api.get(URL, params)
        assert [job["id"] for job in response.json()] == expected
        assert response["X-Total-Count"] == str(jobs.count())


def test_a_page_past_the_end_skips_the_row_query(owner_api):
    assert count_queries(owner_api, URL, {"page": 50}) < count_queries(owner_api, URL)


def test_any_change_is_seen_at_once_whatever_made_it(owner_api):
    assert [job["model_name"] for job in owner_api.get(URL, {"per_page": 2}).json()] == ["yolo11n-seg", "yolo11n"]
    with connection.cursor() as cursor:  # raw SQL: nothing in Django hears of it
        cursor.execute("UPDATE training_jobs SET model_name = 'renamed' WHERE id = 5")
    assert [job["model_name"] for job in owner_api.get(URL, {"per_page": 2}).json()] == ["renamed", "yolo11n"]
    add_jobs(Project.objects.get(pk=1), 1)
    response = owner_api.get(URL, {"per_page": 2})
    assert response.json()[0]["model_name"] == "m0" and response["X-Total-Count"] == "5"


def test_pages_differ_by_filter_page_and_time_zone(owner_api):
    pages = [({}, [5, 3, 2, 1]), ({"status": "completed"}, [3, 1]), ({"per_page": 1, "page": 2}, [3])]
    for _ in range(2):
        for params, ids in pages:
            assert [job["id"] for job in owner_api.get(URL, params).json()] == ids
    seoul = owner_api.get(URL).json()[0]["created_at"]
    owner_api.cookies["tz"] = "UTC"
    assert (seoul[-6:], owner_api.get(URL).json()[0]["created_at"][-1]) == ("+09:00", "Z")


def test_the_list_is_compact_json_or_indented_when_asked(owner_api):
    first = owner_api.get(URL)
    assert b"\n" not in first.content
    indented = owner_api.get(URL, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.decode() == json.dumps(first.json(), indent=2, ensure_ascii=False)


def test_cors_allows_the_configured_front_end_and_exposes_paging_headers(owner_api, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:3000"]
    response = owner_api.get(URL, HTTP_ORIGIN="http://localhost:3000")
    assert response["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert {"x-total-count", "link"} <= {
        h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")
    }
    other = owner_api.get(URL, HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in other


def test_the_browsable_api_renders_the_list_and_a_create_form(client, demo):
    client.force_login(demo["owner"])
    response = client.get(URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assert "yolo11n-seg" in html and 'name="dataset_path"' in html
