import pytest

from projects.models import Project

pytestmark = pytest.mark.django_db

PROJECT_1 = {
    "id": 1,
    "name": "Dog vs Cat",
    "description": "개/고양이 분류 프로젝트",
    "created_at": "2024-01-15T14:00:00+09:00",
    "updated_at": "2024-01-18T11:30:00+09:00",
}


@pytest.mark.parametrize("path", ["/api/v1/projects/1", "/api/v1/projects/1/"])
def test_it_returns_exactly_the_project_fields(owner_api, path):
    response = owner_api.get(path)
    assert response.status_code == 200
    assert response.json() == PROJECT_1


def test_it_hides_someone_elses_project_exactly_like_a_missing_one(owner_api):
    foreign = owner_api.get("/api/v1/projects/2")
    missing = owner_api.get("/api/v1/projects/999")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": "Project not found"}
    assert foreign.content == missing.content


@pytest.mark.parametrize(
    "raw_id", ["abc", "0", "-1", "1.5", "99999999999999999999999", "%C2%B2", "9223372036854775808"]
)
def test_malformed_or_out_of_range_ids_are_not_found(owner_api, raw_id):
    response = owner_api.get(f"/api/v1/projects/{raw_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Project not found"}


def test_the_list_holds_only_the_callers_projects(owner_api, other_api, demo):
    Project.objects.create(owner=demo["owner"], name="Second")
    mine = owner_api.get("/api/v1/projects")
    assert mine.status_code == 200
    assert [p["name"] for p in mine.json()] == ["Second", "Dog vs Cat"]
    assert mine["X-Total-Count"] == "2"
    assert [p["id"] for p in other_api.get("/api/v1/projects/").json()] == [2]


def test_the_project_list_pages_like_experiments(owner_api, demo):
    Project.objects.bulk_create(Project(owner=demo["owner"], name=f"P{i}") for i in range(4))
    response = owner_api.get("/api/v1/projects?per_page=2&page=3")
    assert response.status_code == 200
    assert len(response.json()) == 1
    assert response["X-Total-Count"] == "5"
    assert 'rel="prev"' in response["Link"] and 'rel="next"' not in response["Link"]
    assert owner_api.get("/api/v1/projects?page=0").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/projects", "/api/v1/projects/1", "/api/v1/projects/1/experiments"])
def test_anonymous_callers_get_401_with_a_bearer_challenge(anon_api, path):
    response = anon_api.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail"}


def test_a_forged_token_is_refused(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = anon_api.get("/api/v1/projects/1")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_an_expired_token_is_refused(demo):
    from datetime import timedelta

    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(demo["owner"])
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/projects/1").status_code == 401


def test_a_token_from_the_login_endpoint_opens_the_api(demo):
    from rest_framework.test import APIClient

    client = APIClient()
    tokens = client.post("/api/v1/auth/token", {"username": "demo", "password": "demo1234"}, format="json").json()
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert client.get("/api/v1/projects/1").json()["name"] == "Dog vs Cat"


def test_wrong_credentials_get_401(demo):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v1/auth/token", {"username": "demo", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}


def test_the_session_of_a_logged_in_user_opens_the_api(client, demo):
    client.force_login(demo["owner"])
    assert client.get("/api/v1/projects/1").status_code == 200
    assert client.get("/api/v1/projects/2").status_code == 404


def test_the_owner_deletes_a_project_with_nothing_pending_or_running(owner_api, other_api):
    Project.objects.get(pk=1).jobs.update(status="completed")
    assert other_api.delete("/api/v1/projects/1").status_code == 404
    assert owner_api.delete("/api/v1/projects/1").status_code == 204
    assert not Project.objects.filter(pk=1).exists()


def test_me_names_the_caller(owner_api, anon_api, demo):
    assert owner_api.get("/api/v1/me").json() == {"id": demo["owner"].id, "username": "demo"}
    assert anon_api.get("/api/v1/me").status_code == 401


def test_the_fast_representation_matches_drfs_fields(demo):
    from django.utils import timezone

    from projects.api.serializers import ProjectSerializer

    project = Project.objects.get(pk=1)
    project.updated_at = project.updated_at.replace(microsecond=123456)

    def drf(project):
        return super(ProjectSerializer, ProjectSerializer(project)).to_representation(project)

    for zone in ("Asia/Seoul", "UTC", "America/New_York"):
        with timezone.override(zone):
            assert ProjectSerializer(project).data == drf(project)
    assert ProjectSerializer([project], many=True).data == [drf(project)]
