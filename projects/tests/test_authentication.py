"""ProjectJWTAuthentication: the user and the project in one query, and simplejwt's answers kept."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.settings import api_settings

from conftest import api_client_for
from projects.models import Project

pytestmark = pytest.mark.django_db

# Every API route that names a project: ProjectJWTAuthentication reads it with the user.
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


def test_the_list_reads_the_user_and_the_project_in_one_query(owner_api):
    with CaptureQueriesContext(connection) as queries:
        assert owner_api.get("/api/v1/projects/1/experiments").status_code == 200
    reading_users = [query["sql"] for query in queries.captured_queries if "auth_user" in query["sql"]]
    assert len(reading_users) == 1 and "project_status_counts" in reading_users[0]
    assert len(queries) == 2  # the user with the project and its counts, then the page

    with CaptureQueriesContext(connection) as queries:
        assert owner_api.get("/api/v1/projects/1").status_code == 200
    assert len(queries) == 1


def test_a_session_still_opens_the_project_routes(client, demo):
    client.force_login(demo["owner"])
    assert client.get("/api/v1/projects/1/experiments").status_code == 200
    assert client.get("/api/v1/projects/2/experiments").status_code == 404


def test_read_owned_finds_the_user_whether_or_not_the_project_is_theirs(demo):
    owner = demo["owner"]
    user, project = Project.objects.read_owned("1", owner.id)
    assert (user.pk, user.is_active, project.pk, project.name) == (owner.pk, True, 1, "Dog vs Cat")
    assert project.status_counts() == Project.objects.get(pk=1).status_counts()
    # Only the id and is_active come with the query; the rest of the user is read when used.
    assert user.get_deferred_fields() >= {"username", "password"}
    assert user.get_username() == "demo" and user.check_password("demo1234")

    for raw_id in ("2", "999", "abc", "0", None):
        user, project = Project.objects.read_owned(raw_id, owner.id)
        assert (user.pk, project) == (owner.pk, None), raw_id
    for user_id in (987654321, "abc", None):
        assert Project.objects.read_owned("1", user_id) == (None, None)
