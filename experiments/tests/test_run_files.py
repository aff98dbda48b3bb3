"""What a run leaves behind: weights, log, configuration, metrics and their bundle, in the storage (the local
disk or an S3 bucket), with sizes and SHA-256, downloaded by their owner only."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
import torch
from django.core.files.storage import default_storage

from experiments import run_files
from experiments.models import RunFile, TrainingJob
from experiments.tests.processes import wait_for
from experiments.tests.test_training import URL, create, finished
from live.models import Event

pytestmark = pytest.mark.django_db(transaction=True)
ALL_FILES = {"best.pt", "last.pt", "train.log", "config.json", "metrics.csv", "bundle.zip"}
SMALL = "resnet10t"  # 20 MB of weights where resnet18 has 45: the files are what these tests look at


def download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response.streaming  # read from the storage in chunks, never whole into memory
    body = b"".join(response.streaming_content)
    assert len(body) == int(response["Content-Length"])
    assert hashlib.sha256(body).hexdigest() == response["X-Checksum-SHA256"]
    return body


def test_a_run_leaves_its_weights_log_configuration_and_metrics_with_checksums(owner_api, datasets_root, processes):
    job = create(owner_api, epochs=2, model_name=SMALL)
    worker = processes("worker-a")
    job = wait_for(lambda: finished(job.id), 180, "the training to finish", worker)
    assert job.status == "completed", job.error_message

    files = {file["name"]: file for file in owner_api.get(f"{URL}/{job.id}").json()["files"]}
    assert set(files) == ALL_FILES
    bodies = {}
    for name, file in files.items():
        bodies[name] = download(owner_api, file["download_url"])
        assert (len(bodies[name]), hashlib.sha256(bodies[name]).hexdigest()) == (file["size"], file["sha256"])

    bundle = zipfile.ZipFile(io.BytesIO(bodies["bundle.zip"]))
    assert bundle.namelist() == ["best.pt", "metrics.csv", "config.json", "train.log"]
    assert all(bundle.read(name) == bodies[name] for name in bundle.namelist())
    rows = list(csv.DictReader(io.StringIO(bodies["metrics.csv"].decode())))
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    assert [float(row["accuracy"]) for row in rows] == [m.accuracy for m in job.metrics.order_by("epoch")]
    config = json.loads(bodies["config.json"])
    assert (config["model_name"], config["epochs"], config["trained_on"]) == (SMALL, 2, "cpu")
    assert config["image_size"] == 32
    assert config["initial_weights"] == "scratch" and config["versions"]["timm"]
    log = bodies["train.log"].decode()
    assert "epoch 1/2" in log and "epoch 2/2" in log and f"Experiment {job.id} completed" in log

    best = torch.load(io.BytesIO(bodies["best.pt"]), weights_only=True)
    best_epoch = job.best_metric()
    assert (best["epoch"], best["accuracy"]) == (best_epoch.epoch, best_epoch.accuracy)
    assert best["classes"] == ["circle", "square"] and best["model_name"] == SMALL
    last = torch.load(io.BytesIO(bodies["last.pt"]), weights_only=True)
    assert last["epoch"] == 2 and "optimizer" in last


@pytest.mark.once
def test_the_files_go_through_an_s3_bucket_between_machines_that_share_no_disk(
    owner_api, datasets_root, processes, s3_bucket, settings, tmp_path
):
    job = create(owner_api, epochs=1, model_name=SMALL)
    worker = processes("worker-s3", MEDIA_ROOT=tmp_path / "worker-media", **s3_bucket.env)
    job = wait_for(lambda: finished(job.id), 180, "the training to finish", worker)
    assert job.status == "completed", job.error_message

    stored = {run_file.name: run_file for run_file in job.files.all()}
    assert set(stored) == ALL_FILES
    # Each file once: a replaced copy (the log, stored as it grew) is deleted from the bucket.
    assert sorted(s3_bucket.keys()) == sorted(run_file.storage_name for run_file in stored.values())
    best = download(owner_api, f"{URL}/{job.id}/files/best.pt")
    assert hashlib.sha256(best).hexdigest() == stored["best.pt"].sha256
    assert not (tmp_path / "worker-media").exists() and not (settings.MEDIA_ROOT / "runs").exists()


def stored_file(job, name, data: bytes, tmp_path) -> RunFile:
    path = tmp_path / name
    path.write_bytes(data)
    return run_files.store(job, name, path)


def finished_job() -> TrainingJob:
    return TrainingJob.objects.filter(project_id=1, status="completed").first()


def test_only_the_owner_downloads_and_a_missing_file_is_a_404(owner_api, other_api, anon_api, tmp_path):
    job = finished_job()
    stored_file(job, "best.pt", b"weights", tmp_path)
    assert owner_api.get(f"{URL}/{job.id}/files/best.pt").status_code == 200
    assert other_api.get(f"{URL}/{job.id}/files/best.pt").status_code == 404
    assert anon_api.get(f"{URL}/{job.id}/files/best.pt").status_code == 401
    for name in ("bundle.zip", "nothing.txt", "..%2Fbest.pt"):
        assert owner_api.get(f"{URL}/{job.id}/files/{name}").status_code == 404


def test_the_page_offers_the_downloads_with_their_size_and_checksum(owner_client, other_client, tmp_path):
    job = finished_job()
    best = stored_file(job, "best.pt", b"w" * 2048, tmp_path)
    page = owner_client.get(f"/projects/1/experiments/{job.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="/projects/1/experiments/{job.id}/files/best.pt"' in page
    assert best.sha256 in page and "2.0\xa0KB" in page
    response = owner_client.get(f"/projects/1/experiments/{job.id}/files/best.pt")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"w" * 2048
    assert response["Content-Disposition"] == f'attachment; filename="experiment-{job.id}-best.pt"'
    assert other_client.get(f"/projects/1/experiments/{job.id}/files/best.pt").status_code == 404


def test_storing_a_file_again_replaces_the_stored_copy(demo, tmp_path):
    job = finished_job()
    first = stored_file(job, "train.log", b"epoch 1\n", tmp_path)
    assert stored_file(job, "train.log", b"epoch 1\n", tmp_path).storage_name == first.storage_name  # unchanged
    second = stored_file(job, "train.log", b"epoch 1\nepoch 2\n", tmp_path)
    assert job.files.get(name="train.log").storage_name == second.storage_name != first.storage_name
    assert not default_storage.exists(first.storage_name)
    with default_storage.open(second.storage_name) as file:
        assert file.read() == b"epoch 1\nepoch 2\n"


def test_the_page_shows_the_end_of_a_long_log(owner_client, tmp_path):
    job = finished_job()
    lines = [f"line {i} {'x' * 60}" for i in range(1000)]
    stored_file(job, "train.log", ("\n".join(lines) + "\n").encode(), tmp_path)
    panel = owner_client.get(f"/projects/1/experiments/{job.id}/panel").content.decode()
    shown = panel.split('id="training-log"')[1].split("</pre>")[0]
    assert "line 999 " in shown and "line 700 " not in shown
    assert shown.split(">", 1)[1].startswith("line ")  # from the start of a line


def test_deleting_an_experiment_deletes_its_stored_files(owner_api, tmp_path):
    job = finished_job()
    names = [stored_file(job, name, b"data", tmp_path).storage_name for name in ("best.pt", "train.log")]
    assert owner_api.delete(f"{URL}/{job.id}").status_code == 204
    assert not any(default_storage.exists(name) for name in names)


def test_a_growing_log_is_stored_and_announced_while_the_run_trains(owner_api, datasets_root, processes):
    job = create(owner_api, epochs=500, model_name=SMALL)
    worker = processes("worker-a")
    wait_for(lambda: Event.objects.filter(type="training_log", payload__experiment_id=job.id).exists(), 60,
             "a log event", worker)  # fmt: skip
    wait_for(lambda: "epoch 2/500" in run_files.log_tail(job), 60, "the log to show epoch 2", worker)
    owner_api.post(f"{URL}/{job.id}/cancel")
    wait_for(lambda: finished(job.id), 30, "the training to stop", worker)
