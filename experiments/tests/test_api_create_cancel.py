import shutil

import pytest
from django_tasks_db.models import DBTaskResult

from experiments import lifecycle
from experiments.models import TrainingJob

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/1/experiments"
VALID = {
    "framework": "timm",
    "model_name": "resnet18",
    "task_type": "image_classification",
    "dataset_path": "shapes-cls",
    "epochs": 2,
    "batch_size": 8,
    "learning_rate": 0.001,
}


def post(client, **changes):
    return client.post(URL, {**VALID, **changes}, format="json", HTTP_ACCEPT_LANGUAGE="en")


def test_it_creates_a_pending_experiment_and_queues_it_after_commit(
    owner_api, datasets_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(owner_api, image_size=64)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["project_id"] == 1
    assert body["dataset_path"] == str(datasets_root / "shapes-cls")
    assert (body["image_size"], body["current_epoch"], body["progress"], body["metrics"]) == (64, 0, 0.0, [])
    assert len(callbacks) == 1  # enqueued only once the row is committed
    task = DBTaskResult.objects.get()
    assert task.task_path == "experiments.tasks.run_training" and task.args_kwargs["args"] == [body["id"]]
    assert [j["id"] for j in owner_api.get(URL).json()][0] == body["id"]
    assert (body["augmentation"], body["device"], task.queue_name) == ("standard", "any", "default")


def test_the_augmentation_and_the_device_are_recorded_and_choose_the_queue(
    owner_api, datasets_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(owner_api, augmentation="none", device="gpu")
    assert response.status_code == 201, response.content
    body = owner_api.get(f"{URL}/{response.json()['id']}").json()
    assert (body["augmentation"], body["device"]) == ("none", "gpu")
    assert DBTaskResult.objects.get().queue_name == "gpu"


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"model_name": "resnet9000"}, "model_name", "no model named"),
        ({"framework": "keras"}, "framework", "timm, ultralytics"),
        ({"task_type": "object_detection"}, "task_type", "image_classification"),
        ({"framework": "ultralytics", "model_name": "yolo11n-seg", "task_type": "object_detection",
          "dataset_path": "shapes-det"}, "task_type", "instance_segmentation"),
        ({"framework": "ultralytics", "model_name": "yolo99z", "task_type": "object_detection"}, "model_name", "no model"),
        ({"dataset_path": "../../etc"}, "dataset_path", "inside the datasets root"),
        ({"dataset_path": "/etc"}, "dataset_path", "inside the datasets root"),
        ({"dataset_path": "missing"}, "dataset_path", "no dataset"),
        ({"dataset_path": ""}, "dataset", "Choose a dataset version"),
        ({"dataset_path": "shapes-det"}, "dataset_path", "no train split"),
        ({"framework": "ultralytics", "model_name": "yolo11n", "task_type": "object_detection",
          "dataset_path": "shapes-cls"}, "dataset_path", "data.yaml"),
        ({"framework": "ultralytics", "model_name": "yolo11n-seg", "task_type": "instance_segmentation",
          "dataset_path": "shapes-det"}, "dataset_path", "polygon"),
        ({"epochs": 0}, "epochs", "between 1 and 1000"),
        ({"epochs": "ten"}, "epochs", "integer"),
        ({"batch_size": 5000}, "batch_size", "between 1 and 1024"),
        ({"learning_rate": 0}, "learning_rate", "greater than 0"),
        ({"learning_rate": 3}, "learning_rate", "at most 1"),
        ({"image_size": 8}, "image_size", "between 32 and 2048"),
        ({"augmentation": "heavy"}, "augmentation", "none, light, standard"),
        ({"augmentation": None}, "augmentation", "null"),
        ({"device": "tpu"}, "device", "any, gpu, cpu"),
    ],
)  # fmt: skip
def test_bad_experiments_are_a_400_naming_the_field(owner_api, datasets_root, changes, field, words):
    response = post(owner_api, **changes)
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"] and field in body["detail"]
    assert words in body["errors"][field][0]
    assert not TrainingJob.objects.filter(project_id=1, status="pending").exists()


