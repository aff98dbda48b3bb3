"""Real trainings through the real queue and worker processes (no mocks): a few seconds each on a CPU."""

import shutil
import signal

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from experiments.models import TrainingJob
from experiments.tests.processes import wait_for
from live.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/projects/1/experiments"


def create(client, **fields):
    body = {
        "framework": "timm", "model_name": "resnet18", "task_type": "image_classification",
        "dataset_path": "shapes-cls", "epochs": 2, "batch_size": 8, "learning_rate": 0.001, "image_size": 32,
    }  # fmt: skip
    body.update(fields)
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return TrainingJob.objects.get(pk=response.json()["id"])


def status_of(job_id):
    return TrainingJob.objects.get(pk=job_id).status


def finished(job_id):
    job = TrainingJob.objects.get(pk=job_id)
    return job if job.is_terminal else None


def test_a_timm_classifier_trains_through_the_queue(owner_api, datasets_root, processes):
    job = create(owner_api)
    worker = processes("worker-a")
    job = wait_for(lambda: finished(job.id), 180, "the training to finish", worker)
    assert job.status == "completed", job.error_message
    assert 0 <= job.accuracy <= 1 and job.loss > 0
    assert job.started_at <= job.completed_at and job.current_epoch == 2 and job.worker_id == "worker-a"
    metrics = list(job.metrics.order_by("epoch"))
    assert [m.epoch for m in metrics] == [1, 2]
    assert metrics[-1].accuracy == job.accuracy and all(m.train_loss > 0 and m.duration_seconds > 0 for m in metrics)
    assert all(m.images_per_second > 0 and m.gpu_utilization is None and m.gpu_memory_mb is None for m in metrics)
    events = Event.objects.filter(payload__experiment_id=job.id).exclude(type="training_log").order_by("id")
    types = list(events.values_list("type", flat=True))
    assert types == ["experiment_created", "status_changed", "training_progress", "training_progress", "status_changed"]
    task = DBTaskResult.objects.get()
    assert task.status == "SUCCESSFUL" and task.worker_ids == ["worker-a"]


@pytest.mark.once
@pytest.mark.parametrize(
    "model_name, task_type, dataset",
    [("yolo11n", "object_detection", "shapes-det"), ("yolo11n-seg", "instance_segmentation", "shapes-seg")],
)
def test_ultralytics_trains_detection_and_segmentation(
    owner_api, datasets_root, processes, model_name, task_type, dataset
):
    job = create(
        owner_api, framework="ultralytics", model_name=model_name, task_type=task_type, dataset_path=dataset,
        epochs=1, batch_size=8, learning_rate=0.01, image_size=64,
    )  # fmt: skip
    worker = processes("worker-a")
    job = wait_for(lambda: finished(job.id), 240, "the training to finish", worker)
    assert job.status == "completed", job.error_message
    # A few dozen images train too little for a meaningful mAP; the pipeline is what is tested.
    assert job.accuracy is not None and 0 <= job.accuracy <= 1
    assert job.loss is not None and job.loss > 0
    assert list(job.metrics.values_list("epoch", flat=True)) == [1]
    assert job.metrics.get().images_per_second > 0


def test_a_broken_dataset_fails_with_a_reason(owner_api, datasets_root, processes, settings, tmp_path):
    root = tmp_path / "datasets"
    shutil.copytree(datasets_root / "shapes-cls", root / "cats")
    settings.DATASETS_ROOT = root
    job = create(owner_api, dataset_path="cats")
    shutil.rmtree(root / "cats" / "val")  # broken after it was accepted
    worker = processes("worker-a")
    job = wait_for(lambda: finished(job.id), 120, "the training to fail", worker)
    assert job.status == "failed"
    assert job.error_message.startswith("Dataset has no val split")
    assert (job.accuracy, job.loss) == (None, None)
    assert "Traceback" in worker.tail(200)  # the full story is in the worker's log


def test_cancelling_a_running_training_stops_it_and_keeps_its_metrics(owner_api, datasets_root, processes):
    job = create(owner_api, epochs=500)
    worker = processes("worker-a")
    wait_for(lambda: TrainingJob.objects.get(pk=job.id).current_epoch >= 1, 120, "a first epoch", worker)
    assert owner_api.post(f"{URL}/{job.id}/cancel").json()["cancel_requested"] is True
    job = wait_for(lambda: finished(job.id), 30, "the training to stop", worker)
    assert (job.status, job.error_message) == ("cancelled", "Cancelled by user")
    assert 1 <= job.metrics.count() < 500
    assert job.accuracy is not None  # the last intermediate value stays
    assert owner_api.post(f"{URL}/{job.id}/cancel").status_code == 409


def test_a_killed_worker_never_leaves_its_job_running(owner_api, datasets_root, processes):
    job = create(owner_api, epochs=500)
    doomed = processes("worker-doomed", WORKER_TIMEOUT_SECONDS=3)
    wait_for(lambda: TrainingJob.objects.get(pk=job.id).current_epoch >= 1, 120, "a first epoch", doomed)
    doomed.kill(signal.SIGKILL)
    assert status_of(job.id) == "running"
    survivor = processes("worker-survivor", WORKER_TIMEOUT_SECONDS=3)
    job = wait_for(lambda: finished(job.id), 60, "the lost job to be noticed", survivor)
    assert (job.status, job.error_message, job.worker_id) == ("failed", "Worker lost", "worker-doomed")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only: SKIP LOCKED claims")
def test_two_workers_run_ten_jobs_exactly_once(owner_api, datasets_root, processes):
    assert connection.vendor == "postgresql"
    jobs = [create(owner_api, epochs=1) for _ in range(10)]
    workers = [processes("worker-a"), processes("worker-b")]
    wait_for(lambda: all(finished(j.id) for j in jobs), 300, "ten trainings", *workers)
    # A worker records its task's outcome a moment after the job's: wait for the last ones.
    wait_for(lambda: not DBTaskResult.objects.filter(status="RUNNING").exists(), 30, "the tasks' results", *workers)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == "completed", job.error_message
        assert job.metrics.count() == 1
        starts = Event.objects.filter(payload__experiment_id=job.id, type="status_changed", payload__status="running")
        assert starts.count() == 1
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == 10
    assert all(t.status == "SUCCESSFUL" and len(t.worker_ids) == 1 for t in tasks), [
        (t.status, t.worker_ids) for t in tasks
    ]
    print("jobs per worker:", {w: sum(t.worker_ids == [w] for t in tasks) for w in ("worker-a", "worker-b")})
