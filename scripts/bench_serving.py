"""Getting a model out, measured: the exports' verification figures and "try it" latency on this machine.

    .venv/bin/python scripts/bench_serving.py [--tries 20] [--image-size 64]

On a scratch SQLite database it trains a resnet18 (timm) and a yolo11n
(Ultralytics) on the demo shapes through the real queue and worker, exports
and verifies both, then sends "try it" requests through the services, as the
API does, to a real run_inference_worker: the first one after the worker
started, then --tries more. The time is from the request to the stored answer
(queue, model, image out), as the page would see it, plus the model's own
inference time. Prints a table; figures, not assertions.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="bench-serving-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="platform_site.settings",
    DEBUG="1",
    DATABASE_URL=f"sqlite:///{WORK / 'bench.db'}",
    DATASETS_ROOT=str(WORK / "datasets"),
    RUNS_DIR=str(WORK / "runs"),
    MEDIA_ROOT=str(WORK / "media"),
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from experiments import services  # noqa: E402
from experiments.models import TrainingJob  # noqa: E402
from experiments.tests.processes import start_worker, wait_for  # noqa: E402
from projects.models import Project  # noqa: E402
from serving import services as serving  # noqa: E402
from serving.models import Export, Prediction  # noqa: E402

MODELS = {
    "resnet18": dict(framework="timm", model_name="resnet18", task_type="image_classification",
                     dataset_path="shapes-cls", epochs=2, batch_size=16, learning_rate=0.001),
    "yolo11n": dict(framework="ultralytics", model_name="yolo11n", task_type="object_detection",
                    dataset_path="shapes-det", epochs=1, batch_size=8, learning_rate=0.01),
}  # fmt: skip


def answered(prediction_id: int) -> Prediction | None:
    prediction = Prediction.objects.get(pk=prediction_id)
    return prediction if prediction.status != Prediction.Status.PENDING else None


def try_once(job: TrainingJob, index: int, worker) -> tuple[float, float]:
    started = time.monotonic()
    prediction = serving.prediction_create(job=job, val_image=index)
    prediction = wait_for(lambda: answered(prediction.id), 120, "an answer", worker)
    assert prediction.status == Prediction.Status.DONE, prediction.error
    return time.monotonic() - started, prediction.result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--image-size", type=int, default=64)
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("make_demo_datasets", "--images", "200", verbosity=0)
    project = Project.objects.get(pk=1)
    trainer = start_worker("bench-trainer", WORK)
    inference = None
    try:
        jobs = {}
        for name, fields in MODELS.items():
            job = services.experiment_create(project=project, image_size=options.image_size, **fields)
            jobs[name] = wait_for(lambda j=job: TrainingJob.objects.get(pk=j.id) if TrainingJob.objects.get(
                pk=j.id).is_terminal else None, 900, f"training {name}", trainer)  # fmt: skip
            assert jobs[name].status == "completed", jobs[name].error_message
            serving.exports_request(job=jobs[name])
            wait_for(lambda j=job: all(e.is_done for e in Export.objects.filter(job=j)), 900, "exports", trainer)

        print(f"\nExports at {options.image_size} px, checked on each model's validation images (CPU):\n")
        print(f"{'model':<10} {'format':<12} {'status':<9} {'images':>6} {'max |diff|':>11} {'agree':>6} "
              f"{'metric torch/export':>20} {'size MB':>8} {'latency ms':>11}")  # fmt: skip
        for name, job in jobs.items():
            for e in Export.objects.filter(job=job):
                print(f"{name:<10} {e.format:<12} {e.status:<9} {e.images_checked or 0:>6} {e.max_abs_diff or 0:>11.2g} "
                      f"{e.agreement or 0:>6.0%} {e.metric_original or 0:>9.4f}/{e.metric_export or 0:<10.4f} "
                      f"{(e.size or 0) / 1e6:>8.1f} {e.latency_ms or 0:>11.1f}")  # fmt: skip

        inference = start_worker("bench-inference", WORK, "run_inference_worker")
        wait_for(lambda: "Starting worker" in inference.tail(), 120, "the inference worker", inference)
        print(f"\n\"Try it\", request to stored answer through the 'inference' queue (worker polls every 0.2 s), "
              f"{options.tries} tries after the first:\n")  # fmt: skip
        print(f"{'model':<10} {'first s':>8} {'p50 s':>7} {'p90 s':>7} {'max s':>7} {'inference p50 s':>16}")
        for name, job in jobs.items():
            first, _ = try_once(job, 0, inference)
            rounds = [try_once(job, i + 1, inference) for i in range(options.tries)]
            totals = sorted(total for total, _ in rounds)
            p90 = totals[min(len(totals) - 1, round(0.9 * (len(totals) - 1)))]
            print(f"{name:<10} {first:>8.2f} {statistics.median(totals):>7.2f} {p90:>7.2f} {totals[-1]:>7.2f} "
                  f"{statistics.median(inner for _, inner in rounds):>16.3f}")  # fmt: skip
    finally:
        trainer.stop()
        if inference:
            inference.stop()


if __name__ == "__main__":
    main()