def test_a_dataset_without_a_val_split_is_refused(owner_api, datasets_root, tmp_path, settings):
    broken = tmp_path / "no-val"
    shutil.copytree(datasets_root / "shapes-cls", broken)
    shutil.rmtree(broken / "val")
    settings.DATASETS_ROOT = tmp_path
    response = post(owner_api, dataset_path="no-val")
    assert response.json()["errors"]["dataset_path"][0].startswith("Dataset has no val split")


def test_a_symlink_out_of_the_datasets_root_is_refused(owner_api, datasets_root, tmp_path, settings):
    root = tmp_path / "root"
    root.mkdir()
    (root / "sneaky").symlink_to(datasets_root / "shapes-cls")
    settings.DATASETS_ROOT = root
    assert "inside the datasets root" in post(owner_api, dataset_path="sneaky").json()["errors"]["dataset_path"][0]


def test_missing_fields_are_named(owner_api, datasets_root):
    response = owner_api.post(URL, {"framework": "timm"}, format="json")
    assert response.status_code == 400
    assert {"model_name", "task_type", "epochs", "batch_size", "learning_rate"} <= set(response.json()["errors"])


def test_someone_elses_project_cannot_get_experiments(other_api, anon_api, datasets_root):
    assert post(other_api).status_code == 404
    assert post(other_api).json() == {"detail": "Project not found"}
    assert post(anon_api).status_code == 401
    assert not TrainingJob.objects.filter(model_name="resnet18").exists()


def test_retrieve_gives_progress_and_metrics(owner_api, other_api):
    job = TrainingJob.objects.get(pk=3)
    job.metrics.create(
        epoch=1, train_loss=0.9, val_loss=0.8, accuracy=0.5, duration_seconds=2, images_per_second=640,
        gpu_utilization=0.9, gpu_memory_mb=1500,
    )  # fmt: skip
    response = owner_api.get(f"{URL}/3")
    assert response.status_code == 200
    body = response.json()
    assert body["progress"] == 1.0 and body["cancel_requested"] is False
    assert body["metrics"] == [
        {"epoch": 1, "train_loss": 0.9, "val_loss": 0.8, "accuracy": 0.5, "duration_seconds": 2.0,
         "images_per_second": 640.0, "gpu_utilization": 0.9, "gpu_memory_mb": 1500.0}
    ]  # fmt: skip
    assert other_api.get(f"{URL}/3").json() == {"detail": "Project not found"}
    for missing in ["4", "999", "abc", "99999999999999999999999"]:  # 4 lives in another project
        response = owner_api.get(f"{URL}/{missing}")
        assert (response.status_code, response.json()) == (404, {"detail": "Experiment not found"})


def new_job(status="pending", **fields):
    defaults = {"project_id": 1, "model_name": "resnet18", "framework": "timm", "task_type": "image_classification",
                "dataset_path": "/d", "epochs": 3, "batch_size": 2, "learning_rate": 0.01}  # fmt: skip
    return TrainingJob.objects.create(**{**defaults, "status": status, **fields})


def test_cancelling_a_pending_experiment_is_immediate(owner_api):
    job = new_job()
    response = owner_api.post(f"{URL}/{job.id}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error_message"]) == ("cancelled", "Cancelled by user")
    assert body["completed_at"] is not None


def test_cancelling_a_running_experiment_asks_its_worker(owner_api):
    job = new_job(status="running", worker_id="w1")
    body = owner_api.post(f"{URL}/{job.id}/cancel/").json()
    assert (body["status"], body["cancel_requested"]) == ("running", True)
    assert lifecycle.experiment_cancel_requested(job=job)


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_cancelling_a_finished_experiment_is_a_409(owner_api, status):
    job = new_job(status=status)
    response = owner_api.post(f"{URL}/{job.id}/cancel", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "only pending or running experiments can be cancelled" in response.json()["detail"]
    assert set(response.json()) == {"detail"}


def test_only_the_owner_can_cancel(other_api, anon_api):
    job = new_job()
    assert other_api.post(f"{URL}/{job.id}/cancel").status_code == 404
    assert anon_api.post(f"{URL}/{job.id}/cancel").status_code == 401
    job.refresh_from_db()
    assert job.status == "pending"
