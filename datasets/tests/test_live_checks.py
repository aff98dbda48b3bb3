"""A version's check, followed live: a real server (uvicorn, the production ASGI app), a real worker, WebSocket clients."""

import json

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from datasets.tests.test_datasets import upload, zip_of
from datasets.tests.test_doctor import png_of
from experiments.tests.processes import start_server, start_worker
from experiments.tests.test_live import LAYERS, bearer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stack(request, tmp_path, demo):
    env = request.param
    server, url = start_server(tmp_path, **env)
    worker = start_worker("worker-checks", tmp_path, **env)
    yield url.replace("http://", "ws://") + "/ws/datasets", worker
    worker.stop()
    server.stop()
    print(f"--- server ---\n{server.tail()}\n--- worker ---\n{worker.tail()}")  # shown when a test fails


def many_images(count: int) -> bytes:
    """An ImageFolder set big enough for the check to report its progress (every 500 images) twice."""
    files = {f"train/{('cat', 'dog')[i % 2]}/{i}.png": png_of(i % 200) for i in range(count)}
    files |= {"val/cat/v.png": png_of(201), "val/dog/v.png": png_of(202)}  # none the same as a train image
    return zip_of(files)


@pytest.mark.parametrize("stack", LAYERS, indirect=True)
def test_the_owner_follows_the_check_and_nobody_else_hears_of_it(stack, demo, owner_api):
    url, worker = stack
    with (
        connect(url, additional_headers=bearer(demo["owner"]), open_timeout=10) as mine,
        connect(url, additional_headers=bearer(demo["other"]), open_timeout=10) as theirs,
    ):
        assert json.loads(mine.recv(timeout=10)) == json.loads(theirs.recv(timeout=10)) == {"type": "subscribed"}
        response = upload(owner_api, "big", many_images(1200))
        assert response.status_code == 201, response.content
        version_id = response.json()["id"]
        messages = []
        while not any(m["type"] == "version_checked" for m in messages):
            try:
                messages.append(json.loads(mine.recv(timeout=60)))
            except TimeoutError:
                raise AssertionError(f"the check never ended; got {messages}\n{worker.tail()}") from None
        with pytest.raises(TimeoutError):
            theirs.recv(timeout=1)
    assert {m["version_id"] for m in messages} == {version_id}
    progress = [m["progress"] for m in messages if m["type"] == "check_progress"]
    assert len(progress) >= 2 and progress == sorted(progress) and 0 < progress[0] < 1
    assert {k: messages[-1][k] for k in ("type", "status", "findings")} == {
        "type": "version_checked",
        "status": "ready",
        "findings": 0,
    }


@pytest.mark.parametrize("stack", [LAYERS[0]], indirect=True)
def test_a_socket_without_a_user_is_refused(stack, demo):
    url, worker = stack
    for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers=headers, open_timeout=10)
        assert refused.value.response.status_code == 403
