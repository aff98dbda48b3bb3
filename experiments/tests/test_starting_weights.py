"""Starting from weights rather than from nothing: pretrained weights an operator put in WEIGHTS_DIR, or the
best weights of one of the user's earlier experiments (fine-tuning, also on other classes)."""

import random
import shutil

import pytest
import torch
from PIL import Image

from experiments import run_files
from experiments.management.commands.make_demo_datasets import write_classification
from experiments.models import TrainingJob
from experiments.tests.processes import wait_for
from experiments.tests.test_training import URL, create, finished

CREATE = {
    "framework": "timm", "model_name": "resnet18", "task_type": "image_classification", "dataset_path": "shapes-cls",
    "epochs": 1, "batch_size": 8, "learning_rate": 0.001,
}  # fmt: skip


@pytest.fixture
def weights_dir(settings, tmp_path):
    settings.WEIGHTS_DIR = tmp_path / "weights"
    settings.WEIGHTS_DIR.mkdir()
    return settings.WEIGHTS_DIR


def completed_with_best_weights(tmp_path, project_id=1, model_name="resnet18") -> TrainingJob:
    job = TrainingJob.objects.filter(project_id=project_id).first()
    TrainingJob.objects.filter(pk=job.pk).update(status="completed", model_name=model_name, framework="timm")
    (tmp_path / "best.pt").write_bytes(b"weights")
    run_files.store(job, "best.pt", tmp_path / "best.pt")
    return TrainingJob.objects.get(pk=job.pk)


