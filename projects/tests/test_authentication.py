"""Every route that names a project refuses a bad token exactly as simplejwt refuses it on /me."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.settings import api_settings

from conftest import api_client_for
from projects.models import Project

pytestmark = pytest.mark.django_db

# Every API route that names a project.
PROJECT_URLS = [
    "/api/v1/projects/{id}",
    "/api/v1/projects/{id}/experiments",
    "/api/v1/projects/{id}/experiments/1",
    "/api/v1/projects/{id}/experiments/1/cancel",
]


def answer(client, url):
    response = client.post(url) if url.endswith("/cancel") else client.get(url)
    return response.status_code, response.json(), response.get("WWW-Authenticate")


@pytest.mark.parametrize("url", PROJECT_URLS)
def test_a_token_of_a_deleted_or_inactive_user_is_refused_as_simplejwt_refuses_it(demo, url):
    users = get_user_model().objects
    gone, resting = users.create_user("gone"), users.create_user("resting")
    # (client, their own project's id), taken before the user is deleted or made inactive.
    callers = [(api_client_for(user), Project.objects.create(owner=user, name="own").id) for user in (gone, resting)]
    gone.delete()
    users.filter(pk=resting.pk).update(is_active=False)

    refusals = []
    for client, own_project_id in callers:
        refused = answer(client, "/api/v1/me")  # simplejwt's own lookup
        assert refused[0] == 401 and refused[2].startswith("Bearer")
        # Their own project (deleted with them, or still there), someone else's, or a malformed id.
        for project_id in (own_project_id, 1, "abc"):
            assert answer(client, url.format(id=project_id)) == refused, (refused, project_id)
        refusals.append(refused[1]["detail"])
    assert refusals[0] != refusals[1]  # "User not found", then "User is inactive"


def test_tokens_checked_against_the_password_are_simplejwts_to_check(demo, monkeypatch):
    monkeypatch.setattr(api_settings, "CHECK_REVOKE_TOKEN", True)
    owner = demo["owner"]
    client = api_client_for(owner)  # the token carries a hash of the password
    assert answer(client, PROJECT_URLS[0].format(id=1))[0] == 200
    owner.set_password("a-new-password-5678")
    owner.save()
    refused = answer(client, "/api/v1/me")
    assert refused[0] == 401
    for url in PROJECT_URLS:
        assert answer(client, url.format(id=1)) == refused, url


def test_a_session_still_opens_the_project_routes(client, demo):
    client.force_login(demo["owner"])
    assert client.get("/api/v1/projects/1/experiments").status_code == 200
    assert client.get("/api/v1/projects/2/experiments").status_code == 404
