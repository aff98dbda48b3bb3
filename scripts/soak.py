"""Readers and a writer at once: nothing fails, nothing is locked out, every write is visible afterwards.

    .venv/bin/python scripts/soak.py              # 60 s on SQLite, then 60 s on PostgreSQL
    .venv/bin/python scripts/soak.py --quick      # 5 s each (what `make test` runs)
    .venv/bin/python scripts/soak.py --write-report   # also writes the table to docs/reliability.md

For each database: a scratch database with a project of 2,000 experiments, the
production server (gunicorn + uvicorn workers, DEBUG off) on 127.0.0.1, 8
reader threads on keep-alive connections that read the experiments list (API,
random pages and status filters), the project page and its live section,
and one writer process that drives experiments through their lifecycle the
way the training worker does (start, an epoch's metrics, complete, fail or
cancel) and adds new ones. Afterwards every experiment the writer touched is
read back through the API and compared with what the writer last wrote, the
maintained per-status counts with COUNT(*), and the first page of each status
filter the readers used (API and the page's section) with the same page read
afresh from the database.

Exits 1 on any failed read, failed write or mismatch.
"""

import argparse
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from load_harness import (
    PYTHON,
    ROOT,
    credentials,
    django_setup,
    on_each_database,
    prepare,
    production_env,
    scratch_database,
    start_server,
    stop_server,
    write_report_section,
)

REPORT = ROOT / "docs" / "reliability.md"
STATUSES = ["pending", "running", "completed", "failed", "cancelled"]
READ_FILTERS = ["", "running", "completed", "pending,running"]  # the status filters the readers use


# --------------------------------------------------------------------------
# Phases inside Django (subprocesses)
# --------------------------------------------------------------------------


def setup(experiments: int) -> dict:
    django_setup()
    from django.contrib.auth import get_user_model

    from experiments.models import TrainingJob
    from projects.models import Project

    owner = get_user_model().objects.create_user("soak", password="soak-password-1234")
    project = Project.objects.create(owner=owner, name="Soak")
    rng = random.Random(3)
    TrainingJob.objects.bulk_create(
        new_job(project, rng.choice(["completed"] * 8 + ["failed", "cancelled"])) for _ in range(experiments)
    )
    return {"project": project.pk, **credentials(owner)}


def new_job(project, status="pending"):
    from experiments.models import TrainingJob

    return TrainingJob(
        project=project, model_name="resnet18", framework="timm", task_type="image_classification", status=status,
        dataset_path="/data/soak", epochs=3, batch_size=8, learning_rate=0.01,
        accuracy=0.9 if status == "completed" else None, loss=0.1 if status == "completed" else None,
    )  # fmt: skip


def writer(project_id: int, seconds: float) -> dict:
    """Drives experiments through their lifecycle with the lifecycle functions the worker uses; returns what it wrote."""
    django_setup()
    from experiments import lifecycle
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    rng = random.Random(5)
    expected, errors, writes = {}, [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            job = new_job(project)
            job.save()
            writes += 1
            job = lifecycle.experiment_start(job_id=job.pk, worker_id="soak")
            writes += 1
            for epoch in range(1, 3):
                accuracy = round(rng.random(), 4)
                lifecycle.experiment_record_epoch(
                    job=job, epoch=epoch, train_loss=0.5, val_loss=0.4, accuracy=accuracy, duration_seconds=0.01
                )
                writes += 1
            # What each ending should leave (docs/api.md): final values, none, or the last intermediate ones.
            ending = rng.choice(["completed", "failed", "cancelled"])
            if ending == "completed":
                lifecycle.experiment_complete(job=job, accuracy=accuracy, loss=0.3)
                final = {"accuracy": accuracy, "loss": 0.3}
            elif ending == "failed":
                lifecycle.experiment_fail(job=job, reason="Soak failure")
                final = {"accuracy": None, "loss": None}
            else:
                lifecycle.experiment_mark_cancelled(job=job)
                final = {"accuracy": accuracy, "loss": 0.4}
            writes += 1
            expected[job.pk] = {"status": ending, "current_epoch": 2, **final}
        except Exception as error:  # noqa: BLE001 (every failure is reported)
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.005)
    return {"writes": writes, "errors": errors[:20], "error_count": len(errors), "expected": expected}


