"""Training throughput through the real queue and worker, on whatever device is present.

    .venv/bin/python scripts/train_benchmark.py [--images 200] [JOB ...]

JOB is framework:model:task:dataset:epochs, e.g. timm:resnet18:image_classification:shapes-cls:20
(default: resnet18 classification and, when Ultralytics is installed, YOLO11n detection).
Everything happens in a scratch folder: SQLite database, demo datasets, runs.
Prints epochs/s and final accuracy per job; figures, not assertions.
"""

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="train-bench-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="platform_site.settings",
    DEBUG="1",
    DATABASE_URL=f"sqlite:///{WORK / 'bench.db'}",
    DATASETS_ROOT=str(WORK / "datasets"),
    RUNS_DIR=str(WORK / "runs"),
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from experiments import services  # noqa: E402
from experiments.models import TrainingJob  # noqa: E402
from projects.models import Project  # noqa: E402

DEFAULT_JOBS = ["timm:resnet18:image_classification:shapes-cls:20"]
if importlib.util.find_spec("ultralytics"):
    DEFAULT_JOBS.append("ultralytics:yolo11n:object_detection:shapes-det:20")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("jobs", nargs="*", default=DEFAULT_JOBS)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()

    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores)"
    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--force", "--no-large", verbosity=0)
    call_command("make_demo_datasets", "--images", str(args.images), verbosity=0)
    project = Project.objects.get(pk=1)
    jobs = []
    for spec in args.jobs:
        framework, model, task, dataset, epochs = spec.split(":")
        jobs.append(
            services.experiment_create(
                project=project, framework=framework, model_name=model, task_type=task, dataset_path=dataset,
                epochs=int(epochs), batch_size=16, learning_rate=0.001 if framework == "timm" else 0.01,
                image_size=64 if framework == "timm" else 128,
            )
        )  # fmt: skip
    started = time.monotonic()
    call_command("run_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    wall = time.monotonic() - started

    print(
        f"\nDevice: {device}; torch {torch.__version__}; {args.images} images per dataset; worker wall time {wall:.1f} s"
    )
    print(
        f"{'job':52} {'status':10} {'epochs':>6} {'train s':>8} {'epochs/s':>9} {'first epoch s':>14} {'accuracy':>9}"
    )
    for job in jobs:
        job = TrainingJob.objects.get(pk=job.pk)
        durations = list(job.metrics.order_by("epoch").values_list("duration_seconds", flat=True))
        total = sum(durations)
        rate = len(durations) / total if total else 0
        accuracy = "-" if job.accuracy is None else f"{job.accuracy:.3f}"
        label = f"{job.framework} {job.model_name} {job.task_type}"
        first = durations[0] if durations else 0
        print(
            f"{label:52} {job.status:10} {len(durations):>6} {total:>8.1f} {rate:>9.2f} {first:>14.2f} {accuracy:>9}"
            + (f"  ({job.error_message})" if job.error_message else "")
        )
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
