"""PostgreSQL goes down under light load, and comes back: fast 503s meanwhile, recovery without a restart.

    .venv/bin/python scripts/db_fault.py            # 5 s of load, a 10 s outage, 15 s after
    .venv/bin/python scripts/db_fault.py --quick    # 2 s, 4 s, 6 s (what `make test` runs)
    .venv/bin/python scripts/db_fault.py --write-report   # also writes the table to docs/reliability.md

It never touches the PostgreSQL the rest of the machine uses: it creates a
private cluster with Debian's pg_createcluster on a free port (as root, the
tools switch to the postgres user themselves), serves the production server
(gunicorn + uvicorn workers, DEBUG off) on it, and drives two clients (the
API with a token, the project page with a session) every 50 ms. Then it stops
the cluster (`pg_ctlcluster ... stop -m fast`), waits, starts it again, and
drops the cluster at the end.

Passes when every answer is a 200 or, while the database is down, a 503 with
Retry-After; nothing takes more than 5 s (no hangs); answers are 200 again
within 10 s of the database coming back, with the same server processes; and
a training worker (`manage.py run_worker`) waited out the outage instead of exiting.
Without pg_createcluster (or root) it says SKIPPED and exits 0, or 1 with --require.
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from load_harness import (
    PYTHON,
    ROOT,
    child_processes,
    free_port,
    prepare,
    production_env,
    scratch_database,
    start_server,
    stop_server,
    write_report_section,
)

CLUSTER = "vision_fault"
REPORT = ROOT / "docs" / "reliability.md"
SLOW_SECONDS = 5
RECOVERY_SECONDS = 10


def pg_version() -> str | None:
    if os.geteuid() != 0 or not shutil.which("pg_createcluster"):
        return None
    versions = sorted(Path("/etc/postgresql").glob("*"), key=lambda p: float(p.name) if p.name[0].isdigit() else 0)
    return versions[-1].name if versions else None


def worker_pids(master: int) -> set[int]:
    """The server's worker processes (children of the gunicorn master)."""
    return set(child_processes(master))


def cluster(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check)


