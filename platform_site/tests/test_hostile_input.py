"""Hostile input: odd ids and parameters, long strings, markup and SQL in everything a user can write.

Every answer is a 4xx that names the problem or a page that shows the text
harmlessly; nothing is ever a 500, and no path leaves the datasets root.
"""

import html
import os

import pytest
from django.contrib.auth import get_user_model

from experiments.models import TrainingJob
from projects.models import Project

pytestmark = pytest.mark.django_db

ODD_IDS = [
    "abc", "0", "-1", "1.5", "1e3", "0x1", "+1", " 1", "1_0", "١", "%C2%B2", "%00", "%E2%80%8B1",
    "99999999999999999999999", "9223372036854775808", "9" * 5000, "'%20OR%201=1--", "%3Cscript%3E",
]  # fmt: skip

ID_URLS = [
    "/api/v1/projects/{id}",
    "/api/v1/projects/{id}/experiments",
    "/api/v1/projects/1/experiments/{id}",
    "/api/v1/projects/1/experiments/{id}/cancel",
    "/projects/{id}",
    "/projects/{id}/section",
    "/projects/1/experiments/{id}",
    "/projects/1/experiments/{id}/panel",
]


@pytest.mark.parametrize("url", ID_URLS)
def test_odd_ids_are_simply_not_found(owner_api, client, demo, url):
    client.force_login(demo["owner"])
    for raw in ODD_IDS:
        target = url.format(id=raw)
        api = target.startswith("/api/")
        response = (
            (owner_api.post if target.endswith("cancel") else owner_api.get)(target) if api else client.get(target)
        )
        assert response.status_code == 404, (target, response.status_code)
        if api:
            assert response.json()["detail"] in ("Project not found", "Experiment not found", "Not found.")


BAD_PAGING = ["", "-1", "0", "abc", "1.5", "1e3", " 5", "+5", "1_0", "١", "²", "<script>", "1;DROP TABLE x"]


@pytest.mark.parametrize("param", ["page", "per_page"])
@pytest.mark.parametrize(
    "url", ["/api/v1/projects", "/api/v1/projects/1/experiments", "/projects/1", "/projects/1/section"]
)
def test_bad_paging_parameters_are_a_400_naming_the_parameter(owner_api, client, demo, url, param):
    client.force_login(demo["owner"])
    for raw in BAD_PAGING:
        api = url.startswith("/api/")
        response = (owner_api if api else client).get(url, {param: raw}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, (url, param, raw, response.status_code)
        if api:
            assert list(response.json()["errors"]) == [param]
        else:
            assert f"<code>{param}</code>" in response.content.decode()


@pytest.mark.parametrize("page", ["1000000", "9223372036854775807", "9" * 60, "9" * 5000])
def test_a_page_far_past_the_end_is_empty_not_an_error(owner_api, client, demo, page):
    response = owner_api.get("/api/v1/projects/1/experiments", {"page": page})
    assert response.status_code == 200, response.content
    assert response.json() == [] and response["X-Total-Count"] == "4"
    client.force_login(demo["owner"])
    assert client.get("/projects/1", {"page": page}).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/projects", "/api/v1/projects/1/experiments"])
def test_a_huge_page_size_is_a_400(owner_api, url):
    for per_page in ["101", "9" * 400, "9" * 5000]:
        response = owner_api.get(url, {"per_page": per_page})
        assert response.status_code == 400 and list(response.json()["errors"]) == ["per_page"]


BAD_STATUSES = ["RUNNING", "running;DROP TABLE training_jobs", "<script>alert(1)</script>", "x" * 10000, "ru\x00n"]


@pytest.mark.parametrize("status", BAD_STATUSES)
def test_a_bad_status_filter_is_a_400_naming_status(owner_api, client, demo, status):
    response = owner_api.get("/api/v1/projects/1/experiments", {"status": status})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]
    client.force_login(demo["owner"])
    page = client.get("/projects/1", {"status": status})
    assert page.status_code == 400
    assert "<script>alert" not in page.content.decode()
    assert TrainingJob.objects.count() == 5  # and nothing was dropped


# --------------------------------------------------------------------------
# Text a user writes
# --------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "'; DROP TABLE projects; --",
    "Robert'); DELETE FROM training_jobs WHERE ('1'='1",
    "{{ request.user }} {% debug %}",
    "‮evil‭ 🐶🐱 \u200b zero-width 개/고양이",
]


@pytest.fixture
def hostile(demo):
    """A project and an experiment whose every text field holds a payload (the admin can write them all)."""
    owner = demo["owner"]
    project = Project.objects.create(owner=owner, name=PAYLOADS[0], description="\n".join(PAYLOADS))
    for payload in PAYLOADS:
        TrainingJob.objects.create(
            project=project,
            model_name=payload,
            framework="timm",
            task_type="image_classification",
            status="failed",
            dataset_path=payload,
            epochs=1,
            batch_size=1,
            learning_rate=0.1,
            error_message=payload,
        )
    return project


