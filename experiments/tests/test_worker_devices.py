"""Which device a worker trains on, which jobs it claims, and how --gpus starts one worker per GPU."""

import os
import sys

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from experiments.management.commands import run_worker
from experiments.models import TrainingJob
from experiments.tests.processes import start_worker, wait_for
from experiments.tests.test_training import create, finished


@pytest.mark.parametrize(
    "value, available, gpus",
    [("all", 1, [0]), ("all", 4, [0, 1, 2, 3]), ("ALL", 2, [0, 1]), ("0,2", 4, [0, 2]), ("1", 2, [1])],
)
def test_gpus_names_the_gpus_to_start_workers_on(value, available, gpus):
    assert run_worker.parse_gpus(value, available) == gpus


@pytest.mark.parametrize(
    "value, available, message",
    [
        ("all", 0, "has no GPU"),
        ("2", 2, "GPUs 0 to 1"),
        ("0,0", 2, "each named once"),
        ("-1", 2, "GPUs 0 to 1"),
        ("first", 2, "'all' or GPU indexes"),
        ("", 2, "'all' or GPU indexes"),
    ],
)
def test_a_wrong_gpus_value_is_refused_with_what_is_there(value, available, message):
    with pytest.raises(CommandError, match=message):
        run_worker.parse_gpus(value, available)


def test_each_gpu_worker_gets_the_same_options_with_its_own_device_and_worker_id():
    parser = run_worker.Command().create_parser("manage.py", "run_worker")
    options = vars(parser.parse_args(["--gpus", "all", "--interval", "1", "--batch", "--worker-id", "box"]))
    assert run_worker.worker_arguments(options, 1) == [
        sys.executable, str(settings.BASE_DIR / "manage.py"), "run_worker", "--device=cuda:1",
        "--worker-id=box-gpu1", "--interval=1.0", "--backend=default", "--verbosity=1", "--batch",
    ]  # fmt: skip


def test_a_cpu_worker_hides_the_gpus(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert run_worker.see_only("cpu") is False
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""


@pytest.mark.parametrize(
    "device, message",
    [("gpu", "cpu, cuda or cuda:N"), ("cuda:x", "cpu, cuda or cuda:N"), ("cuda:2", "lists 2 GPU")],
)
def test_a_wrong_device_is_refused(monkeypatch, device, message):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(CommandError, match=message):
        run_worker.see_only(device)


def test_asking_for_a_gpu_where_none_is_visible_is_refused(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(CommandError, match="no GPU"):
        run_worker.see_only("cuda")
    assert run_worker.see_only("") is False  # no device named: the CPU


def test_a_worker_on_one_gpu_sees_only_that_one(monkeypatch):
    """Where there is a GPU, --device cuda:1 of "3,7" leaves 7; here, without one, it is refused after."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,7")
    try:
        assert run_worker.see_only("cuda:1") is True
    except CommandError as error:
        assert "no such GPU" in str(error)
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "7"


@pytest.mark.parametrize("device, queue", [("any", "default"), ("gpu", "gpu"), ("cpu", "cpu"), (None, "default")])
def test_a_job_waits_in_the_queue_of_its_device(device, queue):
    assert TrainingJob(device=device).queue_name == queue


@pytest.mark.django_db(transaction=True)
def test_a_cpu_worker_trains_cpu_and_any_jobs_and_leaves_gpu_jobs_to_gpu_workers(owner_api, datasets_root, tmp_path):
    gpu_job = create(owner_api, epochs=1, device="gpu")
    cpu_job = create(owner_api, epochs=1, device="cpu")
    any_job = create(owner_api, epochs=1)
    queues = dict(DBTaskResult.objects.values_list("args_kwargs__args__0", "queue_name"))
    assert queues == {gpu_job.id: "gpu", cpu_job.id: "cpu", any_job.id: "default"}
    worker = start_worker("worker-cpu", tmp_path, TRAINING_DEVICE="cpu")
    try:
        wait_for(lambda: finished(cpu_job.id) and finished(any_job.id), 180, "the CPU and any jobs", worker)
    finally:
        worker.stop()
    for job in (cpu_job, any_job):
        job.refresh_from_db()
        assert job.status == "completed", job.error_message
        assert all(m.gpu_utilization is None and m.images_per_second > 0 for m in job.metrics.all())
    gpu_job.refresh_from_db()
    assert gpu_job.status == "pending"
    assert DBTaskResult.objects.get(queue_name="gpu").status == "READY"
    assert "queues=cpu,default" in worker.log_path.read_text()
