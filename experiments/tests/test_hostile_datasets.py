"""A datasets root full of what operators and file systems produce, against every page and endpoint that reads it.

Links out of the root, link loops, dangling links, names that are not UTF-8 or
hold newlines, a FIFO where a label file should be, binary labels, a data.yaml
that is a folder: each is skipped or refused with a 400 naming the dataset,
never a 500 or a hang.
"""

import json
import os
import shutil
import sys

import pytest

from datasets.checks import check_version
from experiments.tests.processes import Process, environment, free_port, wait_for
from platform_site.tests.test_hostile_clients import body_of, post_json, status_of
from platform_site.tests.test_security import PRODUCTION, answers_with, collected_static  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

NEW_PAGE = "/projects/1/experiments/new"
API = "/api/v1/projects/1/experiments"
TASKS = ["image_classification", "object_detection", "instance_segmentation"]
MODELS = {"image_classification": "resnet18", "object_detection": "yolo11n", "instance_segmentation": "yolo11n-seg"}


@pytest.fixture
def hostile_root(tmp_path, settings, demo_datasets):
    """A datasets root with one good dataset of each kind (links into the demo datasets) and many bad entries."""
    root = tmp_path / "datasets"
    root.mkdir()
    for name in ("shapes-cls", "shapes-det", "shapes-seg"):
        shutil.copytree(demo_datasets / name, root / name)
    (root / "inner-link").symlink_to(root / "shapes-cls")
    (root / "outside-link").symlink_to(tmp_path)  # a big disk elsewhere, linked in by an operator
    (root / "loop").symlink_to(root / "loop")
    (root / "dangling").symlink_to(root / "no-such-folder")
    (root / "line\nbreak and ✓ spaces").mkdir()
    os.mkdir(os.fsencode(root) + b"/not-utf8-\xff\xfe")
    (root / "data-yaml-folder" / "data.yaml").mkdir(parents=True)
    fifo = shutil.copytree(demo_datasets / "shapes-seg", root / "fifo-labels")
    label = next((fifo / "labels" / "val").glob("*.txt"))
    label.unlink()
    os.mkfifo(label)  # reading it would wait forever
    binary = shutil.copytree(demo_datasets / "shapes-seg", root / "binary-labels")
    for label in (binary / "labels" / "val").glob("*.txt"):
        label.write_bytes(b"\xff\xfe\x00" * 50)
    odd_yaml = shutil.copytree(demo_datasets / "shapes-det", root / "odd-yaml")
    (odd_yaml / "data.yaml").write_text("path: 12\ntrain: [1, 2]\nval: {a: b}\nnames: {0: x}\n")
    (root / "unreadable").mkdir()
    (root / "unreadable").chmod(0)  # root reads it all the same; another user would not
    settings.DATASETS_ROOT = root
    settings.RUNS_DIR = tmp_path / "runs"
    return root


def bad_names(root) -> list[str]:
    return sorted({os.fsdecode(entry.name) for entry in os.scandir(root)} - {"shapes-cls", "shapes-det", "shapes-seg"})


def test_every_entry_is_registered_or_refused_by_name_and_its_check_never_raises(owner_api, demo, hostile_root):
    for name in bad_names(hostile_root) + ["shapes-cls"]:
        response = owner_api.post(
            "/api/v1/datasets", json.dumps({"name": "n", "path": name}), content_type="application/json"
        )
        assert response.status_code in (201, 400), (name, response.status_code)
        if response.status_code == 400:
            assert list(response.json()["errors"]) == ["path"], (name, response.json())
            continue
        version = check_version(response.json()["id"])
        assert version.status in ("ready", "invalid"), name
        assert name != "shapes-cls" or version.status == "ready", version.findings
        if name == "fifo-labels":
            assert version.status == "invalid"
            assert "labels/val/" in version.findings[0]["problem"] and "pipe" in version.findings[0]["problem"]


@pytest.mark.parametrize("task", TASKS)
def test_every_entry_is_created_or_refused_by_name_never_a_500(owner_api, client, demo, hostile_root, task):
    client.force_login(demo["owner"])
    for name in bad_names(hostile_root) + [str(hostile_root / "outside-link" / "x"), "../" * 8 + "etc"]:
        body = {"framework": "ultralytics" if task != "image_classification" else "timm", "model_name": MODELS[task],
                "task_type": task, "dataset_path": name, "epochs": 1, "batch_size": 2, "learning_rate": 0.01}  # fmt: skip
        # JSON as a client would write a name that is not UTF-8: with \udcff escapes.
        api = owner_api.post(API, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert api.status_code in (201, 400), (name, api.status_code)
        if api.status_code == 400:
            assert list(api.json()["errors"]) == ["dataset_path"], (name, api.json())
        form = {**body, "dataset_path": name.encode(errors="surrogateescape").decode("latin-1")}  # the bytes as sent
        page = client.post(NEW_PAGE, form, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code in (302, 400), (name, page.status_code)


@pytest.mark.django_db(transaction=True)
def test_the_production_server_reads_the_same_root_without_a_500(tmp_path, settings, hostile_root, collected_static):  # noqa: F811
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    from projects.models import Project

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    owner = get_user_model().objects.create_user("owner", password="right-password-1234")
    project = Project.objects.create(owner=owner, name="p")
    port = free_port()
    env = environment(**{**PRODUCTION, "SECRET_KEY": settings.SECRET_KEY}, PORT=port, WEB_CONCURRENCY=1, ACCESS_LOG=0)
    server = Process("gunicorn", [sys.executable, "-m", "gunicorn", "platform_site.asgi:application"], env, tmp_path)
    try:
        wait_for(lambda: answers_with(f"http://127.0.0.1:{port}/healthz", 200), 30, "gunicorn to start", server)
        auth = {"Authorization": f"Bearer {AccessToken.for_user(owner)}"}
        for name in bad_names(hostile_root):
            fields = {"framework": "ultralytics", "model_name": "yolo11n-seg", "task_type": "instance_segmentation",
                      "dataset_path": name, "epochs": 1, "batch_size": 2, "learning_rate": 0.01}  # fmt: skip
            answer = post_json(port, f"/api/v1/projects/{project.id}/experiments", fields, headers=auth)
            assert status_of(answer) in (201, 400), (name, answer[:300])
            assert "dataset_path" in body_of(answer) or status_of(answer) == 201, (name, body_of(answer))
    finally:
        server.stop()
    assert "Internal Server Error" not in server.tail(2000)
