import logging
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, connection, connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from experiments.lifecycle import reap_lost_jobs
from live.events import forget_before

logger = logging.getLogger(__name__)

EVENT_RETENTION_DAYS = 7
DATABASE_RETRY_SECONDS = 2


class Housekeeper(threading.Thread):
    """Beside the queue loop: fails jobs whose worker went silent, prunes old live events."""

    def __init__(self, interval: float):
        super().__init__(name="housekeeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self):
        from datetime import timedelta

        from django.utils import timezone

        while not self.stopped.wait(self.interval):
            try:
                if reaped := reap_lost_jobs():
                    logger.warning("Failed %s experiment(s) whose worker was lost", reaped)
                cutoff = timezone.now() - timedelta(days=EVENT_RETENTION_DAYS)
                forget_before(cutoff)
            except Exception:
                logger.exception("Housekeeping failed")
            finally:
                connection.close()


class Command(DbWorkerCommand):
    help = (
        "Runs trainings: django-tasks-db's db_worker (claims queued tasks with SELECT ... FOR UPDATE "
        "SKIP LOCKED on PostgreSQL), plus a housekeeper that fails the jobs of lost workers. A worker on a "
        "GPU takes the queues 'gpu' and 'default', one on the CPU 'cpu' and 'default'."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--device",
            default=settings.TRAINING_DEVICE,
            help="cpu, cuda or cuda:N: what this worker trains on (default: TRAINING_DEVICE, else the GPU when "
            "there is one).",
        )
        parser.add_argument(
            "--gpus",
            help="'all' or a list such as 0,2: start one worker per GPU, each with --device cuda:N, and wait.",
        )
        # Reloading would restart trainings half-way; opt in with --reload.
        # The queues follow the device unless --queue-name is given.
        parser.set_defaults(reload=False, queue_name=None)

    def handle(self, *args, **options):
        if options["gpus"]:
            gpus = parse_gpus(options["gpus"], visible_gpu_count())
            return run_one_worker_per_gpu(gpus, options)
        uses_gpu = see_only(options["device"])
        if options["queue_name"] is None:
            options["queue_name"] = "gpu,default" if uses_gpu else "cpu,default"
        interval = max(1.0, min(10.0, settings.WORKER_TIMEOUT_SECONDS / 3))
        housekeeper = Housekeeper(interval)
        housekeeper.start()
        try:
            self.work(*args, **options)
        finally:
            housekeeper.stopped.set()

    def work(self, *args, **options):
        while True:
            try:
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError) as error:
                # The database went away (a restart, a failover): wait for it rather than exit.
                # A training it interrupted is failed as "Worker lost" by the housekeeping.
                logger.warning("Database unavailable (%s); retrying in %s s", error, DATABASE_RETRY_SECONDS)
                connections.close_all()
                time.sleep(DATABASE_RETRY_SECONDS)


def see_only(device: str) -> bool:
    """Restricts this process to `device` through CUDA_VISIBLE_DEVICES, before anything starts CUDA, so that
    the trainers (Ultralytics too) find exactly that GPU, or none; whether it trains on a GPU."""
    device = (device or "").strip().lower()
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        return False
    if device == "":
        return visible_gpu_count() > 0
    if device == "cuda":
        if visible_gpu_count() == 0:
            raise CommandError("--device cuda: this machine has no GPU (or CUDA_VISIBLE_DEVICES hides them all)")
        return True
    prefix, _colon, index = device.partition(":")
    if prefix != "cuda" or not index.isdigit():
        raise CommandError(f"--device must be cpu, cuda or cuda:N, not {device!r}")
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:  # already narrowed: N counts among those listed
        names = [name.strip() for name in listed.split(",") if name.strip()]
        if int(index) >= len(names):
            raise CommandError(f"--device {device}: CUDA_VISIBLE_DEVICES lists {len(names)} GPU(s)")
        os.environ["CUDA_VISIBLE_DEVICES"] = names[int(index)]
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = index
    if visible_gpu_count() == 0:
        raise CommandError(f"--device {device}: this machine has no such GPU")
    return True


def visible_gpu_count() -> int:
    """The GPUs this process may use, counted through NVML without starting CUDA (which reads
    CUDA_VISIBLE_DEVICES once, when it starts): all of them, or those CUDA_VISIBLE_DEVICES names that exist."""
    present = nvml_gpu_count()
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None or not present:
        return present
    names = [name.strip() for name in listed.split(",") if name.strip()]
    return sum(1 for name in names if not name.isdigit() or int(name) < present)


def nvml_gpu_count() -> int:
    import pynvml

    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:  # no NVIDIA driver on this machine
        return 0
    try:
        return pynvml.nvmlDeviceGetCount()
    finally:
        pynvml.nvmlShutdown()


def parse_gpus(value: str, available: int) -> list[int]:
    """--gpus: "all", or GPU indexes separated by commas, each below `available`."""
    if value.strip().lower() == "all":
        if available == 0:
            raise CommandError("--gpus all: this machine has no GPU")
        return list(range(available))
    try:
        gpus = [int(part) for part in value.split(",")]
    except ValueError:
        raise CommandError(f"--gpus must be 'all' or GPU indexes such as 0,2, not {value!r}") from None
    wrong = [gpu for gpu in gpus if not 0 <= gpu < available]
    if wrong or len(set(gpus)) != len(gpus):
        raise CommandError(f"--gpus {value}: this machine has GPUs 0 to {available - 1}, each named once")
    return gpus


def worker_arguments(options: dict, gpu: int) -> list[str]:
    """The command line of one GPU's worker: this command's options, --device cuda:N and a worker id of its own."""
    arguments = [
        sys.executable, str(settings.BASE_DIR / "manage.py"), "run_worker", f"--device=cuda:{gpu}",
        f"--worker-id={options['worker_id']}-gpu{gpu}", f"--interval={options['interval']}",
        f"--backend={options['backend_name']}", f"--verbosity={options['verbosity']}",
    ]  # fmt: skip
    if options["queue_name"]:
        arguments.append(f"--queue-name={options['queue_name']}")
    if options["exclude_queues"]:
        arguments.append(f"--exclude-queues={options['exclude_queues']}")
    if options["max_tasks"]:
        arguments.append(f"--max-tasks={options['max_tasks']}")
    if options["batch"]:
        arguments.append("--batch")
    if not options["startup_delay"]:
        arguments.append("--no-startup-delay")
    return arguments


def run_one_worker_per_gpu(gpus: list[int], options: dict) -> None:
    """Starts a worker process per GPU and waits for them; SIGTERM or Ctrl-C stops them all."""
    workers = [subprocess.Popen(worker_arguments(options, gpu)) for gpu in gpus]

    def stop(signum, frame):
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [worker.wait() for worker in workers]
    if any(codes):
        raise CommandError(f"Worker exit codes: {codes}")
