import contextlib
import io
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def pytest_collection_modifyitems(config, items):
    """Tests marked "once" run in the SQLite pass of scripts/test only: what they check does not depend on the
    database (what a model learns, the HTTP server, the Redis layer), and the PostgreSQL pass goes through the
    same database paths in lighter tests."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="does not depend on the database: run in the SQLite pass")
    for item in items:
        if "once" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fast_and_static(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests render templates without collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    """Uploaded archives and unpacked dataset versions go to the test's own folder, never the checkout's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATASET_CACHE_DIR = tmp_path / "dataset_cache"


@pytest.fixture(autouse=True)
def no_sign_in_attempts_yet(django_db_setup, django_db_blocker):
    """Every test starts with no counted sign-in attempts.

    The rate limit counts them in the cache, a database table: transactional
    tests and the servers they start commit their counts, which would
    otherwise throttle the sign-ins of the tests after them.
    """
    with django_db_blocker.unblock():
        cache.clear()


@pytest.fixture
def demo(db):
    """The demo data of docs/api.md: demo owns project 1, demo2 owns project 2 (with experiment 4)."""
    call_command("seed_demo", "--force", "--no-large", stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return {"owner": users.get(username="demo"), "other": users.get(username="demo2")}


def api_client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def owner_api(demo):
    return api_client_for(demo["owner"])


@pytest.fixture
def other_api(demo):
    return api_client_for(demo["other"])


@pytest.fixture
def anon_api(demo):
    return api_client_for(None)


@pytest.fixture(scope="session")
def demo_datasets(tmp_path_factory):
    """Tiny synthetic datasets (a few dozen images each), written once per test run."""
    root = tmp_path_factory.mktemp("datasets")
    call_command("make_demo_datasets", "--images", "24", "--root", str(root), stdout=io.StringIO())
    return root


@pytest.fixture
def datasets_root(settings, demo_datasets, tmp_path):
    settings.DATASETS_ROOT = demo_datasets
    settings.RUNS_DIR = tmp_path / "runs"
    return demo_datasets


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    if not os.path.exists(CHROMIUM):
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls
    # the test makes around it are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@contextlib.contextmanager
def browser_page(browser, base_url: str, timeout_ms: int):
    """A Korean-locale page in a fresh context; fails if the page broke its Content-Security-Policy.

    Chromium reports every violation on the console.
    """
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", base_url=base_url)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    yield page
    context.close()
    assert violations == [], "the page broke its Content-Security-Policy"


@pytest.fixture
def demo_versions(datasets_root, demo, settings, tmp_path):
    """The demo datasets as the demo owner's checked dataset versions, by name."""
    from datasets.checks import check_version
    from datasets.services import register_folder

    names = ("shapes-cls", "shapes-det", "shapes-seg")
    return {name: check_version(register_folder(owner=demo["owner"], name=name, path=name).id) for name in names}


@dataclass(frozen=True)
class S3Bucket:
    client: object  # boto3's S3 client
    name: str
    env: dict[str, str]  # what a worker process needs to use it (see settings.py)

    def keys(self) -> list[str]:
        return [item["Key"] for item in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]


@pytest.fixture
def s3_bucket(settings):
    """A bucket on a real S3 protocol server (moto's) on loopback, as this process's default storage."""
    from experiments.tests.processes import free_port

    port = free_port()
    moto_server = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    server = subprocess.Popen(
        [moto_server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import boto3

    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")  # fmt: skip
    for _ in range(100):
        try:
            client.create_bucket(Bucket="artifacts")
            break
        except Exception:
            time.sleep(0.1)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "artifacts", "endpoint_url": endpoint, "access_key": "test",
                        "secret_key": "test", "region_name": "us-east-1", "file_overwrite": False,
                        "max_memory_size": 8 * 1024 * 1024},
        },
    }  # fmt: skip
    env = {
        "AWS_STORAGE_BUCKET_NAME": "artifacts",
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_S3_REGION_NAME": "us-east-1",
    }
    yield S3Bucket(client=client, name="artifacts", env=env)
    server.terminate()
    server.wait(10)


@pytest.fixture
def processes(tmp_path):
    """Starts real workers (run_worker, or command=...) on the test database; stops them after the test."""
    from experiments.tests.processes import start_worker

    started = []

    def start(name, command="run_worker", **env):
        process = start_worker(name, tmp_path, command, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def owner_client(client, demo, datasets_root):
    """The demo owner signed in to the pages."""
    client.force_login(demo["owner"])
    return client


@pytest.fixture
def other_client(demo, datasets_root):
    from django.test import Client

    client = Client()
    client.force_login(demo["other"])
    return client


@pytest.fixture
def stack(request, tmp_path, datasets_root, demo, settings):
    """Server and worker sharing the test database (and Redis when asked)."""
    from experiments.tests.processes import start_server, start_worker

    # The server checks passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    for user in demo.values():
        user.set_password("demo1234")
        user.save()
    env = getattr(request, "param", {})
    server, url = start_server(tmp_path, **env)
    worker = start_worker("worker-live", tmp_path, **env)
    yield url, server, worker
    worker.stop()
    server.stop()
    print(f"--- server ---\n{server.tail()}\n--- worker ---\n{worker.tail()}")  # shown when a test fails
