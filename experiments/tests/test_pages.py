import pytest

from experiments.models import TrainingJob

pytestmark = pytest.mark.django_db

PAGES = [
    "/projects/1/experiments/new",
    "/projects/1/experiments/3",
    "/projects/1/experiments/3/panel",
    "/projects/1/experiments/3/row",
    "/projects/1/section",
]


@pytest.mark.parametrize("path", PAGES)
def test_the_owner_sees_every_experiment_page(owner_client, path):
    assert owner_client.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES + ["/projects/1/experiments/4", "/projects/1/experiments/abc"])
def test_other_users_get_404(client, demo, path):
    client.force_login(demo["other"])
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, demo, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_project_page_has_the_new_experiment_button(owner_client):
    html = owner_client.get("/projects/1").content.decode()
    assert 'href="/projects/1/experiments/new"' in html and "새 실험" in html
    assert 'data-live-project="1"' in html


def test_the_form_starts_a_pending_experiment(owner_client, demo_versions):
    form = owner_client.get("/projects/1/experiments/new").content.decode()
    detection = demo_versions["shapes-det"]
    assert f'value="{detection.id}" data-tasks="object_detection">shapes-det v1' in form and "yolo11n-seg" in form
    response = owner_client.post(
        "/projects/1/experiments/new",
        {"framework": "ultralytics", "model_name": "yolo11n", "task_type": "object_detection",
         "dataset": detection.id, "epochs": 3, "batch_size": 4, "learning_rate": 0.01, "image_size": "",
         "augmentation": "light", "device": "cpu"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/projects/1"
    job = TrainingJob.objects.get(model_name="yolo11n", status="pending")
    assert (job.epochs, job.image_size, job.dataset_version) == (3, None, detection)
    assert (job.augmentation, job.device) == ("light", "cpu")


def test_the_form_shows_errors_beside_their_fields(owner_client, demo_versions):
    response = owner_client.post(
        "/projects/1/experiments/new",
        {"framework": "timm", "model_name": "resnet18", "task_type": "image_classification",
         "dataset": demo_versions["shapes-det"].id, "epochs": 0, "batch_size": 4, "learning_rate": 0.01,
         "augmentation": "standard", "device": "any"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_dataset-error"' in html and "no labels for image_classification" in html
    assert 'id="id_epochs-error"' in html and "between 1 and 1000" in html
    assert not TrainingJob.objects.filter(status="pending").exists()


def test_the_experiment_page_shows_parameters_curves_and_errors(owner_client):
    job = TrainingJob.objects.get(pk=2)
    for epoch, accuracy in [(1, 0.4), (2, 0.6)]:
        job.metrics.create(
            epoch=epoch, train_loss=1 / epoch, val_loss=1.2 / epoch, accuracy=accuracy, duration_seconds=3
        )
    html = owner_client.get("/projects/1/experiments/2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "resnet50" in html and "/app/datasets/dogs-vs-cats" in html and "CUDA out of memory" in html
    assert 'data-chart="accuracy"' in html and 'data-chart="val_loss"' in html
    assert html.count("<circle") == 4  # two epochs on two charts
    assert "Cancel training" not in html  # finished
    assert "Input-bound" not in html and "GPU busy" not in html  # no GPU figures: not trained on CUDA


def test_the_experiment_page_shows_speed_and_says_when_the_gpu_waited_for_data(owner_client):
    job = TrainingJob.objects.get(pk=2)
    job.augmentation, job.device = "light", "gpu"
    job.save()
    for epoch, busy in [(1, 0.31), (2, 0.45)]:
        job.metrics.create(
            epoch=epoch, accuracy=0.5, duration_seconds=3, images_per_second=812.4, gpu_utilization=busy,
            gpu_memory_mb=2048,
        )  # fmt: skip
    html = owner_client.get("/projects/1/experiments/2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Light: small shifts and brightness, no flips" in html and "<dd>GPU</dd>" in html
    assert html.count(">812<") == 2 and ">31.0%<" in html and ">2048 MB<" in html
    # The first epoch (cuDNN trying kernels) counts only while it is the only one.
    assert "Input-bound" in html and "busy only 45.0% of the time" in html
    job.metrics.filter(epoch=2).update(gpu_utilization=0.95)
    html = owner_client.get("/projects/1/experiments/2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "GPU busy" in html and "Input-bound" not in html
    job.metrics.filter(epoch=2).delete()
    html = owner_client.get("/projects/1/experiments/2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "busy only 31.0% of the time" in html


def test_a_row_shows_live_progress_and_a_sparkline(owner_client):
    job = TrainingJob.objects.get(pk=5)
    job.current_epoch = 10
    job.save()
    for epoch in (1, 2, 3):
        job.metrics.create(epoch=epoch, accuracy=epoch / 10, duration_seconds=1)
    html = owner_client.get("/projects/1/experiments/5/row").content.decode()
    assert "실행 중 (Epoch 10/50)" in html
    assert '<progress class="epoch-progress" max="50" value="10"' in html
    assert 'class="sparkline"' in html


def test_the_cancel_button_cancels(owner_client):
    job = TrainingJob.objects.create(
        project_id=1, model_name="resnet18", framework="timm", task_type="image_classification",
        dataset_path="/d", epochs=3, batch_size=2, learning_rate=0.01,
    )  # fmt: skip
    assert "학습 취소" in owner_client.get(f"/projects/1/experiments/{job.id}").content.decode()
    response = owner_client.post(f"/projects/1/experiments/{job.id}/cancel", {"next": "/projects/1?status=pending"})
    assert response.status_code == 302 and response["Location"] == "/projects/1?status=pending"
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert owner_client.post(f"/projects/1/experiments/{job.id}/cancel").status_code == 409


def test_cancel_ignores_a_next_on_another_site(owner_client):
    job = TrainingJob.objects.create(
        project_id=1, model_name="resnet18", framework="timm", task_type="image_classification",
        dataset_path="/d", epochs=3, batch_size=2, learning_rate=0.01,
    )  # fmt: skip
    response = owner_client.post(f"/projects/1/experiments/{job.id}/cancel", {"next": "https://evil.example/"})
    assert response["Location"] == f"/projects/1/experiments/{job.id}"


def test_only_the_owner_can_cancel_from_the_page(client, demo):
    client.force_login(demo["other"])
    assert client.post("/projects/1/experiments/5/cancel").status_code == 404
    assert TrainingJob.objects.get(pk=5).status == "running"
