import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "DATABASE_URL")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="vision.example.com",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_bad_boolean_is_a_configuration_error():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


def test_no_migrations_are_pending():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_healthz_checks_the_database(client):
    response = client.get("/healthz", HTTP_HOST="healthcheck.railway.app")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_sqlite_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
    # The in-memory test database cannot use WAL; the file database does.
    result = manage("shell", "-c", "from django.db import connection; c = connection.cursor(); "
                    "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])", DEBUG="1",
                    DATABASE_URL=f"sqlite:///{tmp_path}/wal-check.db")  # fmt: skip
    assert result.stdout.strip().endswith("wal"), result.stderr


def test_unknown_api_paths_are_json_404s(client, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_each_server_worker_freezes_what_it_loaded_out_of_the_garbage_collectors_sight():
    import gc
    import runpy

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        config["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