class Client(threading.Thread):
    """Requests one path every 50 ms; records (time, status, seconds, Retry-After)."""

    def __init__(self, port: int, path: str, headers: dict, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.path, self.headers, self.stop = port, path, headers, stop
        self.log: list[tuple[float, int | str, float, str | None]] = []

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.request("GET", self.path, headers=self.headers)
                response = connection.getresponse()
                response.read()
                outcome, retry_after = response.status, response.getheader("Retry-After")
            except (OSError, http.client.HTTPException) as error:
                outcome, retry_after = type(error).__name__, None
            finally:
                connection.close()
            self.log.append((started, outcome, time.monotonic() - started, retry_after))
            time.sleep(0.05)


def run(args, version: str, scratch: Path) -> dict:
    port = free_port()
    cluster("pg_dropcluster", "--stop", version, CLUSTER, check=False)  # left over from an interrupted run
    cluster("pg_createcluster", version, CLUSTER, "-p", str(port), "--", "--auth=trust")
    try:
        cluster("pg_ctlcluster", version, CLUSTER, "start")
        admin_url = f"postgres://postgres@127.0.0.1:{port}/postgres"
        url = scratch_database("postgresql", scratch, "vision_fault", admin_url)
        env = production_env(url, args.port)
        prepare(env)
        setup = subprocess.run(
            [PYTHON, "scripts/soak.py", "--phase", "setup", "--experiments", "200"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        data = json.loads(setup.stdout.strip().splitlines()[-1])
        server = start_server(env, scratch / "server.log")
        workers_before = worker_pids(server.pid)
        # A training worker too: it must wait out the outage, not exit.
        worker_log = scratch / "worker.log"
        worker = subprocess.Popen(
            [PYTHON, "manage.py", "run_worker", "--no-startup-delay", "--interval", "0.2"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(worker_log, "w"),  # noqa: SIM115
        )  # fmt: skip
        stop = threading.Event()
        https = {"X-Forwarded-Proto": "https"}
        clients = [
            Client(args.port, f"/api/v1/projects/{data['project']}/experiments",
                   {**https, "Authorization": f"Bearer {data['token']}"}, stop),
            Client(args.port, f"/projects/{data['project']}", {**https, "Cookie": f"sessionid={data['session']}"}, stop),
        ]  # fmt: skip
        try:
            for client in clients:
                client.start()
            time.sleep(args.before)
            print(f"stopping PostgreSQL ({version}/{CLUSTER})", flush=True)
            down_at = time.monotonic()
            cluster("pg_ctlcluster", version, CLUSTER, "stop", "-m", "fast")
            down_done = time.monotonic()
            time.sleep(args.outage)
            print("starting PostgreSQL again", flush=True)
            start_at = time.monotonic()  # it may accept connections before pg_ctlcluster returns
            cluster("pg_ctlcluster", version, CLUSTER, "start")
            time.sleep(args.after)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=35)
            workers_after = worker_pids(server.pid)
            worker_survived = worker.poll() is None
            stop_server(server)
            stop_server(worker)
            worker_waited = "Database unavailable" in worker_log.read_text()
    finally:
        cluster("pg_dropcluster", "--stop", version, CLUSTER, check=False)

    log = sorted(entry for client in clients for entry in client.log)
    before = [e for e in log if e[0] + e[2] < down_at]
    during = [e for e in log if e[0] >= down_done and e[0] + e[2] < start_at]
    after = [e for e in log if e[0] >= start_at]
    first_ok = next((e[0] + e[2] for e in after if e[1] == 200), None)
    recovered_in = None if first_ok is None else first_ok - start_at
    problems = []
    unexpected = [e for e in log if e[1] not in (200, 503)]
    if unexpected:
        problems.append(
            f"{len(unexpected)} answers were neither 200 nor 503: {sorted({str(e[1]) for e in unexpected})}"
        )
    if [e for e in before if e[1] != 200]:
        problems.append("requests failed before the outage")
    if not during or any(e[1] != 503 for e in during):
        problems.append(f"answers during the outage: {sorted({str(e[1]) for e in during})} (expected only 503)")
    if any(e[3] is None for e in log if e[1] == 503):
        problems.append("a 503 came without Retry-After")
    slowest = max((e[2] for e in log), default=0)
    if slowest > SLOW_SECONDS:
        problems.append(f"a request took {slowest:.1f} s (a hang)")
    if recovered_in is None or recovered_in > RECOVERY_SECONDS:
        problems.append(f"no recovery within {RECOVERY_SECONDS} s of the restart")
    else:
        settled = [e for e in after if e[0] > first_ok]
        if any(e[1] != 200 for e in settled):
            problems.append("failures after the first successful answer")
    if not worker_survived:
        problems.append(f"the training worker exited:\n{worker_log.read_text()[-2000:]}")
    elif not worker_waited:
        problems.append("the training worker never noticed the outage")
    if not workers_before or workers_after != workers_before:
        problems.append(f"the server's workers changed ({workers_before} -> {workers_after}): it was restarted")
    return {
        "requests": len(log),
        "before": summarize(before),
        "during": summarize(during),
        "after": summarize(after),
        "slowest_during": max((e[2] for e in during), default=0),
        "recovered_in": recovered_in,
        "worker": "waited and is still running" if worker_survived and worker_waited else "failed",
        "problems": problems,
    }


def summarize(entries) -> str:
    statuses: dict[str, int] = {}
    for entry in entries:
        statuses[str(entry[1])] = statuses.get(str(entry[1]), 0) + 1
    return ", ".join(f"{count}× {status}" for status, count in sorted(statuses.items())) or "none"


def table(result: dict, args) -> str:
    recovered = "never" if result["recovered_in"] is None else f"{result['recovered_in']:.2f} s"
    return "\n".join([
        f"PostgreSQL stopped for {args.outage:g} s under light load (two clients, one request per 50 ms each), "
        "production server on 127.0.0.1.",
        "",
        "| before the outage | during the outage | slowest answer during | from the restart on | "
        "first 200 after `start` | training worker |",
        "|---|---|---:|---|---:|---|",
        f"| {result['before']} | {result['during']} | {result['slowest_during'] * 1000:.0f} ms | {result['after']} | "
        f"{recovered} | {result['worker']} |",
    ])  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 s before, a 4 s outage, 6 s after (CI)")
    parser.add_argument("--before", type=float, default=5)
    parser.add_argument("--outage", type=float, default=10)
    parser.add_argument("--after", type=float, default=15)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--require", action="store_true", help="fail instead of skipping without pg_createcluster")
    parser.add_argument("--write-report", action="store_true", help=f"write the table to {REPORT.name}")
    args = parser.parse_args()
    if args.quick:
        args.before, args.outage, args.after = 2, 4, 6

    version = pg_version()
    if version is None:
        message = "SKIPPED the database fault test: it needs root and Debian's pg_createcluster"
        print(message)
        raise SystemExit(1 if args.require else 0)
    scratch = Path(tempfile.mkdtemp(prefix="db-fault-"))
    try:
        result = run(args, version, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(table(result, args))
    if args.write_report:
        write_report_section(REPORT, "fault", "scripts/db_fault.py " + " ".join(sys.argv[1:]), table(result, args))
    if result["problems"]:
        print("\nFAILED:\n" + "\n".join(result["problems"]))
        raise SystemExit(1)
    print("\nOK: fast 503s during the outage, recovered without a restart")


if __name__ == "__main__":
    main()