@pytest.mark.django_db
class TestChoosingTheStart:
    def test_missing_pretrained_weights_are_a_400_naming_the_file_expected(self, owner_api, datasets_root, weights_dir):
        response = owner_api.post(URL, {**CREATE, "initial_weights": "pretrained"}, format="json",
                                  HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
        assert response.status_code == 400
        message = response.json()["errors"]["initial_weights"][0]
        assert "resnet18.safetensors" in message and "WEIGHTS_DIR" in message
        yolo = {**CREATE, "framework": "ultralytics", "model_name": "yolo11n", "task_type": "object_detection",
                "dataset_path": "shapes-det", "initial_weights": "pretrained"}  # fmt: skip
        response = owner_api.post(URL, yolo, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert "yolo11n.pt" in response.json()["errors"]["initial_weights"][0]

    def test_pretrained_weights_in_the_folder_are_offered_and_recorded(self, owner_api, datasets_root, weights_dir):
        (weights_dir / "resnet18.safetensors").write_bytes(b"weights")
        options = owner_api.get(f"{URL}/starting-weights?framework=timm&model_name=resnet18").json()
        assert (options["pretrained_available"], options["pretrained_file"]) == (True, "resnet18.safetensors")
        response = owner_api.post(URL, {**CREATE, "initial_weights": "pretrained"}, format="json")
        assert response.status_code == 201
        assert (response.json()["initial_weights"], response.json()["start_from"]) == ("pretrained", None)

    def test_hugging_face_cache_files_count_as_pretrained_weights(self, owner_api, datasets_root, weights_dir):
        snapshot = weights_dir / "huggingface/hub/models--timm--resnet18.a1_in1k/snapshots/abc123"
        snapshot.mkdir(parents=True)
        (snapshot / "model.safetensors").write_bytes(b"weights")
        assert owner_api.post(URL, {**CREATE, "initial_weights": "pretrained"}, format="json").status_code == 201

    def test_an_earlier_experiment_of_the_same_model_is_offered_and_recorded(self, owner_api, datasets_root, tmp_path):
        source = completed_with_best_weights(tmp_path)
        options = owner_api.get(f"{URL}/starting-weights?framework=timm&model_name=resnet18").json()
        assert [job["id"] for job in options["experiments"]] == [source.id]
        assert owner_api.get(f"{URL}/starting-weights?framework=timm&model_name=resnet50").json()["experiments"] == []
        response = owner_api.post(
            URL, {**CREATE, "initial_weights": "experiment", "start_from": source.id}, format="json"
        )
        assert response.status_code == 201, response.content
        assert (response.json()["initial_weights"], response.json()["start_from"]) == ("experiment", source.id)

    @pytest.mark.parametrize(
        "change, field, message",
        [
            ({"start_from": None}, "start_from", "Choose the experiment"),
            ({"start_from": 987654}, "start_from", "You have no experiment 987654"),
            ({"model_name": "resnet50"}, "start_from", "it can start only another resnet18"),
            ({"initial_weights": "scratch"}, "start_from", "only with initial_weights experiment"),
            ({"initial_weights": "imagenet"}, "initial_weights", "Choose one of: scratch, pretrained, experiment"),
        ],
    )
    def test_a_wrong_start_is_a_400_naming_the_problem(
        self, owner_api, datasets_root, tmp_path, change, field, message
    ):
        source = completed_with_best_weights(tmp_path)
        body = {**CREATE, "initial_weights": "experiment", "start_from": source.id, **change}
        response = owner_api.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert message in response.json()["errors"][field][0]

    def test_another_users_experiment_or_one_without_weights_is_not_a_start(
        self, owner_api, other_api, datasets_root, tmp_path
    ):
        source = completed_with_best_weights(tmp_path)
        other_project = other_api.post("/api/v1/projects", {"name": "mine"}, format="json").json()["id"]
        body = {**CREATE, "initial_weights": "experiment", "start_from": source.id}
        response = other_api.post(f"/api/v1/projects/{other_project}/experiments", body, format="json",
                                  HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
        assert response.json()["errors"]["start_from"] == [f"You have no experiment {source.id}."]
        other_options = other_api.get(f"/api/v1/projects/{other_project}/experiments/starting-weights"
                                      "?framework=timm&model_name=resnet18").json()  # fmt: skip
        assert other_options["experiments"] == []
        source.files.all().delete()
        response = owner_api.post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert "has no best weights to start from" in response.json()["errors"]["start_from"][0]

    def test_the_form_offers_the_starts_of_the_chosen_model(self, owner_client, weights_dir, tmp_path):
        source = completed_with_best_weights(tmp_path)
        (weights_dir / "resnet18.safetensors").write_bytes(b"weights")
        (weights_dir / "yolo11n.pt").write_bytes(b"weights")
        form = owner_client.get("/projects/1/experiments/new").content.decode()
        assert 'data-pretrained-models="timm:resnet18 ultralytics:yolo11n"' in form
        assert f'<option value="{source.id}" data-model="timm:resnet18">' in form


# Real trainings: the weights are really used.


@pytest.fixture
def shapes(settings, tmp_path):
    """Two datasets of the same classes drawn apart (another dataset, same head) and one with a third class."""
    root = tmp_path / "datasets"
    write_classification(root / "shapes-a", 400, random.Random("a"))
    write_classification(root / "shapes-b", 200, random.Random("b"))
    shutil.copytree(root / "shapes-b", root / "three-classes")
    for split, count in (("train", 40), ("val", 10)):
        (root / "three-classes" / split / "blank").mkdir()
        for i in range(count):
            Image.new("RGB", (64, 64), (160 + i, 200, 180)).save(root / "three-classes" / split / "blank" / f"{i}.png")
    settings.DATASETS_ROOT = root
    settings.RUNS_DIR = tmp_path / "runs"
    return root


def first_epoch_accuracy(job) -> float:
    return job.metrics.get(epoch=1).accuracy


@pytest.mark.django_db(transaction=True)
@pytest.mark.once
def test_fine_tuning_starts_from_the_earlier_runs_accuracy_not_from_chance(owner_api, demo, shapes, processes):
    worker = processes("worker-a")
    # resnet10t: it learns these shapes in a few epochs on our CPU.
    plain = {"model_name": "resnet10t", "image_size": 32, "batch_size": 16, "augmentation": "none"}
    first = create(owner_api, dataset_path="shapes-a", epochs=5, **plain)
    first = wait_for(lambda: finished(first.id), 300, "the first training", worker)
    assert first.status == "completed", first.error_message
    best = first.best_metric().accuracy
    assert best >= 0.9, "the first run did not learn; the comparison below would mean nothing"

    # On another dataset of the same classes, one epoch at a fine-tuning's usual smaller learning rate (AdamW's
    # first steps at 1e-3 shake the weights it starts from), from the first run's weights and from scratch.
    gentle = {**plain, "dataset_path": "shapes-b", "epochs": 1, "learning_rate": 0.0001}
    tuned = create(owner_api, initial_weights="experiment", start_from=first.id, **gentle)
    scratch = create(owner_api, **gentle)
    tuned, scratch = (wait_for(lambda j=j: finished(j.id), 120, "one epoch", worker) for j in (tuned, scratch))
    assert tuned.status == scratch.status == "completed", (tuned.error_message, scratch.error_message)
    print(f"first run: epoch 1 {first_epoch_accuracy(first):.3f}, best {best:.3f}; on another dataset, epoch 1: "
          f"fine-tuned {first_epoch_accuracy(tuned):.3f}, from scratch {first_epoch_accuracy(scratch):.3f}")  # fmt: skip
    assert first_epoch_accuracy(tuned) >= best - 0.1  # where the first run got to, not chance (0.5)
    assert first_epoch_accuracy(tuned) >= first_epoch_accuracy(scratch) + 0.2

    other_classes = create(owner_api, dataset_path="three-classes", epochs=1, initial_weights="experiment",
                           start_from=first.id, **plain)  # fmt: skip
    other_classes = wait_for(lambda: finished(other_classes.id), 120, "the fine-tuning on three classes", worker)
    assert other_classes.status == "completed", other_classes.error_message
    assert "84 of 86 tensors loaded; new: fc.weight, fc.bias" in run_files.log_tail(other_classes)
    assert torch.load(other_classes.run_dir / "best.pt", weights_only=True)["classes"] == ["blank", "circle", "square"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.once
def test_pretrained_weights_from_the_folder_are_what_training_starts_from(
    owner_api, datasets_root, weights_dir, processes
):
    import timm
    from safetensors.torch import save_file

    pretrained = timm.create_model("resnet18", num_classes=1000).state_dict()  # an ImageNet-shaped file
    save_file(pretrained, weights_dir / "resnet18.safetensors")
    job = create(owner_api, epochs=1, initial_weights="pretrained")
    worker = processes("worker-a", WEIGHTS_DIR=weights_dir)
    job = wait_for(lambda: finished(job.id), 120, "the training", worker)
    assert job.status == "completed", job.error_message
    assert "Started from resnet18.safetensors: 120 of 122 tensors loaded; new: fc.weight, fc.bias" in (
        run_files.log_tail(job)
    )
    trained = torch.load(job.run_dir / "best.pt", weights_only=True)["model"]
    fresh = timm.create_model("resnet18", num_classes=2).state_dict()

    def similarity(a, b):
        return torch.nn.functional.cosine_similarity(a.flatten().float(), b.flatten().float(), dim=0).item()

    # One epoch moves the weights a little: they are still the file's, not a fresh random draw.
    assert similarity(trained["conv1.weight"], pretrained["conv1.weight"]) > 0.9
    assert abs(similarity(fresh["conv1.weight"], pretrained["conv1.weight"])) < 0.2


@pytest.mark.django_db(transaction=True)
@pytest.mark.once
def test_a_yolo_run_starts_from_an_earlier_runs_best_weights(owner_api, datasets_root, processes):
    from ultralytics import YOLO

    detection = {
        "framework": "ultralytics",
        "model_name": "yolo11n",
        "task_type": "object_detection",
        "dataset_path": "shapes-det",
        "epochs": 1,
        "batch_size": 8,
        "learning_rate": 0.01,
        "image_size": 64,
    }
    worker = processes("worker-a")
    first = create(owner_api, **detection)
    first = wait_for(lambda: finished(first.id), 240, "the first training", worker)
    assert first.status == "completed", first.error_message
    tuned = create(owner_api, **detection, initial_weights="experiment", start_from=first.id)
    tuned = wait_for(lambda: finished(tuned.id), 240, "the fine-tuning", worker)
    assert tuned.status == "completed", tuned.error_message
    assert "starts from the best weights of experiment" in run_files.log_tail(tuned)

    def first_conv(path):
        return next(iter(YOLO(str(path)).model.state_dict().values())).flatten().float()

    def similarity(a, b):
        return torch.nn.functional.cosine_similarity(a, b, dim=0).item()

    source, result = first_conv(first.run_dir / "best.pt"), first_conv(tuned.run_dir / "best.pt")
    fresh = next(iter(YOLO("yolo11n.yaml").model.state_dict().values())).flatten().float()
    assert similarity(result, source) > 0.9  # Ultralytics' "pretrained" took them
    assert abs(similarity(fresh, source)) < 0.2
