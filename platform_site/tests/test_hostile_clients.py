"""Hostile clients against a server started as in production (gunicorn, DEBUG=0).

Each test enumerates what it probes from the code (the URL conf, the
WebSocket routes), so that a route added later is probed too.
"""

import json
import re
import socket
import sys
import time

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.views import LoginView
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.views import TokenViewBase

from experiments.routing import websocket_urlpatterns
from experiments.tests.processes import Process, environment, free_port, wait_for
from platform_site.tests.test_security import PRODUCTION, answers_with, collected_static  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 4096  # MAX_REQUEST_BODY_BYTES on the server under test
UPLOAD_LIMIT = 8192  # its MAX_DATASET_UPLOAD_BYTES, for the dataset upload routes, and the "try it" routes' limit
HTTPS = {"X-Forwarded-Proto": "https", "Accept-Language": "en"}


@pytest.fixture
def server(tmp_path, settings, collected_static):  # noqa: F811 (the fixture imported above)
    """gunicorn with its uvicorn workers, as railway.json starts it, on the test database."""
    settings.DATASETS_ROOT = settings.RUNS_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the server checks with
    get_user_model().objects.create_user("alice", password="right-password-1234")
    port = free_port()
    env = environment(
        **PRODUCTION,
        PORT=port,
        WEB_CONCURRENCY=2,
        ACCESS_LOG=0,
        MAX_REQUEST_BODY_BYTES=LIMIT,
        MAX_DATASET_UPLOAD_BYTES=UPLOAD_LIMIT,
        MAX_PREDICTION_IMAGE_BYTES=UPLOAD_LIMIT - LIMIT,  # with the form around it: UPLOAD_LIMIT
        AUTH_RATE_LIMIT="3/minute",
    )
    process = Process("gunicorn", [sys.executable, "-m", "gunicorn", "platform_site.asgi:application"], env, tmp_path)
    wait_for(lambda: answers_with(f"http://127.0.0.1:{port}/healthz", 200), 30, "gunicorn to start", process)
    yield process, port
    process.stop()
    log = process.tail(2000)
    # Django logs refused requests under django.security (with their traceback); nothing may fail unhandled.
    assert "Internal Server Error" not in log and "Exception in ASGI application" not in log, log


def raw_exchange(port: int, head: bytes, body_parts=(), pause: float = 0.0, source: str = "127.0.0.1") -> bytes:
    """Sends a request by hand (head, then each body part, `pause` s apart) and returns what came back in 5 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as sock:
        sock.sendall(head)
        for part in body_parts:
            time.sleep(pause)
            try:
                sock.sendall(part)
            except OSError:  # the server answered and closed: what it said is read below
                break
        return read_answer(sock)


def read_answer(sock) -> bytes:
    """One HTTP answer: its head, and as much body as its Content-Length says (or until the server closes)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
            head_part, _, body = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length: (\d+)", head_part)
            if _ and length and len(body) >= int(length.group(1)):
                break
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def body_of(answer: bytes) -> str:
    return answer.split(b"\r\n\r\n", 1)[1].decode(errors="replace")


