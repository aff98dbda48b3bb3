"""Real worker and server processes for the tests, on the test database."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database, for processes started by a test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def environment(**overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        DEBUG="1",
        DATABASE_URL=database_url(),
        DATASETS_ROOT=str(settings.DATASETS_ROOT),
        RUNS_DIR=str(settings.RUNS_DIR),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        DATASET_CACHE_DIR=str(settings.DATASET_CACHE_DIR),
        WORKER_HEARTBEAT_SECONDS="1",
        PYTHONUNBUFFERED="1",
        # Tests sign in over and over from 127.0.0.1; test_security checks the real limit.
        AUTH_RATE_LIMIT="1000/minute",
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


class Process:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()

    def tail(self, lines: int = 40) -> str:
        if not self.log.closed:
            self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_worker(name: str, log_dir: Path, command: str = "run_worker", **env) -> Process:
    args = [sys.executable, "manage.py", command, "--no-startup-delay", "--interval", "0.2", "--worker-id", name]
    return Process(name, args, environment(**env), log_dir)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log_dir: Path, **env) -> tuple[Process, str]:
    """The production ASGI app under uvicorn; returns it and its base URL once /healthz answers."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "platform_site.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]  # fmt: skip
    server = Process("server", args, environment(**env), log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(url + "/healthz"), 30, "the server to start", server)
    return server, url


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate, timeout: float, what: str, *processes: Process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.name} ---\n{p.tail()}" for p in processes)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}\n{logs}")
