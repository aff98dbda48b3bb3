"""Asking for exports and predictions: who may, when, and what a bad image gets (a 400 naming the problem)."""

import io

import pytest
from django_tasks_db.models import DBTaskResult
from PIL import Image

from experiments import run_files
from experiments.models import TrainingJob
from experiments.tests.test_training import URL
from serving import exporting
from serving.models import Export, Prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(demo, tmp_path):
    """A completed experiment of the demo owner with best weights stored (not real ones: nothing runs here)."""
    job = TrainingJob.objects.filter(project_id=1, status="completed").first()
    (tmp_path / "best.pt").write_bytes(b"weights")
    run_files.store(job, "best.pt", tmp_path / "best.pt")
    return job


def image_file(format="PNG", size=(32, 32), name="photo.png") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format=format)
    buffer.seek(0)
    buffer.name = name
    return buffer


def post_image(client, job, upload, **extra):
    return client.post(f"{URL}/{job.id}/predictions", {"image": upload}, format="multipart",
                       HTTP_ACCEPT_LANGUAGE="en", **extra)  # fmt: skip


def test_an_image_is_queued_for_the_inference_workers(owner_api, trained, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_image(owner_api, trained, image_file())
    assert response.status_code == 202 and response.json()["status"] == "pending"
    task = DBTaskResult.objects.get()
    assert task.queue_name == "inference" and task.args_kwargs["args"] == [response.json()["id"]]
    prediction = Prediction.objects.get()
    assert prediction.image_name.startswith(f"runs/experiment-{trained.id}/predictions/")
    response = owner_api.post(f"{URL}/{trained.id}/predictions", {"val_image": 3}, format="json")
    assert response.status_code == 202 and response.json()["val_index"] == 3
    assert response.json()["image_url"] is None  # until the worker has answered


@pytest.mark.parametrize(
    "upload, message",
    [
        (io.BytesIO(b"%PDF-1.7 not an image"), "This file is not an image"),
        (image_file("GIF", name="anim.gif"), "GIF images are not read here"),
        (io.BytesIO(image_file().getvalue()[:60]), "truncated or damaged"),
        (image_file(size=(3000, 3000)), "The image has 9000000 pixels; at most 4000000 are read."),
    ],
)
def test_a_bad_image_is_a_400_naming_the_problem(owner_api, trained, settings, upload, message):
    settings.MAX_IMAGE_PIXELS = 4_000_000
    response = post_image(owner_api, trained, upload)
    assert response.status_code == 400 and message in response.json()["errors"]["image"][0]
    assert not Prediction.objects.exists() and not DBTaskResult.objects.exists()


def test_a_too_large_image_is_refused(owner_api, trained, settings):
    settings.MAX_PREDICTION_IMAGE_BYTES = 1000
    response = post_image(owner_api, trained, image_file(size=(400, 400)))
    assert response.status_code == 400 and "larger than" in response.json()["errors"]["image"][0]


def test_nothing_to_predict_on_is_a_400(owner_api, trained):
    response = owner_api.post(f"{URL}/{trained.id}/predictions", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and response.json()["errors"] == {"val_image": ["This field is required."]}
    response = owner_api.post(f"{URL}/{trained.id}/predictions", {}, format="multipart", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and response.json()["errors"] == {"image": ["No file was submitted."]}


def test_an_experiment_without_best_weights_cannot_be_tried_or_exported(owner_api, demo):
    job = TrainingJob.objects.filter(project_id=1, status="completed").first()
    for path in ("predictions", "exports"):
        response = owner_api.post(f"{URL}/{job.id}/{path}", {"val_image": 0}, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 409 and "stored best weights" in response.json()["detail"]


def test_only_the_owner_asks(other_api, anon_api, trained):
    for client, status in ((other_api, 404), (anon_api, 401)):
        assert post_image(client, trained, image_file()).status_code == status
        assert client.post(f"{URL}/{trained.id}/exports").status_code == status
        assert client.get(f"{URL}/{trained.id}/exports").status_code == status


def test_exports_are_queued_once_at_a_time(owner_api, trained, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post(f"{URL}/{trained.id}/exports")
    assert response.status_code == 202
    assert [(e["format"], e["status"], e["download_url"]) for e in response.json()] == [
        ("onnx", "pending", None), ("torchscript", "pending", None),
    ]  # fmt: skip
    assert owner_api.post(f"{URL}/{trained.id}/exports", HTTP_ACCEPT_LANGUAGE="en").status_code == 409
    Export.objects.update(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_api.post(f"{URL}/{trained.id}/exports").status_code == 202  # again, replacing them
    assert Export.objects.count() == 2 and DBTaskResult.objects.count() == 2


def test_a_failed_export_is_not_offered(owner_api, trained):
    Export.objects.create(job=trained, format="onnx", status="failed", error="outputs differ", max_abs_diff=0.5)
    exports = owner_api.get(f"{URL}/{trained.id}/exports").json()
    assert exports[0]["download_url"] is None and exports[0]["max_abs_diff"] == 0.5
    assert owner_api.get(f"{URL}/{trained.id}/exports/onnx/file").status_code == 404


def test_the_page_offers_exports_and_try_it_for_a_trained_model(owner_client, trained):
    Export.objects.create(job=trained, format="onnx", status="failed", error="outputs differ by up to 0.5")
    page = owner_client.get(f"/projects/1/experiments/{trained.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="exports"' in page and 'id="try-it"' in page and "outputs differ by up to 0.5" in page
    response = owner_client.post(f"/projects/1/experiments/{trained.id}/predictions", {"source": "val"})
    assert response.status_code == 302 and Prediction.objects.get().val_index is not None
    response = owner_client.post(f"/projects/1/experiments/{trained.id}/predictions", {"image": image_file("GIF")},
                                 HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 400 and "GIF images are not read here" in response.content.decode()
    untrained = TrainingJob.objects.filter(project_id=1).exclude(pk=trained.pk).first()
    page = owner_client.get(f"/projects/1/experiments/{untrained.id}").content.decode()
    assert 'id="try-it"' not in page


@pytest.mark.parametrize(
    "figures, problem",
    [
        ({"max_abs_diff": 0.01}, "outputs differ by up to 0.01 (at most 0.001 allowed)"),
        ({"agreement": 0.9}, "agrees with PyTorch on 90.0% of the images (at least 99% needed)"),
        ({"metric_export": 0.7}, "its metric is 0.7000, PyTorch's 0.8000"),
    ],
)
def test_an_export_off_by_more_than_the_tolerance_fails(figures, problem):
    good = {"max_abs_diff": 1e-6, "agreement": 1.0, "metric_original": 0.8, "metric_export": 0.8}
    assert exporting._problems(good) == []
    assert exporting._problems({**good, **figures}) == [problem]


def test_detections_agree_within_the_stated_tolerance():
    box = [10.0, 10.0, 30.0, 30.0]
    assert exporting._agree([(0, 0.9, box)], [(0, 0.88, [11.0, 10.0, 31.0, 30.0])])
    assert not exporting._agree([(0, 0.9, box)], [(1, 0.9, box)])  # another class
    assert not exporting._agree([(0, 0.9, box)], [(0, 0.7, box)])  # score off by more than 0.05
    assert not exporting._agree([(0, 0.9, box)], [(0, 0.9, [25.0, 25.0, 45.0, 45.0])])  # IoU under 0.5
    assert exporting._agree([(0, 0.22, box)], [])  # under the confidence on both sides: not compared
    assert not exporting._agree([], [(0, 0.5, box)])  # an extra detection counts too
