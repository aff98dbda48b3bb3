"""The experiments list at scale: latency and throughput on SQLite and PostgreSQL.

    .venv/bin/python scripts/bench_list.py            # 1,000,000 experiments, one project of 100,000
    .venv/bin/python scripts/bench_list.py --quick    # 20,000 experiments, one project of 10,000

For each database it generates the data through the ORM (bulk inserts) into a
scratch database, starts the production server (gunicorn + uvicorn workers,
DEBUG off, the settings we ship) on 127.0.0.1 and drives it with wrk from
Debian's packages: a separate C process whose own cost is small next to a
Python client's on a 2-core machine, and whose latency histogram is exact.
Each endpoint is measured sequentially (1 connection) and with 8 concurrent
connections, in rounds that take every endpoint in turn, so that the machine's
drift over minutes falls on the floor and on the list alike; each endpoint's
rounds are then pooled into one latency distribution. With --instructions it
also counts the CPU instructions of one request to each endpoint, in-process
under valgrind (callgrind): a cost that does not drift with the machine.
Nothing is cached: every request reads the database, as the first request
after a change does.
Prints one table and writes it, with the commands, the machine
and the list queries' plans, to docs/performance.md (unless --no-write).
"""

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from load_harness import (
    PYTHON,
    ROOT,
    child_processes,
    credentials,
    django_setup,
    on_each_database,
    prepare,
    production_env,
    scratch_database,
    start_server,
    stop_server,
)

PG_DB = "vision_bench"

MARKER = "<!-- Everything below is written by scripts/bench_list.py. -->"

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %.3f %.3f %.3f %.3f\\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
  local quantiles = {}
  for i = 1, 999 do quantiles[i] = string.format("%.3f", latency:percentile(i / 10) / 1000) end
  io.write("QUANTILES " .. table.concat(quantiles, " ") .. "\\n")
