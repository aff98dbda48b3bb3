import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


@pytest.fixture(autouse=True)
def fast_and_static(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests render templates without collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def demo(db):
    """The seed data of SPEC.md: demo owns project 1, demo2 owns project 2 (with experiment 4)."""
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
