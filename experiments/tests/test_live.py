"""Live updates end to end: a real server (uvicorn, the production ASGI app), a real worker and WebSocket clients."""

import json
import socket
import urllib.request

import pytest
from rest_framework_simplejwt.tokens import RefreshToken
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from experiments.models import TrainingJob

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/projects/1/experiments"


def redis_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


LAYERS = [
    pytest.param({}, id="database-relay"),
    pytest.param(
        {"REDIS_URL": "redis://127.0.0.1:6379/7"},
        id="redis",
        # The Redis layer does the same whatever the database: checked in the SQLite pass.
        marks=[pytest.mark.skipif(not redis_available(), reason="no Redis at 127.0.0.1:6379"), pytest.mark.once],
    ),
]


def post_json(url: str, user, body: dict) -> dict:
    """Through the server under test, so that the web process publishes what it creates."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **bearer(user)}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own server)
        assert response.status == 201
        return json.loads(response.read())


def ws_url(base: str, project_id) -> str:
    return base.replace("http://", "ws://") + f"/ws/projects/{project_id}"


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@pytest.mark.parametrize("stack", LAYERS, indirect=True)
def test_the_owner_receives_progress_and_the_final_status(stack, demo):
    url, server, worker = stack
    with connect(ws_url(url, 1), additional_headers=bearer(demo["owner"]), open_timeout=10) as socket_:
        assert json.loads(socket_.recv(timeout=10)) == {"type": "subscribed", "project_id": 1}
        job_id = post_json(url + URL, demo["owner"], {
            "framework": "timm", "model_name": "resnet18", "task_type": "image_classification",
            "dataset_path": "shapes-cls", "epochs": 2, "batch_size": 8, "learning_rate": 0.001, "image_size": 32,
        })["id"]  # fmt: skip
        messages = []
        while not any(m.get("type") == "status_changed" and m.get("status") == "completed" for m in messages):
            try:
                messages.append(json.loads(socket_.recv(timeout=120)))
            except TimeoutError:
                raise AssertionError(f"no final status; got {messages}\n{worker.tail()}\n{server.tail()}") from None
    mine = [m for m in messages if m.get("experiment_id") == job_id]
    progress = [m for m in mine if m["type"] == "training_progress"]
    assert [m["epoch"] for m in progress] == [1, 2]
    assert set(progress[0]) == {
        "type",
        "event_id",
        "at",
        "experiment_id",
        "epoch",
        "epochs",
        "progress",
        "loss",
        "accuracy",
    }
    assert (progress[0]["epochs"], progress[0]["progress"], progress[1]["progress"]) == (2, 0.5, 1.0)
    statuses = [m["status"] for m in mine if m["type"] == "status_changed"]
    assert statuses == ["running", "completed"]
    assert mine[0]["type"] == "experiment_created"
    assert mine[-1]["accuracy"] == TrainingJob.objects.get(pk=job_id).accuracy


@pytest.mark.parametrize("stack", [LAYERS[1]], indirect=True)
def test_an_idle_socket_stays_open_and_still_receives(stack, demo):
    # channels_redis waits on Redis with a 5 s BZPOPMIN, and redis-py 8 gives up reading after
    # 5 s by default: an idle socket was closed with "Timeout reading from redis" (1011).
    url, server, worker = stack
    with connect(ws_url(url, 1), additional_headers=bearer(demo["owner"]), open_timeout=10) as socket_:
        assert json.loads(socket_.recv(timeout=10)) == {"type": "subscribed", "project_id": 1}
        with pytest.raises(TimeoutError):
            socket_.recv(timeout=16)  # nothing happens for three of the layer's blocking reads
        job_id = post_json(url + URL, demo["owner"], {
            "framework": "timm", "model_name": "resnet18", "task_type": "image_classification",
            "dataset_path": "shapes-cls", "epochs": 1, "batch_size": 8, "learning_rate": 0.001, "image_size": 32,
        })["id"]  # fmt: skip
        message = json.loads(socket_.recv(timeout=10))
    assert (message["type"], message["experiment_id"]) == ("experiment_created", job_id)
    assert "Timeout reading" not in server.tail()


def test_others_are_refused_exactly_like_a_missing_project(stack, demo):
    url, server, worker = stack
    refusals = []
    cases = [
        (1, bearer(demo["other"])),
        (999, bearer(demo["owner"])),
        (1, {}),
        ("abc", {}),
        (1, {"Authorization": "Bearer forged.token.value"}),
    ]
    for project_id, headers in cases:
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(url, project_id), additional_headers=headers, open_timeout=10)
        refusals.append(refused.value.response.status_code)
    assert refusals == [403] * len(cases)


def test_a_browser_on_another_origin_is_refused(stack, demo):
    url, server, worker = stack
    with pytest.raises(InvalidStatus):
        connect(ws_url(url, 1), additional_headers=bearer(demo["owner"]), origin="http://evil.example", open_timeout=10)


def test_a_token_in_the_query_string_works_too(stack, demo):
    url, server, worker = stack
    token = RefreshToken.for_user(demo["owner"]).access_token
    with connect(ws_url(url, 1) + f"?token={token}", open_timeout=10) as socket_:
        assert json.loads(socket_.recv(timeout=10))["type"] == "subscribed"
