from datetime import timedelta

import pytest
from django.utils import timezone

from experiments import lifecycle
from experiments.models import TrainingJob
from live.models import Event

pytestmark = pytest.mark.django_db


def running_job(heartbeat_seconds_ago: float, **fields) -> TrainingJob:
    beat = timezone.now() - timedelta(seconds=heartbeat_seconds_ago)
    return TrainingJob.objects.create(
        project_id=1, model_name="resnet18", framework="timm", task_type="image_classification",
        dataset_path="/d", epochs=5, batch_size=2, learning_rate=0.01, status="running",
        started_at=beat, heartbeat_at=beat, worker_id="w1", **fields,
    )  # fmt: skip


def test_a_silent_worker_is_lost(demo, settings):
    settings.WORKER_TIMEOUT_SECONDS = 60
    lost, alive = running_job(61), running_job(5)
    assert lifecycle.reap_lost_jobs() == 1
    lost.refresh_from_db(), alive.refresh_from_db()
    assert (lost.status, lost.error_message, lost.accuracy) == ("failed", "Worker lost", None)
    assert lost.completed_at is not None
    assert alive.status == "running"
    event = Event.objects.filter(payload__experiment_id=lost.id).latest("id")
    assert (event.type, event.payload["status"]) == ("status_changed", "failed")


def test_a_lost_job_the_user_cancelled_ends_cancelled(demo):
    job = running_job(120, cancel_requested_at=timezone.now())
    lifecycle.reap_lost_jobs(timeout_seconds=60)
    job.refresh_from_db()
    assert (job.status, job.error_message) == ("cancelled", "Cancelled by user")


def test_a_job_without_heartbeats_is_left_alone(demo):
    # Rows typed in by hand (like the demo's running experiment) were never claimed by a worker.
    assert TrainingJob.objects.get(pk=5).heartbeat_at is None
    lifecycle.reap_lost_jobs(timeout_seconds=0)
    assert TrainingJob.objects.get(pk=5).status == "running"


def test_a_worker_that_comes_back_cannot_overwrite_the_verdict(demo):
    job = running_job(120)
    lifecycle.reap_lost_jobs(timeout_seconds=60)
    assert not lifecycle.experiment_record_epoch(
        job=job, epoch=1, train_loss=1, val_loss=1, accuracy=0.5, duration_seconds=1
    )
    lifecycle.experiment_complete(job=job, accuracy=0.9, loss=0.1)
    job.refresh_from_db()
    assert (job.status, job.accuracy, job.metrics.count()) == ("failed", None, 0)


def test_only_one_worker_can_claim_a_job(demo):
    job = TrainingJob.objects.create(
        project_id=1, model_name="resnet18", framework="timm", task_type="image_classification",
        dataset_path="/d", epochs=5, batch_size=2, learning_rate=0.01,
    )  # fmt: skip
    assert lifecycle.experiment_start(job_id=job.id, worker_id="a") is not None
    assert lifecycle.experiment_start(job_id=job.id, worker_id="b") is None
    job.refresh_from_db()
    assert (job.status, job.worker_id) == ("running", "a")


def test_epochs_update_the_row_and_store_metrics(demo):
    job = running_job(0)
    assert lifecycle.experiment_record_epoch(
        job=job, epoch=2, train_loss=0.7, val_loss=0.6, accuracy=0.75, duration_seconds=1.5
    )
    job.refresh_from_db()
    assert (job.current_epoch, job.accuracy, job.loss, job.progress) == (2, 0.75, 0.6, 0.4)
    event = Event.objects.filter(payload__experiment_id=job.id, type="training_progress").get()
    assert event.message() == {
        "type": "training_progress", "event_id": event.id, "at": event.created_at.isoformat(), "experiment_id": job.id,
        "epoch": 2, "epochs": 5, "progress": 0.4, "loss": 0.6, "accuracy": 0.75,
    }  # fmt: skip