def head(method: str, path: str, port: int, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post_json(port: int, path: str, data, source: str = "127.0.0.1", headers: dict | None = None) -> bytes:
    body = json.dumps(data).encode()
    headers = {**HTTPS, "Content-Type": "application/json", "Content-Length": len(body), **(headers or {})}
    return raw_exchange(port, head("POST", path, port, headers) + body, source=source)


def is_api_error(answer: bytes) -> bool:
    """The API's one error shape: a JSON body {"detail": "..."}, sent as JSON."""
    head_part = answer.split(b"\r\n\r\n")[0].lower()
    return b"content-type: application/json" in head_part and isinstance(json.loads(body_of(answer))["detail"], str)


def every_route() -> list[tuple[str, object]]:
    """(an example path, the view) for every route of the URL conf; ids and names filled with 1."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            regex = str(pattern.pattern)
            example = re.sub(r"\(\?P<\w+>[^)]*\)", "1", regex).replace("^", "").replace("$", "").replace("/?", "/")
            example = re.sub(r"<\w+:\w+>|<\w+>", "1", example).replace("\\", "")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + example)
            elif isinstance(pattern, URLPattern):
                found.append(("/" + prefix + example, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def checks_passwords(view) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if view_class and issubclass(view_class, LoginView | TokenViewBase):
        return True
    return getattr(view, "__name__", "") == "login" and isinstance(getattr(view, "__self__", None), admin.AdminSite)


SIGN_IN_ENTRY_POINTS = {"/api/v1/auth/token", "/api/v1/auth/token/refresh", "/accounts/login/", "/admin/login/"}


def test_the_url_conf_has_exactly_the_sign_in_entry_points_this_file_knows():
    found = {
        path.rstrip("/") if path.startswith("/api/") else path for path, view in every_route() if checks_passwords(view)
    }
    assert found == SIGN_IN_ENTRY_POINTS, "a new sign-in entry point must share the rate limit and be probed below"


def sign_in(port: int, path: str, username: str, source: str = "127.0.0.1") -> int:
    """One wrong-password attempt at a sign-in entry point, from `source`; returns the status."""
    if path.startswith("/api/"):
        data = {"refresh": "not-a-token"} if path.endswith("refresh") else {"username": username, "password": "wrong"}
        return status_of(post_json(port, path, data, source=source))
    # A form: fetch it first for the CSRF cookie and token, as a browser does.
    page = raw_exchange(port, head("GET", path, port, {**HTTPS, "Connection": "close"}), source=source)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    cookie = re.search(rb"(?i)set-cookie: (csrftoken=[^;]+)", page).group(1).decode()
    body = f"csrfmiddlewaretoken={token}&username={username}&password=wrong".encode()
    headers = {**HTTPS, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": len(body),
               "Cookie": cookie, "Origin": f"https://127.0.0.1:{port}", "Connection": "close"}  # fmt: skip
    return status_of(raw_exchange(port, head("POST", path, port, headers) + body, source=source))


def test_every_sign_in_entry_point_shares_one_budget_per_address(server):
    _, port = server
    entry_points = sorted(SIGN_IN_ENTRY_POINTS)
    statuses = [sign_in(port, path, f"user{i}") for i, path in enumerate(entry_points[:3])]  # 3/minute
    assert all(status in (200, 400, 401) for status in statuses), statuses
    for path in entry_points:
        assert sign_in(port, path, "someone-else") == 429, path


def test_a_guess_spread_over_many_addresses_is_slowed_per_account(server):
    _, port = server
    by_name = sorted(path for path in SIGN_IN_ENTRY_POINTS if not path.endswith("refresh"))
    for i, path in enumerate(by_name):  # 3 attempts at alice, each from an address of its own
        assert sign_in(port, path, "alice", source=f"127.0.0.{10 + i}") in (200, 401)
    for i, path in enumerate(by_name):
        assert sign_in(port, path, "alice", source=f"127.0.0.{20 + i}") == 429, path
        assert sign_in(port, path, f"not-alice-{i}", source=f"127.0.0.{30 + i}") != 429, path


@pytest.mark.once  # the server refuses it before any database is read
def test_a_declared_large_body_sent_slowly_is_refused_at_once_on_every_route(server):
    _, port = server
    seconds = []
    for path, _ in every_route():
        started = time.monotonic()
        declared = {**HTTPS, "Content-Type": "application/json", "Content-Length": 50 * 1024 * 1024}
        answer = raw_exchange(port, head("POST", path, port, declared), [b"{", b'"a"'], pause=0.1)
        assert status_of(answer) == 413, (path, answer[:200])
        seconds.append(time.monotonic() - started)
        assert seconds[-1] < 5, path  # answered without waiting for the 50 MB
        if path.startswith("/api/"):
            assert is_api_error(answer) and "too large" in body_of(answer), path
    print(f"413 on {len(seconds)} routes, slowest answer {max(seconds):.2f} s (body parts sent 0.1 s apart)")


@pytest.mark.parametrize("path", ["/api/v1/projects/1/experiments", "/api/v1/auth/token", "/accounts/login/"])
def test_a_chunked_body_is_cut_off_at_the_limit(server, path):
    _, port = server
    headers = {**HTTPS, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    chunk = b"%x\r\n%s\r\n" % (1024, b"x" * 1024)
    answer = raw_exchange(port, head("POST", path, port, headers), [chunk] * (LIMIT // 1024 + 4) + [b"0\r\n\r\n"])
    assert status_of(answer) == 413, answer[:300]


def test_a_body_within_the_limit_still_arrives(server):
    _, port = server
    answer = post_json(port, "/api/v1/auth/token", {"username": "alice", "password": "right-password-1234"})
    assert status_of(answer) == 200 and "access" in json.loads(body_of(answer))


def test_an_upload_may_be_larger_than_other_bodies_up_to_its_own_limit(server):
    _, port = server
    token_answer = post_json(port, "/api/v1/auth/token", {"username": "alice", "password": "right-password-1234"})
    auth = {"Authorization": f"Bearer {json.loads(body_of(token_answer))['access']}"}
    boundary = "upload-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nbig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.zip"\r\n'
        f"Content-Type: application/zip\r\n\r\n{'x' * (LIMIT + 1000)}\r\n--{boundary}--\r\n"
    ).encode()
    answers = {}
    for declared in (len(body), UPLOAD_LIMIT + 1):
        headers = {**HTTPS, **auth, "Content-Type": f"multipart/form-data; boundary={boundary}",
                   "Content-Length": declared}  # fmt: skip
        answers[declared] = raw_exchange(port, head("POST", "/api/v1/datasets", port, headers) + body)
    within, over = answers[len(body)], answers[UPLOAD_LIMIT + 1]
    assert status_of(within) == 400 and "not a zip or tar archive" in body_of(within), within[:300]  # read, then judged
    assert status_of(over) == 413 and "too large" in body_of(over), over[:300]


def websocket_probes() -> list[str]:
    """Malformed and unknown paths around every WebSocket route."""
    probes = {"/ws/", "/ws/nothing", "/ws", "/ws/" + "x" * 3000, "/ws/%00", "/"}
    for route in websocket_urlpatterns:
        regex = str(route.pattern).strip("^$").replace("/?", "/")
        for value in ("", "abc", "999999999", "1/extra", "-1", "1/../2"):
            probes.add("/" + re.sub(r"\(\?P<\w+>[^)]*\)", value, regex))
    return sorted(probes)


def test_every_malformed_or_unknown_websocket_path_is_refused_quietly(server):
    process, port = server
    for path in websocket_probes():
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": 13,
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}  # fmt: skip
        answer = raw_exchange(port, head("GET", path, port, upgrade))
        assert 400 <= status_of(answer) < 500, (path, answer[:200])  # refused: 403 by the router, 4xx by the parser
    assert "No route found" not in process.tail(400)


def api_routes() -> list[str]:
    return sorted({path for path, _ in every_route() if path.startswith("/api/")})


ERROR_PROBES = {
    # status: (method, path transform, headers, body) that provoke it on any API route that has it
    400: ("GET", lambda path: path + "?" + "&".join(f"p{i}=1" for i in range(1500)), {}, b""),
    405: ("PATCH", lambda path: path, {}, b""),
    406: ("GET", lambda path: path, {"Accept": "application/x-nothing"}, b""),
    413: ("POST", lambda path: path, {"Content-Type": "application/json", "Content-Length": UPLOAD_LIMIT + 1}, b"x"),
    415: ("POST", lambda path: path, {"Content-Type": "text/x-nothing", "Content-Length": 2}, b"{}"),
}


def test_every_api_error_has_the_one_json_shape(server):
    _, port = server
    token_answer = post_json(port, "/api/v1/auth/token", {"username": "alice", "password": "right-password-1234"})
    token = json.loads(body_of(token_answer))["access"]
    seen = {}
    for path in api_routes():
        for signed_in in (False, True):
            auth = {"Authorization": f"Bearer {token}"} if signed_in else {}
            probes = [("GET", path, {}, b""), ("GET", path.replace("/1", "/999999"), {}, b"")]
            probes += [(m, transform(path), h, b) for m, transform, h, b in ERROR_PROBES.values()]
            for method, target, headers, body in probes:
                answer = raw_exchange(
                    port, head(method, target, port, {**HTTPS, **auth, **headers, "Connection": "close"}) + body
                )
                status = status_of(answer)
                assert status != 500 and status != 0, (method, target[:80], answer[:300])
                if status >= 400:
                    assert is_api_error(answer), (method, target[:80], answer[:300])
                    seen.setdefault(status, target)
    for _ in range(3):  # the token request above was one of the 3 sign-in attempts a minute
        answer = post_json(port, "/api/v1/auth/token", {})
    assert status_of(answer) == 429 and is_api_error(answer)
    assert {400, 401, 404, 405, 406, 413, 415} <= set(seen), seen
