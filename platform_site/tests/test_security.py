"""Rate limits, request size limits, production headers and database outages."""

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from experiments.tests.processes import ROOT, Process, environment, free_port, start_server, wait_for
from platform_site.throttling import AuthRateThrottle

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"
LOGIN_URL = "/accounts/login/"


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="right-password-1234")


def attempts_allowed() -> int:
    return AuthRateThrottle().num_requests


@pytest.mark.parametrize("url", [TOKEN_URL, "/api/v1/auth/token/refresh"])
def test_token_endpoints_are_rate_limited(client, user, url):
    body = {"username": "alice", "password": "wrong", "refresh": "not-a-token"}
    for _ in range(attempts_allowed()):
        assert client.post(url, body, content_type="application/json").status_code in (400, 401)
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Retry-After"] in refused.json()["detail"]  # "... available in N seconds"
    # Even the right password waits: the limit is on attempts, not on failures.
    right = client.post(TOKEN_URL, {"username": "alice", "password": "right-password-1234"}, "application/json")
    assert right.status_code == 429


def test_the_login_page_is_rate_limited_and_shares_the_budget_with_tokens(client, user):
    for _ in range(attempts_allowed() - 1):
        assert client.post(LOGIN_URL, {"username": "alice", "password": "wrong"}).status_code == 200
    client.post(TOKEN_URL, {"username": "alice", "password": "wrong"}, content_type="application/json")
    refused = client.post(LOGIN_URL, {"username": "alice", "password": "right-password-1234"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert f"{refused['Retry-After']}" in refused.content.decode()
    assert client.get(LOGIN_URL).status_code == 200  # showing the form is not an attempt


def test_limits_are_per_client_address_and_per_account_and_a_forged_forwarded_for_does_not_reset_them(client, user):
    body = {"username": "alice", "password": "wrong"}
    for _ in range(attempts_allowed()):
        client.post(TOKEN_URL, body, content_type="application/json")
    forged = client.post(TOKEN_URL, body, content_type="application/json", HTTP_X_FORWARDED_FOR="10.9.8.7")
    assert forged.status_code == 429
    other_account = {"username": "bob", "password": "wrong"}
    assert (
        client.post(TOKEN_URL, other_account, content_type="application/json", REMOTE_ADDR="10.0.0.2").status_code
        == 401
    )
    # The same account from another address: its own budget is spent too.
    assert client.post(TOKEN_URL, body, content_type="application/json", REMOTE_ADDR="10.0.0.3").status_code == 429


@pytest.mark.parametrize("url", ["/api/v1/projects/1/experiments", LOGIN_URL, TOKEN_URL])
def test_oversized_bodies_are_refused_before_they_are_read(client, user, settings, url):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    response = client.post(url, "x" * 1001, content_type="application/json")
    assert response.status_code == 413
    text = response.content.decode()
    assert "1001" in text and "1000" in text


def test_a_body_within_the_limit_is_read(client, user, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    response = client.post(TOKEN_URL, {"username": "alice", "password": "x" * 900}, content_type="application/json")
    assert response.status_code == 401


# --------------------------------------------------------------------------
# The production configuration, served by the real server
# --------------------------------------------------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,vision.example.com",
}


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """The production static files (manifest included), as the deployment's build step makes them.

    Into a folder of this test run's own, which the servers it starts serve from (STATIC_ROOT): the other
    database's pass runs beside this one, and the project's own folder would be rewritten under its feet.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STATIC_ROOT", str(tmp_path_factory.mktemp("staticfiles")))
        env = environment(**PRODUCTION)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
        )
        yield


def request(url: str, method="GET", headers=None, data=None):
    req = urllib.request.Request(url, method=method, headers={"Accept-Language": "en", **(headers or {})}, data=data)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def answers_with(url: str, status: int) -> bool:
    try:
        return request(url)[0] == status
    except OSError:
        return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.django_db(transaction=True)
def test_a_production_response_carries_the_security_headers(tmp_path, settings, collected_static):
    settings.DATASETS_ROOT = settings.RUNS_DIR = tmp_path
    server, base = start_server(tmp_path, **PRODUCTION)
    https = {"X-Forwarded-Proto": "https"}
    try:
        status, headers, _ = request(base + LOGIN_URL)
        assert status == 301 and headers["Location"] == "https://127.0.0.1:" + base.rsplit(":", 1)[1] + LOGIN_URL

        status, headers, body = request(base + LOGIN_URL, headers=https)
        assert status == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        cookie = headers["Set-Cookie"]
        assert cookie.startswith("csrftoken=") and "Secure" in cookie and "SameSite=Lax" in cookie

        # No debug pages: a missing page and a bad request show our pages, not Django's technical ones.
        status, _, body = request(base + "/no/such/page", headers=https)
        assert status == 404 and "URLconf" not in body and "Traceback" not in body
        status, _, body = request(base + "/api/v1/nothing", headers=https)
        assert status == 404 and json.loads(body) == {"detail": "Not found."}
        status, _, body = request(base + "/dashboard", headers={**https, "Host": "evil.example.org"})
        assert status == 400 and "DisallowedHost" not in body and "ALLOWED_HOSTS" not in body

        # The body limit holds on the real server too.
        status, _, body = request(
            base + TOKEN_URL, "POST", {**https, "Content-Type": "application/json"}, b"x" * (1024 * 1024 + 1)
        )
        assert status == 413 and "too large" in json.loads(body)["detail"]
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_is_shared_by_the_server_processes(tmp_path, settings, user):
    """The real server counts attempts in the shared cache (a database table), as production does."""
    settings.DATASETS_ROOT = settings.RUNS_DIR = tmp_path
    server, base = start_server(tmp_path, AUTH_RATE_LIMIT="3/minute")
    try:
        body = json.dumps({"username": "alice", "password": "wrong"}).encode()
        statuses = [request(base + TOKEN_URL, "POST", {"Content-Type": "application/json"}, body)[0] for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
    finally:
        server.stop()


def test_an_unreachable_database_is_a_fast_503_not_a_500_or_a_hang(tmp_path, user, settings, collected_static):
    """Every request fails fast with a clear 503 (JSON under /api/) while the database cannot be reached."""
    port = free_port()
    unreachable = f"postgres://postgres@127.0.0.1:{free_port()}/nothing"
    # The production configuration, with the test's signing key so that the token is valid.
    env = environment(**{**PRODUCTION, "SECRET_KEY": settings.SECRET_KEY, "DATABASE_URL": unreachable})
    args = [sys.executable, "-m", "uvicorn", "platform_site.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning"]  # fmt: skip
    server = Process("server-no-db", args, env, tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers_with(base + "/healthz", 503), 30, "the server to start", server)
        token_body = json.dumps({"username": "a", "password": "b"}).encode()
        # A signed-in API client and a signed-in browser: both need the database.
        signed_in = {"Authorization": f"Bearer {AccessToken.for_user(user)}", "Cookie": "sessionid=" + "x" * 32}
        for path, method, data in [
            ("/api/v1/projects", "GET", None),
            (TOKEN_URL, "POST", token_body),
            ("/dashboard", "GET", None),
        ]:
            started = time.monotonic()
            headers = {"Content-Type": "application/json", "X-Forwarded-Proto": "https", **signed_in}
            status, headers, body = request(base + path, method, headers, data)
            assert time.monotonic() - started < 5, path
            assert status == 503, (path, status, body)
            assert headers["Retry-After"] == "5"
            if path.startswith("/api/"):
                assert "database is unavailable" in json.loads(body)["detail"]
            else:
                assert "503" in body and "Traceback" not in body
    finally:
        server.stop()
