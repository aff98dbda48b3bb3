"""Who may do what, for every URL the project exposes.

The routes are read from the URL configuration itself: a new route fails
test_every_route_is_in_the_matrix until it is added to ROUTES below, with what
its owner may do. Admin routes are enumerated the same way and must all be
closed to anyone who is not staff.

Principals: the owner, another user, anonymous, an expired token, a token
signed with another key, an unsigned ("alg": "none") token and an inactive
user. Only the owner reaches the owner's objects; for everyone else they are
404 (exactly like a missing object) or a sign-in challenge, and nothing of the
owner's appears in any body or header.
"""

import base64
import hashlib
import json
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from datasets.models import Dataset, DatasetVersion
from datasets.routing import websocket_urlpatterns as dataset_websockets
from experiments.models import RunFile, TrainingJob
from experiments.routing import websocket_urlpatterns as experiment_websockets
from projects.models import Project
from serving.models import Export, Prediction

SECRET = "owner-secret"  # in every name the owner has; must never reach anyone else
MISSING_ID = 987654321
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# Who may reach a route.
PUBLIC = "public"  # anyone, signed in or not
USER = "user"  # any signed-in user, who sees only their own data
OWNER = "owner"  # only the owner of the project (or experiment) in the URL

# Every route but the admin's: who may reach it, and what the owner gets per
# method (an empty request body). A method not listed gets 405.
ROUTES = {
    # API (Bearer JWT)
    "token_obtain_pair": (PUBLIC, {"POST": 400, "OPTIONS": 200}),
    "token_refresh": (PUBLIC, {"POST": 400, "OPTIONS": 200}),
    "schema": (PUBLIC, {"GET": 200, "OPTIONS": 200}),
    "me": (USER, {"GET": 200, "OPTIONS": 200}),
    "project-list": (USER, {"GET": 200, "POST": 400, "OPTIONS": 200}),
    # DELETE: 409, the project has a pending experiment.
    "project-detail": (OWNER, {"GET": 200, "PUT": 400, "PATCH": 200, "DELETE": 409, "OPTIONS": 200}),
    "dataset-list": (USER, {"GET": 200, "POST": 400, "OPTIONS": 200}),
    # DELETE: 409, the experiment trains on the version.
    "dataset-detail": (OWNER, {"GET": 200, "DELETE": 409, "OPTIONS": 200}),
    "dataset-version-detail": (OWNER, {"GET": 200, "DELETE": 409, "OPTIONS": 200}),
    "dataset-version-findings": (OWNER, {"GET": 200, "OPTIONS": 200}),
    "dataset-version-fixes": (OWNER, {"POST": 400, "OPTIONS": 200}),
    "experiment-list": (OWNER, {"GET": 200, "POST": 400, "OPTIONS": 200}),
    # DELETE: 409, the experiment is pending.
    "experiment-detail": (OWNER, {"GET": 200, "PATCH": 200, "DELETE": 409, "OPTIONS": 200}),
    "experiment-cancel": (OWNER, {"POST": 200, "OPTIONS": 200}),
    "experiment-file": (OWNER, {"GET": 200, "OPTIONS": 200}),
    # POST: 409, a pending experiment has nothing to resume.
    "experiment-resume": (OWNER, {"POST": 409, "OPTIONS": 200}),
    # GET: 400, no framework and model in an empty query.
    "experiment-starting-weights": (OWNER, {"GET": 400, "OPTIONS": 200}),
    # POST: 409, a pending experiment has no best weights to export or try.
    "export-list": (OWNER, {"GET": 200, "POST": 409, "OPTIONS": 200}),
    "export-file": (OWNER, {"GET": 200, "OPTIONS": 200}),
    # POST: 400, an empty body has no image.
    "prediction-list": (OWNER, {"POST": 400, "OPTIONS": 200}),
    "prediction-detail": (OWNER, {"GET": 200, "OPTIONS": 200}),
    "prediction-image": (OWNER, {"GET": 200, "OPTIONS": 200}),
    # GET: 400, no ids to compare in an empty query.
    "experiment-compare": (OWNER, {"GET": 400, "OPTIONS": 200}),
    # Pages (session)
    "root": (PUBLIC, {}),
    "swagger-ui": (PUBLIC, {"GET": 200}),
    "login": (PUBLIC, {"GET": 200, "POST": 200}),
    "logout": (PUBLIC, {"POST": 302}),
    "set_language": (PUBLIC, {"POST": 302}),
    "dashboard": (USER, {"GET": 200, "POST": 400}),
    "project_detail": (OWNER, {"GET": 200}),
    "project_delete": (OWNER, {"POST": 409}),
    "dataset_list": (USER, {"GET": 200}),
    "dataset_upload": (USER, {"POST": 400}),
    "dataset_detail": (OWNER, {"GET": 200}),
    "dataset_delete": (OWNER, {"POST": 409}),
    "version_delete": (OWNER, {"POST": 409}),
    "version_detail": (OWNER, {"GET": 200}),
    # POST: 409, nothing in the version for that fix to repair.
    "version_fix": (OWNER, {"POST": 409}),
    "version_preview": (OWNER, {"GET": 200}),
    "project_section": (OWNER, {"GET": 200}),
    "experiment_new": (OWNER, {"GET": 200, "POST": 400}),
    "experiment_detail": (OWNER, {"GET": 200}),
    "experiment_panel": (OWNER, {"GET": 200}),
    "experiment_row": (OWNER, {"GET": 200}),
    "experiment_cancel": (OWNER, {"POST": 302}),
    "experiment_describe": (OWNER, {"POST": 302}),
    "experiment_file": (OWNER, {"GET": 200}),
    "experiment_resume": (OWNER, {"POST": 409}),
    "exports_request": (OWNER, {"POST": 409}),
    "export_file": (OWNER, {"GET": 200}),
    # POST: 400, no image and no "validation image" button.
    "prediction_create": (OWNER, {"POST": 400}),
    "prediction_image": (OWNER, {"GET": 200}),
    "experiment_compare": (OWNER, {"GET": 400}),
    "experiment_compare_section": (OWNER, {"GET": 400}),
    # POST: 409, the experiment is pending.
    "experiment_delete": (OWNER, {"POST": 409}),
}
WEBSOCKET_ROUTES = {r"^ws/projects/(?P<project_id>[^/]+)/?$": OWNER, r"^ws/datasets/?$": USER}

