"""Upload -> check -> train, end to end through the API and a real worker process (no task run in-process)."""

import pytest

from datasets.models import DatasetVersion
from datasets.tests.test_datasets import coco_from_yolo, upload, zip_folder
from experiments.models import TrainingJob
from experiments.tests.processes import start_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "make_archive, model, framework, task",
    [
        pytest.param(
            lambda root: zip_folder(root / "shapes-cls"), "resnet18", "timm", "image_classification", id="image-folder"
        ),
        # The other formats take the same database path: they are checked in the SQLite pass.
        pytest.param(
            lambda root: zip_folder(root / "shapes-det"), "yolo11n", "ultralytics", "object_detection",
            id="yolo-detection", marks=pytest.mark.once,
        ),
        pytest.param(
            lambda root: zip_folder(root / "shapes-seg"), "yolo11n-seg", "ultralytics", "instance_segmentation",
            id="yolo-segmentation", marks=pytest.mark.once,
        ),
        pytest.param(
            lambda root: coco_from_yolo(root / "shapes-det", polygons=False), "yolo11n", "ultralytics",
            "object_detection", id="coco", marks=pytest.mark.once,
        ),
    ],
)  # fmt: skip
def test_an_uploaded_archive_is_checked_and_trained_on_by_a_worker(
    owner_api, demo_datasets, settings, tmp_path, make_archive, model, framework, task
):
    settings.DATASETS_ROOT, settings.RUNS_DIR = demo_datasets, tmp_path / "runs"
    worker = start_worker("worker-data", tmp_path)  # its own, empty dataset cache: it fetches the version
    try:
        response = upload(owner_api, "uploaded", make_archive(demo_datasets))
        assert response.status_code == 201, response.content
        version = wait_for(
            lambda: DatasetVersion.objects.exclude(status="pending").filter(pk=response.json()["id"]).first(),
            60, "the worker to check the version", worker,
        )  # fmt: skip
        assert version.status == "ready", version.findings
        assert task in version.task_types
        body = {"framework": framework, "model_name": model, "task_type": task, "dataset": version.id,
                "epochs": 1, "batch_size": 8, "learning_rate": 0.001, "image_size": 32}  # fmt: skip
        created = owner_api.post("/api/v1/projects/1/experiments", body, format="json")
        assert created.status_code == 201, created.content
        job = wait_for(
            lambda: TrainingJob.objects.filter(pk=created.json()["id"], status__in=["completed", "failed"]).first(),
            240, "the training to finish", worker,
        )  # fmt: skip
        assert job.status == "completed", job.error_message
        assert job.dataset_version_id == version.id and job.accuracy is not None
        assert (settings.DATASET_CACHE_DIR / version.content_hash).is_dir()
    finally:
        worker.stop()