def counts(project_id: int) -> dict:
    """The maintained counts beside COUNT(*), and the first page of each filter the readers used, read afresh."""
    django_setup()
    from experiments.api.serializers import ExperimentSerializer
    from experiments.models import TrainingJob
    from experiments.selectors import status_counts
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    actual = {s: TrainingJob.objects.filter(project=project, status=s).count() for s in STATUSES}
    first_pages = {}
    for status in READ_FILTERS:
        jobs = TrainingJob.objects.for_project(project).newest_first()
        if status:
            jobs = jobs.with_status(status.split(","))
        first_pages[status] = ExperimentSerializer(jobs[:20], many=True).data
    return {"maintained": status_counts(project), "actual": actual, "first_pages": first_pages}


def phase(env: dict, *args) -> dict:
    result = subprocess.run([PYTHON, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"phase {args} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------
# Readers (threads in the driver)
# --------------------------------------------------------------------------


class Reader(threading.Thread):
    def __init__(self, port: int, data: dict, deadline: float, seed: int):
        super().__init__(daemon=True)
        self.port, self.data, self.deadline = port, data, deadline
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.failures: dict[str, int] = {}
        self.locked = 0

    def paths(self):
        pid = self.data["project"]
        api = {"Authorization": f"Bearer {self.data['token']}", "X-Forwarded-Proto": "https"}
        page = {"Cookie": f"sessionid={self.data['session']}", "X-Forwarded-Proto": "https"}
        status = self.rng.choice([f"&status={status}" if status else "" for status in READ_FILTERS])
        number = self.rng.randint(1, 60)
        return self.rng.choice([
            (f"/api/v1/projects/{pid}/experiments?page={number}{status}", api),
            (f"/api/v1/projects/{pid}/experiments?page=1{status}", api),
            (f"/projects/{pid}?page={number}{status}", page),
            (f"/projects/{pid}/section?page=1{status}", page),
        ])  # fmt: skip

    def run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while time.monotonic() < self.deadline:
            path, headers = self.paths()
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                self.latencies.append((time.perf_counter() - started) * 1000)
                if response.status != 200:
                    key = f"HTTP {response.status}"
                    self.failures[key] = self.failures.get(key, 0) + 1
                if b"database is locked" in body:
                    self.locked += 1
            except (OSError, http.client.HTTPException) as error:
                key = type(error).__name__
                self.failures[key] = self.failures.get(key, 0) + 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.close()


def read_back(port: int, data: dict, expected: dict) -> list[str]:
    """Every experiment the writer finished, through the API: as the writer left it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {data['token']}", "X-Forwarded-Proto": "https"}
    mismatches = []
    for job_id, wanted in expected.items():
        connection.request("GET", f"/api/v1/projects/{data['project']}/experiments/{job_id}", headers=headers)
        response = connection.getresponse()
        body = json.loads(response.read())
        seen = {field: body.get(field) for field in wanted} if response.status == 200 else {"HTTP": response.status}
        if seen != wanted:
            mismatches.append(f"experiment {job_id}: wrote {wanted}, read {seen}")
    connection.close()
    return mismatches


def first_pages_read_back(port: int, data: dict, first_pages: dict) -> list[str]:
    """The first page of each filter, through the API and the page's section, as the database has it now.

    A page served stale after the writer's changes would show up here.
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    api = {"Authorization": f"Bearer {data['token']}", "X-Forwarded-Proto": "https"}
    page = {"Cookie": f"sessionid={data['session']}", "X-Forwarded-Proto": "https"}
    mismatches = []
    for status, expected in first_pages.items():
        query = "?page=1" + (f"&status={status}" if status else "")
        connection.request("GET", f"/api/v1/projects/{data['project']}/experiments{query}", headers=api)
        served = json.loads(connection.getresponse().read())
        if served != expected:
            ids = ([job["id"] for job in served][:5], [job["id"] for job in expected][:5])
            mismatches.append(f"API list {query}: served experiments {ids[0]}..., the database has {ids[1]}...")
        connection.request("GET", f"/projects/{data['project']}/section{query}", headers=page)
        html = connection.getresponse().read().decode()
        rows = re.findall(r'data-experiment-id="(\d+)" data-status="(\w+)"', html)
        if rows != [(str(job["id"]), job["status"]) for job in expected]:
            mismatches.append(f"page section {query}: rows {rows[:3]}..., the database has other rows or statuses")
    connection.close()
    return mismatches


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------


def soak(kind: str, args, scratch: Path) -> dict | None:
    url = scratch_database(kind, scratch, "vision_soak")
    if url is None:
        return None
    env = production_env(url, args.port)
    print(f"[{kind}] preparing", flush=True)
    prepare(env)
    data = phase(env, "--phase", "setup", "--experiments", str(args.experiments))
    server = start_server(env, scratch / f"server-{kind}.log")
    try:
        deadline = time.monotonic() + args.seconds
        writer_process = subprocess.Popen(
            [PYTHON, __file__, "--phase", "writer", "--project", str(data["project"]), "--seconds", str(args.seconds)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        readers = [Reader(args.port, data, deadline, seed) for seed in range(args.readers)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        out, err = writer_process.communicate(timeout=args.seconds + 60)
        if writer_process.returncode != 0:
            raise SystemExit(f"the writer failed:\n{out}\n{err}")
        written = json.loads(out.strip().splitlines()[-1])
        expected = {int(k): v for k, v in written["expected"].items()}
        mismatches = read_back(args.port, data, expected)
        maintained = phase(env, "--phase", "counts", "--project", str(data["project"]))
        if maintained["maintained"] != maintained["actual"]:
            mismatches.append(f"status counts {maintained['maintained']} != COUNT(*) {maintained['actual']}")
        mismatches += first_pages_read_back(args.port, data, maintained["first_pages"])
    finally:
        stop_server(server)
    latencies = [ms for r in readers for ms in r.latencies]
    failures: dict[str, int] = {}
    for reader in readers:
        for key, count in reader.failures.items():
            failures[key] = failures.get(key, 0) + count
    result = {
        "kind": kind,
        "reads": len(latencies),
        "reads_per_s": len(latencies) / args.seconds,
        "read_failures": failures,
        "locked": sum(r.locked for r in readers),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "writes": written["writes"],
        "write_errors": written["error_count"],
        "write_error_samples": written["errors"],
        "finished": len(expected),
        "mismatches": mismatches,
    }
    print(f"[{kind}] {summary_line(result)}", flush=True)
    return result


def summary_line(r: dict) -> str:
    return (
        f"{r['reads']} reads ({r['reads_per_s']:.0f}/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms), "
        f"failed reads {sum(r['read_failures'].values())}, 'database is locked' {r['locked']}, "
        f"{r['writes']} writes, failed writes {r['write_errors']}, "
        f"{r['finished']} experiments read back, mismatches {len(r['mismatches'])}"
    )


def table(runs: list[dict], args) -> str:
    lines = [
        f"Soak: {args.readers} readers for {args.seconds} s beside one writer, project of {args.experiments:,} "
        "experiments, production server (gunicorn + 2 uvicorn workers) on 127.0.0.1.",
        "",
        "| database | reads | reads/s | read p50 | read p99 | failed reads | 'database is locked' | writes | "
        "failed writes | experiments read back | mismatches |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r['kind']} | {r['reads']:,} | {r['reads_per_s']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | "
            f"{sum(r['read_failures'].values())} | {r['locked']} | {r['writes']:,} | {r['write_errors']} | "
            f"{r['finished']:,} | {len(r['mismatches'])} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=["setup", "writer", "counts"], help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="5 s per database (CI)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--experiments", type=int, default=2000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--write-report", action="store_true", help=f"write the table to {REPORT.name}")
    args = parser.parse_args()

    if args.phase == "setup":
        print(json.dumps(setup(args.experiments)))
        return
    if args.phase == "writer":
        print(json.dumps(writer(args.project, args.seconds), default=str))
        return
    if args.phase == "counts":
        print(json.dumps(counts(args.project)))
        return
    if args.quick:
        args.seconds = 5

    runs = on_each_database(args.databases, "soak-", lambda kind, scratch: soak(kind, args, scratch))
    print()
    print(table(runs, args))
    problems = [
        f"{r['kind']}: {detail}"
        for r in runs
        for detail in [
            *(f"{count} reads failed with {key}" for key, count in r["read_failures"].items()),
            *([f"{r['locked']} answers said 'database is locked'"] if r["locked"] else []),
            *(r["write_error_samples"] if r["write_errors"] else []),
            *r["mismatches"][:20],
        ]
    ]
    if args.write_report:
        write_report_section(REPORT, "soak", "scripts/soak.py " + " ".join(sys.argv[1:]), table(runs, args))
    if problems or not runs:
        print("\nFAILED:\n" + "\n".join(problems or ["no database could be soaked"]))
        raise SystemExit(1)
    print("\nOK: no failed reads or writes, every write read back")


if __name__ == "__main__":
    main()