end
"""


# --------------------------------------------------------------------------
# Phases that run inside Django (in a subprocess, one database each)
# --------------------------------------------------------------------------


def generate(total: int, big: int) -> dict:
    """Users, projects and `total` experiments, `big` of them in one project, through bulk_create."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from experiments.models import TrainingJob
    from experiments.selectors import status_counts
    from projects.models import Project

    rng = random.Random(7)
    User = get_user_model()
    now = timezone.now()
    year = timedelta(days=365).total_seconds()
    statuses = ["completed"] * 820 + ["failed"] * 90 + ["cancelled"] * 70 + ["running"] * 10 + ["pending"] * 10
    models = [("resnet18", "timm", "image_classification"), ("efficientnet_b0", "timm", "image_classification"),
              ("yolo11n", "ultralytics", "object_detection"), ("yolo11n-seg", "ultralytics", "instance_segmentation")]  # fmt: skip

    started = time.monotonic()
    owner = User.objects.create_user("bench", password="bench-password")
    users = User.objects.bulk_create([User(username=f"user{i}", password="!") for i in range(200)])
    big_project = Project.objects.create(owner=owner, name="Big project", description=f"{big:,} experiments")
    per_project = 500
    others = Project.objects.bulk_create(
        Project(owner=users[i % len(users)], name=f"Project {i}") for i in range(max(1, (total - big) // per_project))
    )

    def rows(project, count):
        for _ in range(count):
            status = rng.choice(statuses)
            model_name, framework, task = rng.choice(models)
            created = now - timedelta(seconds=rng.random() * year)
            done = status in ("completed", "failed", "cancelled")
            yield TrainingJob(
                project=project,
                model_name=model_name,
                framework=framework,
                task_type=task,
                status=status,
                dataset_path=f"/data/{task}",
                epochs=50,
                batch_size=16,
                learning_rate=0.01,
                accuracy=round(rng.uniform(0.5, 0.99), 4) if status == "completed" else None,
                loss=round(rng.uniform(0.05, 1.0), 4) if status == "completed" else None,
                error_message={"failed": "CUDA out of memory", "cancelled": "Cancelled by user"}.get(status),
                created_at=created,
                started_at=created if status != "pending" else None,
                completed_at=created + timedelta(minutes=30) if done else None,
            )

    def insert(project, count):
        batch = []
        for job in rows(project, count):
            batch.append(job)
            if len(batch) == 10_000:
                with transaction.atomic():
                    TrainingJob.objects.bulk_create(batch)
                batch = []
        if batch:
            with transaction.atomic():
                TrainingJob.objects.bulk_create(batch)

    insert(big_project, big)
    remaining = total - big
    for i, project in enumerate(others):
        insert(project, remaining // len(others) + (1 if i < remaining % len(others) else 0))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    seconds = time.monotonic() - started

    return {
        "seconds": round(seconds, 1),
        "total": TrainingJob.objects.count(),
        "big_project": big_project.pk,
        "big_count": sum(status_counts(big_project).values()),
        **credentials(owner),
    }


def explain(project_id: int) -> dict:
    """The plans of the list queries as the API runs them."""
    django_setup()
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from experiments.models import TrainingJob
    from experiments.selectors import experiment_list, status_counts
    from platform_site.pagination import Paginator
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    counts = status_counts(project)
    plans = {}
    deep = deep_page(sum(counts.values()))
    cases = {"first page": ([], 1), "status=running": (["running"], 1), "status=completed": (["completed"], 1),
             f"page {deep}": ([], deep)}  # fmt: skip
    cases |= {query: (query, 1) for query in SORTED_QUERIES}
    for name, (statuses, page) in cases.items():
        if isinstance(statuses, str):  # a query string: what ExperimentViewSet.list runs, counts included
            with CaptureQueriesContext(connection) as captured:
                listed = experiment_list(project.owner, project.id, QueryDict(statuses))
                list(Paginator(listed.jobs, 20, count=listed.total).page(page))
        else:
            jobs = TrainingJob.objects.for_project(project).newest_first().with_status(statuses)
            total = sum(counts[status] for status in statuses or counts)
            with CaptureQueriesContext(connection) as captured:  # what ExperimentViewSet.list runs for the rows
                list(Paginator(jobs, 20, count=total).page(page))
        sqls = [q["sql"] for q in captured.captured_queries]
        found = []
        with connection.cursor() as cursor:
            for sql in sqls:
                if connection.vendor == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + sql)
                    plan = "\n".join(row[-1] for row in cursor.fetchall())
                else:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                found.append({"sql": sql, "plan": plan})
        plans[name] = found
    return plans


SORTED_QUERIES = ["ordering=-accuracy", "status=completed&ordering=-accuracy", "model_name=resnet18&ordering=-accuracy"]


def query_costs(project_id: int, repeat: int = 30) -> dict:
    """What the two kept mechanisms save, in the same run: counting rows vs reading the maintained
    counts, and for a deep page OFFSET vs a boundary key found by skipping through the index
    (ms per query, ORM included)."""
    django_setup()
    from experiments.models import TrainingJob
    from experiments.selectors import status_counts
    from platform_site.pagination import Paginator
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    jobs = TrainingJob.objects.for_project(project).newest_first()
    completed = jobs.with_status(["completed"])
    deep = deep_page(sum(status_counts(project).values()))
    offset = (deep - 1) * 20

    def ms(call) -> float:
        call()
        started = time.perf_counter()
        for _ in range(repeat):
            call()
        return round((time.perf_counter() - started) / repeat * 1000, 3)

    return {
        "total: COUNT(*) of the project's rows": ms(lambda: jobs.count()),
        "total: the maintained counts (kept)": ms(lambda: sum(status_counts(project).values())),
        "status=completed total: COUNT(*)": ms(lambda: completed.count()),
        "status=completed total: the maintained counts (kept)": ms(lambda: status_counts(project)["completed"]),
        "page 1 rows": ms(lambda: list(Paginator(jobs, 20, count=10**9).page(1))),
        f"page {deep} rows: OFFSET {offset}": ms(lambda: list(jobs[offset : offset + 20])),
        f"page {deep} rows: boundary key, skipping {offset} index entries (kept)": ms(
            lambda: list(Paginator(jobs, 20, count=10**9).page(deep))
        ),
    }


def deep_page(size: int) -> int:
    """The deep page measured: page 2000, or the last one of --quick's 500."""
    return min(2000, size // 20)


def endpoints(project_id: int, token: str, session: str, size: int) -> list[tuple[str, str, str, dict]]:
    """(key in the issue, name, path, headers) of each measured request; the floor first."""
    deep = deep_page(size)
    api = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
    page = {"Cookie": f"sessionid={session}", "X-Forwarded-Proto": "https"}
    experiments = f"/api/v1/projects/{project_id}/experiments"
    return [
        ("f", "floor: GET /api/v1/me", "/api/v1/me", api),
        ("a", "first page", experiments, api),
        ("b", "status=running (rare)", f"{experiments}?status=running", api),
        ("b", "status=completed (common)", f"{experiments}?status=completed", api),
        ("c", f"page {deep}", f"{experiments}?page={deep}", api),
        ("g", "ordering=-accuracy", f"{experiments}?ordering=-accuracy", api),
        ("g", "status=completed, -accuracy", f"{experiments}?status=completed&ordering=-accuracy", api),
        ("g", "model_name=resnet18, -accuracy", f"{experiments}?model_name=resnet18&ordering=-accuracy", api),
        ("d", "project detail", f"/api/v1/projects/{project_id}", api),
        ("e", "project page (HTML)", f"/projects/{project_id}", page),
    ]


def serve_in_process(path: str, headers: dict, count: int) -> None:
    """`count` requests (after 20 to warm up) through Django's WSGI handler, no server: what callgrind counts."""
    django_setup()
    import io

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    route, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": route, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
               "wsgi.errors": sys.stderr, "HTTP_HOST": "127.0.0.1"}  # fmt: skip
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    statuses = []

    def start_response(status, response_headers, exc_info=None):
        statuses.append(status)

    for _ in range(20 + count):
        body = application({**environ, "wsgi.input": io.BytesIO()}, start_response)
        b"".join(body)
        body.close()
    if failed := [status for status in statuses if not status.startswith("200")]:
        raise SystemExit(f"{path}: {failed[0]}")


def instructions_per_request(env: dict, path: str, headers: dict, count: int = 50) -> int:
    """CPU instructions of one request in-process (callgrind), the same on a busy machine as on an idle one.

    The difference between `count` requests and none, so start-up does not count.
    SQLite's work is counted (it runs in-process); PostgreSQL's server is not.
    """
    totals = []
    for n in (0, count):
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", PYTHON, __file__,
                   "--phase", "serve", "--path", path, "--headers", json.dumps(headers), "--count", str(n)]  # fmt: skip
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        collected = [line for line in result.stderr.splitlines() if "Collected :" in line]
        if result.returncode != 0 or not collected:
            raise SystemExit(f"callgrind on {path} failed:\n{result.stderr[-3000:]}")
        totals.append(int(collected[0].rsplit(":", 1)[1]))
    return (totals[1] - totals[0]) // count


# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------


def phase(env: dict, *args) -> dict:
    result = subprocess.run([PYTHON, __file__, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"phase {args} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def server_rss_mb(master_pid: int) -> float:
    """Resident memory of the server's worker processes, in MB."""
    workers = child_processes(master_pid).values()
    return sum(int(fields.get("VmRSS", "0 kB").split()[0]) for fields in workers) / 1024


def wrk(url: str, headers: dict, connections: int, seconds: int, script: Path) -> dict:
    args = ["wrk", "-t", "1" if connections == 1 else "2", "-c", str(connections), "-d", f"{seconds}s",
            "--timeout", "10s", "-s", str(script)]  # fmt: skip
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("RESULT", "QUANTILES"))}
    requests, status_errors, socket_errors, duration_us, p50, p95, p99, mean = lines["RESULT"]
    duration = int(duration_us) / 1e6
    return {
        "requests": int(requests), "errors": int(status_errors) + int(socket_errors), "duration": duration,
        "rps": int(requests) / duration, "p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(mean),
        "quantiles": [float(q) for q in lines["QUANTILES"]],
    }  # fmt: skip


def answer(url: str, headers: dict) -> tuple[bytes, str | None, str | None]:
    """The body and paging headers of a GET (raises OSError unless 2xx)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:  # noqa: S310
        return response.read(), response.headers["X-Total-Count"], response.headers["Link"]


def pooled(rounds: list[dict]) -> dict:
    """One endpoint's rounds as one measurement: their latency distributions mixed by request count.

    Each round's 999 quantiles (0.1% apart) stand for equal shares of its requests.
    """
    samples = sorted((q, r["requests"]) for r in rounds for q in r["quantiles"])
    total = sum(weight for _, weight in samples)

    def percentile(p: float) -> float:
        seen = 0
        for value, weight in samples:
            seen += weight
            if seen >= total * p / 100:
                return value
        return samples[-1][0]

    requests, duration = sum(r["requests"] for r in rounds), sum(r["duration"] for r in rounds)
    return {
        "requests": requests, "errors": sum(r["errors"] for r in rounds), "rps": requests / duration,
        "p50": percentile(50), "p95": percentile(95), "p99": percentile(99),
    }  # fmt: skip


def run_database(kind: str, args, scratch: Path) -> dict | None:
    url = scratch_database(kind, scratch, PG_DB)
    if url is None:
        return None
    env = production_env(url, args.port, WEB_CONCURRENCY=args.web_concurrency)
    print(f"[{kind}] migrating", flush=True)
    prepare(env)
    print(f"[{kind}] generating {args.total:,} experiments ({args.big:,} in one project)", flush=True)
    data = phase(env, "--phase", "generate", "--total", str(args.total), "--big", str(args.big))
    print(f"[{kind}] generated {data['total']:,} in {data['seconds']} s", flush=True)
    plans = phase(env, "--phase", "explain", "--project", str(data["big_project"]))
    costs = phase(env, "--phase", "queries", "--project", str(data["big_project"]))

    measured = endpoints(data["big_project"], data["token"], data["session"], data["big_count"])
    base = f"http://127.0.0.1:{args.port}"
    server = start_server(env, scratch / f"server-{kind}.log")
    try:
        script = scratch / "report.lua"
        script.write_text(WRK_SCRIPT)
        rss_before = server_rss_mb(server.pid)
        for _, _, path, headers in measured:
            try:
                answer(base + path, headers)
            except OSError as error:
                log = (scratch / f"server-{kind}.log").read_text()[-3000:]
                raise SystemExit(f"{path}: {error}\n{log}") from None
            wrk(base + path, headers, 1, 2, script)  # warm-up
        # Every endpoint in turn, round after round: a slow minute of the machine
        # then slows the floor as much as the list, and the ratios stay honest.
        rounds = {name: {"seq": [], "c8": []} for _, name, _, _ in measured}
        each = max(1, round(args.seconds / args.rounds))
        for number in range(1, args.rounds + 1):
            for _, name, path, headers in measured:
                rounds[name]["seq"].append(wrk(base + path, headers, 1, each, script))
                rounds[name]["c8"].append(wrk(base + path, headers, 8, each, script))
            print(f"[{kind}] round {number} of {args.rounds} done", flush=True)
        floor_rounds = rounds[measured[0][1]]["seq"]
        results = []
        for key, name, path, _ in measured:
            sequential, concurrent = pooled(rounds[name]["seq"]), pooled(rounds[name]["c8"])
            sequential["round_ratios"] = [
                r["p50"] / f["p50"] for r, f in zip(rounds[name]["seq"], floor_rounds, strict=True)
            ]
            results.append({"key": key, "name": name, "path": path, "seq": sequential, "c8": concurrent})
            print(f"[{kind}] {name:28} p50 {sequential['p50']:6.2f} ms  c8 {concurrent['rps']:7.0f} req/s", flush=True)
        rss_after = server_rss_mb(server.pid)
        print(
            f"[{kind}] server resident memory: {rss_before:.0f} MB before the load, {rss_after:.0f} MB after",
            flush=True,
        )
    finally:
        stop_server(server)
    if args.instructions:
        print(f"[{kind}] counting instructions (callgrind, a few minutes)", flush=True)

        def count(endpoint) -> int:
            _, _, path, headers = endpoint
            return instructions_per_request(env, path, headers)

        # Counts do not depend on what else runs: one valgrind per core.
        with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            counts = pool.map(count, measured)
        for result, instructions in zip(results, counts, strict=True):
            result["instructions"] = instructions
            print(f"[{kind}] {result['name']:28} {instructions / 1e6:6.2f} M instructions a request", flush=True)
    return {"kind": kind, "data": data, "plans": plans, "costs": costs, "results": results,
            "rss": (rss_before, rss_after)}  # fmt: skip


def table(runs: list[dict]) -> str:
    lines = [
        "| db | | endpoint | p50 ms | p95 ms | p99 ms | req/s (1 conn) | p50 ms (8 conn) | p99 ms (8 conn) | req/s (8 conn) "
        "| p50 ÷ floor | p50 ÷ floor, each round | p99 ÷ floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        floor = next(r for r in run["results"] if r["key"] == "f")["seq"]
        for r in run["results"]:
            s, c = r["seq"], r["c8"]
            spread = f"{min(s['round_ratios']):.2f}–{max(s['round_ratios']):.2f}"
            lines.append(
                f"| {run['kind']} | ({r['key']}) | {r['name']} | {s['p50']:.2f} | {s['p95']:.2f} | {s['p99']:.2f} "
                f"| {s['rps']:.0f} | {c['p50']:.2f} | {c['p99']:.2f} | {c['rps']:.0f} "
                f"| {s['p50'] / floor['p50']:.2f} | {spread} | {s['p99'] / floor['p99']:.2f} |"
            )
    return "\n".join(lines)


def instructions_table(runs: list[dict]) -> str:
    lines = [
        "In-process CPU instructions per request (callgrind; `--instructions`), which do not drift with the "
        "machine. On PostgreSQL the database server's own work is not in them.",
        "",
        "| endpoint | " + " | ".join(f"{run['kind']} M instructions (÷ floor)" for run in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for i, result in enumerate(runs[0]["results"]):
        cells = []
        for run in runs:
            count, floor = run["results"][i]["instructions"], run["results"][0]["instructions"]
            cells.append(f"{count / 1e6:.2f} ({count / floor:.2f}×)")
        lines.append(f"| ({result['key']}) {result['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(runs: list[dict], args, command: str) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    parts = [
        "## Latest run",
        "",
        f"Generated by `{command}` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, server: gunicorn + {args.web_concurrency} uvicorn workers, DEBUG off; "
        f"load: wrk on the same machine as the server, 1 connection (latency) and 8 connections (throughput); "
        f"after a 2 s warm-up each, {args.rounds} rounds that take every endpoint in turn for "
        f"{max(1, round(args.seconds / args.rounds))} s per measurement, pooled per endpoint. "
        '"Each round" is the range of the per-round ratios, each taken against the floor of the same round.',
        "",
    ]
    for run in runs:
        d = run["data"]
        parts.append(
            f"- **{run['kind']}**: {d['total']:,} experiments, {d['big_count']:,} in the measured project; generated in "
            f"{d['seconds']} s; server resident memory {run['rss'][0]:.0f} MB before the load, {run['rss'][1]:.0f} MB after."
        )
    parts += ["", table(runs), ""]
    if runs and "instructions" in runs[0]["results"][0]:
        parts += [instructions_table(runs), ""]
    parts += ["### What the kept mechanisms save, per query (in-process, ORM included)", ""]
    names = list(runs[0]["costs"]) if runs else []
    parts.append("| query | " + " | ".join(f"{run['kind']} ms" for run in runs) + " |")
    parts.append("|---|" + "---|" * len(runs))
    for name in names:
        parts.append(f"| {name} | " + " | ".join(f"{run['costs'][name]:.3f}" for run in runs) + " |")
    parts += ["", "### Query plans of the list queries", ""]
    for run in runs:
        parts.append(f"#### {run['kind']}")
        for name, queries in run["plans"].items():
            parts.append(f"\n**{name}**\n")
            for q in queries:
                parts.append("```sql\n" + q["sql"] + "\n```\n```\n" + q["plan"] + "\n```")
        parts.append("")
    return "\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=["generate", "explain", "queries", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--headers", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="20,000 experiments (10,000 in one project), 5 s runs")
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10, help="measuring time per endpoint and load, all rounds")
    parser.add_argument("--rounds", type=int, default=5, help="rounds that take every endpoint in turn")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--web-concurrency", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions per request with valgrind (minutes more)"
    )
    args = parser.parse_args()

    if args.phase == "generate":
        print(json.dumps(generate(args.total, args.big)))
        return
    if args.phase == "explain":
        print(json.dumps(explain(args.project)))
        return
    if args.phase == "queries":
        print(json.dumps(query_costs(args.project)))
        return
    if args.phase == "serve":
        serve_in_process(args.path, json.loads(args.headers), args.count)
        return
    if args.quick:
        args.total, args.big, args.seconds = 20_000, 10_000, 5
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    if args.instructions and not shutil.which("valgrind"):
        raise SystemExit("valgrind is missing: apt-get install valgrind")

    command = "scripts/bench_list.py " + " ".join(sys.argv[1:])
    runs = on_each_database(args.databases, "bench-list-", lambda kind, scratch: run_database(kind, args, scratch))
    print()
    print(table(runs))
    if not args.no_write:
        output = Path(args.output)
        # Keep the hand-written part above the marker; replace what the last run wrote.
        kept = output.read_text().split(MARKER)[0] if output.exists() and MARKER in output.read_text() else ""
        output.write_text(kept + MARKER + "\n\n" + report(runs, args, command))
        print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
