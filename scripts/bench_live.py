"""Live-update latency: a worker's epoch end -> the browser, with and without Redis.

    .venv/bin/python scripts/bench_live.py [--epochs 20]

For each mode it starts, on a scratch SQLite database, the production ASGI
server (uvicorn) and a worker, opens the project page in Chromium, trains a
small timm model and records, for every training_progress event, the time from
the event's commit timestamp (written by the worker at the end of the epoch)
to its arrival in the page. It also measures how long a cancel takes to stop a
running training. Prints a table; figures, not assertions.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="bench-live-"))
os.environ.update(
    DJANGO_SETTINGS_MODULE="platform_site.settings",
    DEBUG="1",
    DATABASE_URL=f"sqlite:///{WORK / 'bench.db'}",
    DATASETS_ROOT=str(WORK / "datasets"),
    RUNS_DIR=str(WORK / "runs"),
    DJANGO_ALLOW_ASYNC_UNSAFE="true",  # Playwright's sync API runs an event loop in this thread
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from experiments import services  # noqa: E402
from experiments.models import TrainingJob  # noqa: E402
from experiments.tests.processes import start_server, start_worker, wait_for  # noqa: E402
from projects.models import Project  # noqa: E402

LISTENER = """
window.__latencies = [];
document.addEventListener("experiment-event", (e) => {
  if (e.detail.type === "training_progress") window.__latencies.push(Date.now() - Date.parse(e.detail.at));
});
"""


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_mode(name: str, env: dict, epochs: int, browser) -> dict:
    server, url = start_server(WORK, **env)
    worker = start_worker(f"bench-{name}", WORK, **env)
    try:
        page = browser.new_page(base_url=url)
        page.goto("/accounts/login/")
        page.fill("#id_username", "demo")
        page.fill("#id_password", "demo1234")
        page.click("button[type=submit]")
        page.goto("/projects/1")
        page.evaluate(LISTENER)
        page.wait_for_selector('[data-live-state="connected"]')
        project = Project.objects.get(pk=1)
        common = dict(framework="timm", model_name="resnet18", task_type="image_classification",
                      dataset_path="shapes-cls", batch_size=16, learning_rate=0.001, image_size=32)  # fmt: skip
        job = services.experiment_create(project=project, epochs=epochs, **common)
        wait_for(lambda: TrainingJob.objects.get(pk=job.id).is_terminal, 300, "the training", worker, server)
        page.wait_for_timeout(1500)
        latencies = page.evaluate("window.__latencies")

        long_job = services.experiment_create(project=project, epochs=1000, **common)
        wait_for(lambda: TrainingJob.objects.get(pk=long_job.id).current_epoch >= 2, 120, "two epochs", worker)
        asked = time.monotonic()
        services.experiment_cancel(job=long_job)
        wait_for(lambda: TrainingJob.objects.get(pk=long_job.id).status == "cancelled", 30, "the cancel", worker)
        cancel_seconds = time.monotonic() - asked
        page.close()
    finally:
        worker.stop()
        server.stop()
    return {"mode": name, "latencies": latencies, "cancel": cancel_seconds}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--force", "--no-large", verbosity=0)
    call_command("make_demo_datasets", "--images", "200", verbosity=0)

    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        results.append(run_mode("database relay (no Redis)", {}, args.epochs, browser))
        try:
            import socket

            socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
            results.append(run_mode("Redis (channels-redis)", {"REDIS_URL": args.redis_url}, args.epochs, browser))
        except OSError:
            print("Redis not reachable at 127.0.0.1:6379; skipped the Redis mode")
        browser.close()

    print(
        f"\nEpoch end (worker commit) -> browser, {args.epochs} epochs of resnet18 per mode, CPU: {os.cpu_count()} cores"
    )
    print(f"{'mode':28} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cancel -> stopped s':>20}")
    for r in results:
        lat = r["latencies"]
        if not lat:
            print(f"{r['mode']:28} no events received")
            continue
        print(
            f"{r['mode']:28} {len(lat):>3} {statistics.median(lat):>8.0f} {percentile(lat, 0.95):>8.0f} "
            f"{max(lat):>8.0f} {r['cancel']:>20.2f}"
        )
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