def assert_rendered_harmlessly(text: str):
    for payload in PAYLOADS[:3]:
        if payload.startswith("javascript:"):
            assert 'href="javascript:' not in text
            continue
        assert payload not in text, payload
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(" in text  # shown, escaped


def test_payloads_are_escaped_in_the_pages(client, demo, hostile):
    client.force_login(demo["owner"])
    job = hostile.jobs.order_by("id").first()
    for url in [
        "/dashboard",
        f"/projects/{hostile.id}",
        f"/projects/{hostile.id}/section",
        f"/projects/{hostile.id}/experiments/{job.id}",
        f"/projects/{hostile.id}/experiments/{job.id}/panel",
        f"/projects/{hostile.id}/experiments/{job.id}/row",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_rendered_harmlessly(response.content.decode())
    assert "{% debug %}" in html.unescape(client.get(f"/projects/{hostile.id}").content.decode())  # shown, not run


def test_payloads_are_escaped_in_the_admin(client, demo, hostile):
    staff = get_user_model().objects.create_superuser("root", password="pw-root-1234")
    client.force_login(staff)
    job = hostile.jobs.order_by("id").first()
    for url in [
        "/admin/projects/project/",
        f"/admin/projects/project/{hostile.id}/change/",
        "/admin/experiments/trainingjob/",
        f"/admin/experiments/trainingjob/{job.id}/change/",
        f"/admin/experiments/trainingjob/?q={PAYLOADS[3]}",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_rendered_harmlessly(response.content.decode())


def test_payloads_come_back_verbatim_as_json_strings(owner_api, hostile):
    assert owner_api.get(f"/api/v1/projects/{hostile.id}").json()["description"] == "\n".join(PAYLOADS)
    response = owner_api.get(f"/api/v1/projects/{hostile.id}/experiments", {"per_page": 100})
    assert response["Content-Type"] == "application/json"
    assert sorted(j["model_name"] for j in response.json()) == sorted(PAYLOADS)
    assert sorted(j["error_message"] for j in response.json()) == sorted(PAYLOADS)
    assert Project.objects.filter(pk=hostile.pk).exists() and TrainingJob.objects.count() == 5 + len(PAYLOADS)


def test_hostile_new_experiments_are_refused_by_name(owner_api, client, demo, datasets_root):
    valid = {
        "framework": "timm",
        "model_name": "resnet18",
        "task_type": "image_classification",
        "dataset_path": "shapes-cls",
        "epochs": 1,
        "batch_size": 8,
        "learning_rate": 0.01,
    }
    cases = [("model_name", p) for p in PAYLOADS] + [
        ("model_name", "m" * 10_000),
        ("dataset_path", "d" * 10_000),
        ("framework", PAYLOADS[0]),
        ("task_type", PAYLOADS[3]),
        ("epochs", "1; DROP TABLE training_jobs"),
        ("epochs", 10**30),
        ("batch_size", -(10**30)),
        ("learning_rate", "NaN"),
        ("learning_rate", "Infinity"),
    ]
    client.force_login(demo["owner"])
    for field, value in cases:
        response = owner_api.post("/api/v1/projects/1/experiments", {**valid, field: value}, format="json")
        assert response.status_code == 400, (field, value, response.content)
        assert field in response.json()["errors"], (field, value)
        page = client.post("/projects/1/experiments/new", {**valid, field: value})
        assert page.status_code == 400, (field, value)
        assert "<script>alert" not in page.content.decode()
    assert not TrainingJob.objects.filter(status="pending", project_id=1).exists()


def test_malformed_bodies_are_a_400_and_other_media_types_a_415(owner_api):
    url = "/api/v1/projects/1/experiments"
    broken = owner_api.generic("POST", url, '{"framework": "timm",', content_type="application/json")
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    nested = owner_api.generic("POST", url, "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert nested.status_code == 400
    xml = owner_api.generic("POST", url, "<experiment/>", content_type="application/xml")
    assert xml.status_code == 415


# --------------------------------------------------------------------------
# Dataset paths never leave DATASETS_ROOT
# --------------------------------------------------------------------------

ESCAPES = [
    "../../etc",
    "/etc",
    "/etc/passwd",
    "shapes-cls/../../..",
    "shapes-cls/../../../etc/passwd",
    "..%2F..%2Fetc",
    "~/",
    "//etc",
    "\\..\\..\\etc",
    "shapes-cls\x00/../../etc",
    "escape-link",
    "yaml-escape",
    "0" * 500,  # found by fuzzing: a name too long for the file system was a 500 (OSError)
    "a/" * 3000,
]


@pytest.mark.parametrize("path", ESCAPES)
def test_dataset_paths_cannot_escape_the_datasets_root(owner_api, datasets_root, tmp_path, path):
    outside = tmp_path / "outside"
    (outside / "train" / "a").mkdir(parents=True)
    link = datasets_root / "escape-link"
    if not link.exists():
        os.symlink(outside, link)  # a link inside the root that points out of it
    yaml_dataset = datasets_root / "yaml-escape"
    yaml_dataset.mkdir(exist_ok=True)
    (yaml_dataset / "data.yaml").write_text(f"path: {outside}\ntrain: train\nval: train\nnames: ['a']\n")

    body = {
        "framework": "ultralytics" if path == "yaml-escape" else "timm",
        "model_name": "yolo11n" if path == "yaml-escape" else "resnet18",
        "task_type": "object_detection" if path == "yaml-escape" else "image_classification",
        "dataset_path": path,
        "epochs": 1,
        "batch_size": 8,
        "learning_rate": 0.01,
    }
    response = owner_api.post("/api/v1/projects/1/experiments", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["dataset_path"]