# Public routes that accept more methods than the ones listed (Django's own views).
LENIENT_PUBLIC = {"root", "login", "logout", "set_language"}


def flatten(patterns, prefix="", namespace=None, groups=()):
    """(pattern, namespace, name, URL parameters) of every route under patterns."""
    for entry in patterns:
        names = (*groups, *entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            yield from flatten(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace, names)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry.name, names


def route_key(pattern: str, namespace: str | None, name: str | None, groups=()) -> str:
    if namespace:
        return f"{namespace}:{name or pattern}"
    return name or ("root" if pattern == "" else pattern)


ALL_ROUTES = {route_key(*route): route for route in flatten(get_resolver().url_patterns)}
ADMIN_ROUTES = sorted(key for key in ALL_ROUTES if key.startswith("admin:"))
SITE_ROUTES = sorted(key for key in ALL_ROUTES if not key.startswith("admin:"))


def test_every_route_is_in_the_matrix():
    assert set(SITE_ROUTES) == set(ROUTES), "add new routes to ROUTES with who may reach them"
    assert ADMIN_ROUTES, "the admin's routes were not found"
    ws_patterns = {p.pattern.regex.pattern for p in [*experiment_websockets, *dataset_websockets]}
    assert ws_patterns == set(WEBSOCKET_ROUTES), "add new WebSocket routes to WEBSOCKET_ROUTES"


# --------------------------------------------------------------------------
# Data and principals
# --------------------------------------------------------------------------


@pytest.fixture
def world(db):
    users = get_user_model().objects
    owner = users.create_user("owner", password="pw-owner-1234")
    other = users.create_user("other", password="pw-other-1234")
    inactive = users.create_user("inactive", password="pw-inactive-1234", is_active=False)
    project = Project.objects.create(owner=owner, name=f"{SECRET} project", description=f"{SECRET} description")
    dataset = Dataset.objects.create(owner=owner, name=f"{SECRET} dataset")
    preview = default_storage.save("previews/world/0.png", ContentFile(b"\x89PNG " + SECRET.encode()))
    version = DatasetVersion.objects.create(
        dataset=dataset, number=1, status="ready", source_path=f"{SECRET}-folder", task_types=["image_classification"],
        findings=[{"kind": "duplicate", "split": "val", "file": f"{SECRET}.png", "line": None, "problem": SECRET}],
        previews=[{"name": preview, "caption": SECRET}],
    )  # fmt: skip
    job = TrainingJob.objects.create(
        project=project,
        dataset_version=version,
        model_name=f"{SECRET}-model",
        framework="timm",
        task_type="image_classification",
        status="pending",
        dataset_path=f"{SECRET}/data",
        epochs=3,
        batch_size=8,
        learning_rate=0.01,
    )
    log = f"{SECRET} epoch 1/3\n".encode()
    RunFile.objects.create(
        job=job, name="train.log", storage_name=default_storage.save("runs/world/train.log", ContentFile(log)),
        size=len(log), sha256=hashlib.sha256(log).hexdigest(),
    )  # fmt: skip
    exported = default_storage.save("runs/world/model.onnx", ContentFile(SECRET.encode()))
    Export.objects.create(job=job, format="onnx", status="verified", storage_name=exported, size=len(SECRET))
    drawn = default_storage.save("runs/world/drawn.png", ContentFile(b"\x89PNG " + SECRET.encode()))
    prediction = Prediction.objects.create(job=job, status="done", result={"image": drawn, "classes": [SECRET]})
    TrainingJob.objects.create(
        project=project,
        model_name=f"{SECRET}-finished",
        framework="timm",
        task_type="image_classification",
        status="completed",
        dataset_path=f"{SECRET}/data",
        epochs=3,
        batch_size=8,
        learning_rate=0.01,
        accuracy=0.5,
    )
    Project.objects.create(owner=other, name="Other's own project")
    Project.objects.create(owner=inactive, name="Inactive's project")
    return {
        "owner": owner, "other": other, "inactive": inactive, "project": project, "job": job,
        "dataset": dataset, "version": version, "prediction": prediction,
    }  # fmt: skip


def unsigned_token(user) -> str:
    """A token with "alg": "none" and no signature, claiming to be the user."""
    claims = dict(AccessToken.for_user(user).payload)

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def expired_token(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def foreign_key_token(user) -> str:
    claims = dict(AccessToken.for_user(user).payload)
    return jwt.encode(claims, "not-our-signing-key-but-long-enough-for-hs256", algorithm="HS256")


PRINCIPALS = ["owner", "other", "anonymous", "expired", "wrong_signature", "alg_none", "inactive"]


def token_for(principal: str, world) -> str | None:
    owner = world["owner"]
    return {
        "owner": lambda: str(AccessToken.for_user(owner)),
        "other": lambda: str(AccessToken.for_user(world["other"])),
        "anonymous": lambda: None,
        "expired": lambda: expired_token(owner),
        "wrong_signature": lambda: foreign_key_token(owner),
        "alg_none": lambda: unsigned_token(owner),
        "inactive": lambda: str(AccessToken.for_user(world["inactive"])),
    }[principal]()


def client_for(principal: str, world, api: bool) -> Client:
    """API routes get the principal's Bearer token; pages get its session (forged tokens are sent too, and ignored)."""
    client = Client()
    token = token_for(principal, world)
    if api:
        if token:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    elif principal in ("owner", "other", "inactive"):
        client.force_login(world[principal])
    elif token:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def url_for(key: str, world, object_id=None) -> str:
    pattern, namespace, name, groups = ALL_ROUTES[key]
    project_id = world["project"].id if object_id is None else object_id
    job_id = world["job"].id if object_id is None else object_id
    dataset_id = world["dataset"].id if object_id is None else object_id
    version_id = world["version"].id if object_id is None else object_id
    prediction_id = world["prediction"].id if object_id is None else object_id
    pks = {"experiment": job_id, "dataset-version": version_id, "dataset": dataset_id, "prediction": prediction_id}
    values = {
        "project_id": project_id,
        "project_pk": project_id,
        "experiment_pk": job_id,
        "export_format": "onnx",
        "prediction_id": prediction_id,
        "experiment_id": job_id,
        "dataset_id": dataset_id,
        "version_id": version_id,
        "index": 0,
        "name": "train.log",
        "pk": next((pk for prefix, pk in pks.items() if key.startswith(prefix)), project_id),
        "object_id": project_id,
        "id": world["owner"].id,
        "app_label": "projects",
        "content_type_id": ContentType.objects.get_for_model(Project).id,
        "url": "projects/project/",
    }
    if name is None:  # the admin's unnamed redirects and catch-all
        path = pattern.replace("<path:object_id>", str(project_id)).replace("(?P<url>.*)$", values["url"])
        return "/" + path
    return reverse(f"{namespace}:{name}" if namespace else name, kwargs={group: values[group] for group in groups})


def is_api(key: str) -> bool:
    return ALL_ROUTES[key][0].startswith("api/v1/")


def send(client: Client, method: str, url: str):
    return client.generic(method, url, data=b"", content_type="application/json")


def leaks(response) -> bool:
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    return SECRET in response.content.decode(errors="replace") or SECRET in headers


# --------------------------------------------------------------------------
# The matrix
# --------------------------------------------------------------------------


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("key", sorted(ROUTES))
def test_access(key, principal, world):
    who, owner_statuses = ROUTES[key]
    api = is_api(key)
    client = client_for(principal, world, api)
    url = url_for(key, world)
    signed_in = principal in ("owner", "other")

    for method in METHODS:
        response = send(client, method, url)
        status = response.status_code
        where = f"{method} {url} as {principal}"
        assert status < 500, where

        if principal == "owner":
            expected = owner_statuses.get(method, 405)
            if not (key in LENIENT_PUBLIC and method not in owner_statuses):
                assert status == expected, f"{where}: {status}, expected {expected}"
            continue

        assert not leaks(response), f"{where} shows the owner's data"
        if who == PUBLIC:
            continue
        if not signed_in:
            if method in owner_statuses:
                expect_challenge(response, api, where)
            else:
                assert status in (401, 302, 405), where
            continue
        # Another, signed-in user.
        if who == USER:
            assert status == owner_statuses.get(method, 405), where
        else:
            missing = send(client, method, url_for(key, world, object_id=MISSING_ID))
            assert status == missing.status_code, f"{where}: {status}, but {missing.status_code} when missing"
            if method in owner_statuses and method != "OPTIONS":
                assert status == 404, where
            if api:
                assert response.content == missing.content, where


def expect_challenge(response, api: bool, where: str):
    if api:
        assert response.status_code == 401, f"{where}: {response.status_code}"
        assert response["WWW-Authenticate"].startswith("Bearer"), where
        assert set(response.json()) == {"detail"}, where
    else:
        assert response.status_code == 302, f"{where}: {response.status_code}"
        assert response["Location"].startswith(reverse("login")), where


@pytest.mark.parametrize("principal", ["anonymous", "owner", "expired", "alg_none"])
@pytest.mark.parametrize("key", ADMIN_ROUTES)
def test_the_admin_is_for_staff_only(key, principal, world):
    """No route of the admin shows anything to a user who is not staff (the owner included)."""
    client = client_for(principal, world, api=False)
    url = url_for(key, world)
    for method in ("GET", "POST"):
        response = send(client, method, url)
        where = f"{method} {url} as {principal}"
        assert response.status_code < 500, where
        assert not leaks(response), where
        if key in ("admin:login", "admin:logout"):
            continue
        assert response.status_code in (302, 405), f"{where}: {response.status_code}"
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("admin:login")), where


def test_the_lists_hold_only_the_callers_own(world):
    for principal in ("other", "inactive"):
        api = client_for(principal, world, api=True)
        for key in ("project-list", "me"):
            response = api.get(url_for(key, world))
            assert not leaks(response)
    other = client_for("other", world, api=True).get(reverse("project-list"))
    assert [p["name"] for p in other.json()] == ["Other's own project"]
    assert other["X-Total-Count"] == "1"


@pytest.mark.django_db(transaction=True)
def test_websockets_are_for_the_owner_only(world, tmp_path, settings):
    from experiments.tests.processes import start_server

    settings.DATASETS_ROOT = settings.RUNS_DIR = tmp_path
    server, base = start_server(tmp_path)
    try:
        ws = base.replace("http://", "ws://") + "/ws/projects/"
        url = ws + str(world["project"].id)
        with connect(url, additional_headers=bearer(token_for("owner", world)), open_timeout=10) as socket_:
            assert json.loads(socket_.recv(timeout=10))["type"] == "subscribed"
            # Hostile frames are ignored; the connection still answers.
            for frame in [
                "not json",
                "[1, 2]",
                '"ping"',
                b"\x00\xff",
                "{" * 10_000,
                json.dumps({"type": "x" * 100_000}),
            ]:
                socket_.send(frame)
            socket_.send(json.dumps({"type": "ping"}))
            assert json.loads(socket_.recv(timeout=10)) == {"type": "pong"}
        statuses = {}
        for principal in PRINCIPALS[1:]:
            token = token_for(principal, world)
            for target in (url, ws + str(MISSING_ID)):
                with pytest.raises(InvalidStatus) as refused:
                    connect(target, additional_headers=bearer(token), open_timeout=10)
                statuses[principal, target] = refused.value.response.status_code
        assert set(statuses.values()) == {403}, statuses

        # The datasets' socket: any signed-in user, who hears of their own datasets only (group per user).
        datasets = base.replace("http://", "ws://") + "/ws/datasets"
        for principal in ("owner", "other"):
            with connect(datasets, additional_headers=bearer(token_for(principal, world)), open_timeout=10) as socket_:
                assert json.loads(socket_.recv(timeout=10)) == {"type": "subscribed"}
        for principal in PRINCIPALS[2:]:
            with pytest.raises(InvalidStatus) as refused:
                connect(datasets, additional_headers=bearer(token_for(principal, world)), open_timeout=10)
            assert refused.value.response.status_code == 403, principal
    finally:
        server.stop()


def bearer(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}
