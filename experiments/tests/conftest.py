import pytest

from experiments.tests.processes import start_server, start_worker


@pytest.fixture
def stack(request, tmp_path, datasets_root, demo, settings):
    """Server and worker sharing the test database (and Redis when asked)."""
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
