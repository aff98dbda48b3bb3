"""What the load scripts share: scratch databases, credentials and the production server on 127.0.0.1.

Used by bench_list.py, soak.py and db_fault.py (run as `python scripts/<name>.py`,
so this module imports as `load_harness`; not `serving`, the app's name, which
the URLs import once a request reaches them).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def django_setup():
    """For the phases that run inside Django (each script runs them in a subprocess, one database each)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
    import django

    django.setup()


def credentials(user, hours: int = 6) -> dict:
    """A Bearer token and a session cookie value for the user (Django side)."""
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework_simplejwt.tokens import AccessToken

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=timedelta(hours=hours))
    return {"token": str(token), "session": session.session_key}


def on_each_database(databases: str, prefix: str, run) -> list[dict]:
    """run(kind, scratch) for each of "sqlite,postgresql" in a scratch folder; the results it did not skip."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        results = [run(kind.strip(), scratch) for kind in databases.split(",")]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [result for result in results if result]


def manage(env: dict, *args) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def scratch_database(kind: str, scratch: Path, pg_name: str, admin_url: str = PG_ADMIN_URL) -> str | None:
    """A new, empty database: a SQLite file under scratch, or PostgreSQL database pg_name (dropped first)."""
    if kind == "sqlite":
        return f"sqlite:///{scratch / (pg_name + '.db')}"
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(admin_url)
    try:
        admin = psycopg.connect(dbname=config["NAME"], user=config["USER"], password=config["PASSWORD"],
                                host=config["HOST"], port=config["PORT"] or 5432, connect_timeout=3)  # fmt: skip
    except psycopg.OperationalError as error:
        print(f"SKIPPED PostgreSQL: {str(error).strip()}")
        return None
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {pg_name}")
    admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{pg_name}"


def production_env(database_url: str, port: int, **overrides) -> dict:
    """The settings we ship (DEBUG off), on loopback, with a fresh secret key."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=database_url, DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING", ACCESS_LOG="0", PORT=str(port),
    )  # fmt: skip
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def prepare(env: dict) -> None:
    """What a deployment runs before it starts: migrations and the static files."""
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")


def start_server(env: dict, log_path: Path, timeout: float = 30) -> subprocess.Popen:
    """gunicorn with uvicorn workers (gunicorn.conf.py), as railway.json starts it; returns once /healthz answers."""
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "platform_site.asgi:application"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=open(log_path, "w"),  # noqa: SIM115 (the process keeps it)
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=1).close()  # noqa: S310
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not start:\n{log_path.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_processes(parent: int) -> dict[int, dict[str, str]]:
    """The /proc status fields of each child process of parent (a gunicorn master's workers)."""
    children = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(parent):
            children[int(status.parent.name)] = fields
    return children


def write_report_section(path: Path, name: str, command: str, text: str) -> None:
    """Replaces what the last run wrote between <!-- name: ... --> and <!-- /name --> in path."""
    content = path.read_text()
    head, rest = content.split(f"<!-- {name}: ")
    opening, rest = rest.split("-->", 1)
    tail = rest.split(f"<!-- /{name} -->", 1)[1]
    path.write_text(f"{head}<!-- {name}: {opening}-->\n`{command}`\n\n{text}\n<!-- /{name} -->{tail}")
    print(f"written to {path}")
