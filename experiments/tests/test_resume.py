"""Resuming a run from its last stored checkpoint, in the same experiment: after its worker was SIGKILLed
(timm: model, optimizer and epoch restored) and after a cancel (Ultralytics' own resume)."""

import signal

import pytest
from django_tasks_db.models import DBTaskResult

from experiments import run_files
from experiments.models import TrainingJob
from experiments.tests.processes import wait_for
from experiments.tests.test_training import URL, create, finished, status_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.once
def test_a_run_whose_worker_was_killed_resumes_from_its_checkpoint(owner_api, datasets_root, processes):
    job = create(owner_api, epochs=12, model_name="resnet10t")  # small: a checkpoint after every epoch
    every_epoch = {"WORKER_TIMEOUT_SECONDS": 3, "TRAINING_CHECKPOINT_SECONDS": 0}
    doomed = processes("worker-doomed", **every_epoch)
    wait_for(lambda: TrainingJob.objects.get(pk=job.id).current_epoch >= 3, 120, "three epochs", doomed)
    doomed.kill(signal.SIGKILL)
    started_at = TrainingJob.objects.get(pk=job.id).started_at
    assert owner_api.post(f"{URL}/{job.id}/resume").status_code == 409  # still running, as far as anyone knows

    survivor = processes("worker-survivor", **every_epoch)
    wait_for(lambda: status_of(job.id) == "failed", 60, "the lost worker to be noticed", survivor)
    response = owner_api.post(f"{URL}/{job.id}/resume")
    assert response.status_code == 200 and response.json()["status"] in ("pending", "running")
    job = wait_for(lambda: finished(job.id), 180, "the resumed training to finish", survivor)

    assert job.status == "completed", job.error_message
    assert (job.worker_id, job.current_epoch, job.started_at) == ("worker-survivor", 12, started_at)
    assert list(job.metrics.order_by("epoch").values_list("epoch", flat=True)) == list(range(1, 13))
    log = run_files.log_tail(job)
    resumed_after = int(log.split(f"Experiment {job.id} resumes after epoch ")[1].split()[0])
    assert resumed_after >= 2  # from its checkpoint, not from the start
    assert "epoch 1/12" in log  # the first worker's lines are still there
    assert job.files.get(name="last.pt").size > 0


@pytest.mark.once
def test_a_cancelled_yolo_run_resumes_through_ultralytics(owner_api, datasets_root, processes):
    job = create(
        owner_api, framework="ultralytics", model_name="yolo11n", task_type="object_detection",
        dataset_path="shapes-det", epochs=3, batch_size=8, learning_rate=0.01, image_size=64,
    )  # fmt: skip
    worker = processes("worker-a", TRAINING_CHECKPOINT_SECONDS=0)
    wait_for(lambda: TrainingJob.objects.get(pk=job.id).current_epoch >= 1, 240, "a first epoch", worker)
    owner_api.post(f"{URL}/{job.id}/cancel")
    job = wait_for(lambda: finished(job.id), 60, "the training to stop", worker)
    assert job.status == "cancelled" and job.current_epoch < 3

    assert owner_api.post(f"{URL}/{job.id}/resume").status_code == 200
    job = wait_for(lambda: finished(job.id), 240, "the resumed training to finish", worker)
    assert job.status == "completed", job.error_message
    assert list(job.metrics.order_by("epoch").values_list("epoch", flat=True)) == [1, 2, 3]
    assert job.accuracy is not None
    assert f"Experiment {job.id} resumes after epoch " in run_files.log_tail(job)  # Ultralytics' start_epoch
    assert {"best.pt", "last.pt", "bundle.zip"} <= set(job.files.values_list("name", flat=True))


def stopped(status, error_message=None, **fields) -> TrainingJob:
    job = TrainingJob.objects.filter(project_id=1).first()
    TrainingJob.objects.filter(pk=job.pk).update(status=status, error_message=error_message, **fields)
    return TrainingJob.objects.get(pk=job.pk)


def with_checkpoint(job, tmp_path) -> TrainingJob:
    (tmp_path / "last.pt").write_bytes(b"checkpoint")
    run_files.store(job, "last.pt", tmp_path / "last.pt")
    return job


@pytest.mark.parametrize(
    "status, error, message",
    [
        ("completed", None, "Only a cancelled experiment, or one whose worker was lost"),
        ("failed", "CUDA out of memory", "this one is failed (CUDA out of memory)"),
        ("running", None, "this one is running"),
    ],
)
def test_only_a_cancelled_or_lost_run_resumes(owner_api, tmp_path, status, error, message):
    job = with_checkpoint(stopped(status, error), tmp_path)
    response = owner_api.post(f"{URL}/{job.id}/resume", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and message in response.json()["detail"]
    assert status_of(job.id) == status


def test_a_run_without_a_checkpoint_cannot_resume(owner_api):
    job = stopped("cancelled", "Cancelled by user")
    response = owner_api.post(f"{URL}/{job.id}/resume", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409 and "no checkpoint" in response.json()["detail"]


def test_a_lost_run_is_queued_again_by_its_owner_only(owner_api, other_api, tmp_path):
    job = with_checkpoint(stopped("failed", "Worker lost", current_epoch=2, cancel_requested_at=None), tmp_path)
    assert other_api.post(f"{URL}/{job.id}/resume").status_code == 404
    response = owner_api.post(f"{URL}/{job.id}/resume")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error_message"], body["completed_at"], body["current_epoch"]) == (
        "pending", None, None, 2,
    )  # fmt: skip
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [job.id] and task.queue_name == "default"


def test_the_page_offers_resume_for_a_cancelled_run(owner_client, tmp_path):
    job = with_checkpoint(stopped("cancelled", "Cancelled by user", current_epoch=1), tmp_path)
    page = owner_client.get(f"/projects/1/experiments/{job.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'action="/projects/1/experiments/{job.id}/resume"' in page and "Resume training" in page
    response = owner_client.post(f"/projects/1/experiments/{job.id}/resume")
    assert response.status_code == 302 and status_of(job.id) == "pending"
    page = owner_client.get(f"/projects/1/experiments/{job.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Resume training" not in page
