"""Naming, annotating and deleting experiments, over the API and on the pages; owner-only, finished ones only."""

import pytest

from experiments.models import TrainingJob, TrainingMetric
from experiments.tests.test_api_create_cancel import new_job
from live.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/1/experiments/{}"


def test_the_owner_names_and_annotates_an_experiment_and_the_list_shows_it(owner_api, client, demo):
    job = new_job("completed", accuracy=0.8)
    response = owner_api.patch(URL.format(job.id), {"name": "  baseline  ", "note": "lr 1e-3, no aug"}, format="json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["note"]) == ("baseline", "lr 1e-3, no aug")
    listed = {row["id"]: row for row in owner_api.get("/api/v1/projects/1/experiments?per_page=100").json()}
    assert (listed[job.id]["name"], listed[job.id]["note"]) == ("baseline", "lr 1e-3, no aug")
    event = Event.objects.filter(payload__experiment_id=job.id).latest("id")
    assert (event.type, event.payload["name"]) == ("experiment_described", "baseline")

    client.force_login(demo["owner"])
    row = client.get("/projects/1").content.decode().split(f'id="experiment-{job.id}"')[1].split("</tr>")[0]
    assert '<span class="experiment-name">baseline</span>' in row and "lr 1e-3, no aug" in row

    assert owner_api.patch(URL.format(job.id), {"note": ""}, format="json").json()["note"] is None  # cleared
    assert TrainingJob.objects.get(pk=job.id).name == "baseline"  # untouched


@pytest.mark.parametrize(
    "body, field",
    [({"name": "x" * 201}, "name"), ({"note": 5}, "note"), ({"name": ["a"]}, "name")],
)
def test_bad_words_are_a_400_naming_the_field(owner_api, body, field):
    job = new_job("completed")
    response = owner_api.patch(URL.format(job.id), body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_an_empty_patch_changes_nothing(owner_api):
    job = new_job("completed", name="kept")
    response = owner_api.patch(URL.format(job.id), {}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "kept"
    assert not Event.objects.filter(payload__experiment_id=job.id, type="experiment_described").exists()


def test_put_is_not_offered(owner_api):
    assert owner_api.put(URL.format(new_job("completed").id), {"name": "x"}, format="json").status_code == 405


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_a_finished_experiment_is_deleted_with_its_metrics_and_run_folder(owner_api, settings, tmp_path, status):
    settings.RUNS_DIR = tmp_path / "runs"
    job = new_job(status)
    TrainingMetric.objects.create(job=job, epoch=1, accuracy=0.5, duration_seconds=1.0)
    (job.run_dir / "weights").mkdir(parents=True)
    (job.run_dir / "weights" / "best.pt").write_bytes(b"weights")
    counted = owner_api.get("/api/v1/projects/1/experiments").headers["X-Total-Count"]

    assert owner_api.delete(URL.format(job.id)).status_code == 204
    assert not TrainingJob.objects.filter(pk=job.id).exists()
    assert not TrainingMetric.objects.filter(job_id=job.id).exists()
    assert not job.run_dir.exists() and (tmp_path / "runs").is_dir()
    assert int(owner_api.get("/api/v1/projects/1/experiments").headers["X-Total-Count"]) == int(counted) - 1
    assert owner_api.get(URL.format(job.id)).status_code == 404
    assert Event.objects.filter(payload__experiment_id=job.id, type="experiment_deleted").exists()


@pytest.mark.parametrize("status", ["pending", "running"])
def test_a_pending_or_running_experiment_is_not_deleted(owner_api, status):
    job = new_job(status)
    response = owner_api.delete(URL.format(job.id), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "cancel it before deleting it" in response.json()["detail"]
    assert TrainingJob.objects.filter(pk=job.id).exists()


def test_only_the_owner_names_or_deletes(other_api, anon_api):
    job = new_job("completed")
    for client in (other_api, anon_api):
        assert client.patch(URL.format(job.id), {"name": "mine"}, format="json").status_code in (401, 404)
        assert client.delete(URL.format(job.id)).status_code in (401, 404)
    assert TrainingJob.objects.get(pk=job.id).name is None


def test_the_experiment_page_names_and_deletes_with_a_confirmation(client, demo):
    job = new_job("completed", accuracy=0.7)
    client.force_login(demo["owner"])
    page = client.get(f"/projects/1/experiments/{job.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<summary>Delete this experiment</summary>" in page  # behind a <details>: a second click
    response = client.post(f"/projects/1/experiments/{job.id}/describe", {"name": "best so far", "note": "keep"})
    assert response.status_code == 302
    page = client.get(f"/projects/1/experiments/{job.id}").content.decode()
    assert '<p class="experiment-name">best so far</p>' in page

    too_long = client.post(f"/projects/1/experiments/{job.id}/describe", {"name": "x" * 201}, HTTP_ACCEPT_LANGUAGE="en")
    assert too_long.status_code == 400 and "name" in too_long.content.decode()

    assert client.post(f"/projects/1/experiments/{job.id}/delete").url == "/projects/1"
    assert not TrainingJob.objects.filter(pk=job.id).exists()
    running = new_job("running")
    refused = client.post(f"/projects/1/experiments/{running.id}/delete", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 409 and "cancel it before deleting it" in refused.content.decode()


def test_deleting_an_experiment_another_request_just_deleted_is_no_error(owner_api):
    from experiments import services

    job = new_job("completed")
    services.experiment_delete(job=job)
    services.experiment_delete(job=job)  # the second of two requests at once
    assert not TrainingJob.objects.filter(pk=job.id).exists()
