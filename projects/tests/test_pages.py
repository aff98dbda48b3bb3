import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments.models import TrainingJob, TrainingMetric
from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, demo):
    client.force_login(demo["owner"])
    return client


def rows(html: str) -> list[str]:
    return re.findall(r'<tr id="experiment-(\d+)"', html)


def add_jobs(project, count, status="completed", spacing=timedelta(minutes=1)):
    TrainingJob.objects.bulk_create(
        TrainingJob(
            project=project, model_name=f"bulk{i}", framework="timm", task_type="image_classification",
            status=status, dataset_path="/d", epochs=1, batch_size=1, learning_rate=0.1,
            created_at=project.created_at + timedelta(days=60) + i * spacing,
        )
        for i in range(count)
    )  # fmt: skip


def test_root_goes_to_the_dashboard(owner_client):
    response = owner_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/dashboard"


@pytest.mark.parametrize("path", ["/dashboard", "/projects/1", "/projects/2", "/projects/abc"])
def test_anonymous_visitors_are_sent_to_log_in(client, demo, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_dashboard_lists_the_users_projects_with_counts(owner_client):
    html = owner_client.get("/dashboard", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert 'href="/projects/1"' in html
    assert "개/고양이 분류 프로젝트" in html
    assert "Street Scenes" not in html  # demo2's project
    counts = re.findall(r'data-status="(\w+)".*?</span>\s*<span class="count">(\d+)</span>', html)
    assert dict(counts) == {"running": "1", "completed": "2", "failed": "1"}


def test_the_project_page_shows_the_spec_table(owner_client):
    response = owner_client.get("/projects/1", HTTP_ACCEPT_LANGUAGE="ko")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Dog vs Cat</h1>" in html and "개/고양이 분류 프로젝트" in html
    assert "실험 목록" in html
    for header in ["모델", "태스크", "상태", "정확도", "생성일"]:
        assert '<th scope="col"' in html and header in html
    assert rows(html) == ["5", "3", "2", "1"]
    row = {job_id: html.split(f'id="experiment-{job_id}"')[1].split("</tr>")[0] for job_id in ["5", "3", "2", "1"]}
    assert "yolo11n-seg" in row["5"] and "분할" in row["5"] and "🟡" in row["5"] and "실행 중" in row["5"]
    assert "검출" in row["3"] and "✅" in row["3"] and "완료" in row["3"] and "89.0%" in row["3"]
    assert "분류" in row["2"] and "❌" in row["2"] and "실패" in row["2"]
    assert "CUDA out of memory" in row["2"]
    assert "92.0%" in row["1"]
    assert re.search(r'class="accuracy num">-<', row["5"]) and re.search(r'class="accuracy num">-<', row["2"])
    assert [d for d in re.findall(r">(\d{4}-\d\d-\d\d)</time>", html)] == [
        "2024-01-18", "2024-01-17", "2024-01-16", "2024-01-15",
    ]  # fmt: skip


def test_an_accuracy_of_zero_shows_as_zero_percent(owner_client):
    TrainingJob.objects.filter(pk=1).update(accuracy=0.0)
    html = owner_client.get("/projects/1").content.decode()
    assert "0.0%" in html.split('id="experiment-1"')[1].split("</tr>")[0]


def test_dates_follow_the_browsers_time_zone(owner_client):
    owner_client.cookies["tz"] = "America/Los_Angeles"
    html = owner_client.get("/projects/1").content.decode()
    # 2024-01-15 16:45 in Seoul is 2024-01-14 23:45 in Los Angeles.
    assert re.findall(r">(\d{4}-\d\d-\d\d)</time>", html)[-1] == "2024-01-14"
    owner_client.cookies["tz"] = "Not/A_Zone"
    assert owner_client.get("/projects/1").status_code == 200


def test_status_tabs_filter_and_show_counts(owner_client):
    html = owner_client.get("/projects/1?status=completed").content.decode()
    assert rows(html) == ["3", "1"]
    tabs = dict(re.findall(r'data-status-tab="(\w+)".*?<span class="count">(\d+)</span>', html, re.S))
    assert tabs == {"all": "4", "pending": "0", "running": "1", "completed": "2", "failed": "1", "cancelled": "0"}
    assert re.search(r'class="tab active" data-status-tab="completed"', html)


def test_pages_keep_the_filter_in_the_url(owner_client):
    project = Project.objects.get(pk=1)
    add_jobs(project, 30)
    html = owner_client.get("/projects/1?status=completed").content.decode()
    assert len(rows(html)) == 20
    assert 'href="?status=completed&amp;page=2"' in html
    second = owner_client.get("/projects/1?status=completed&page=2").content.decode()
    assert rows(second)[-2:] == ["3", "1"] and len(rows(second)) == 12
    assert 'href="?status=completed&amp;page=1"' in second


def test_a_deep_page_shows_the_right_rows(owner_client):
    project = Project.objects.get(pk=1)
    add_jobs(project, 90, spacing=timedelta(hours=6))  # about three weeks
    add_jobs(project, 30, status="failed", spacing=timedelta(hours=13))
    for query, status in [("page=4", None), ("status=completed&page=3", "completed")]:
        jobs = TrainingJob.objects.for_project(project).newest_first()
        if status:
            jobs = jobs.filter(status=status)
        number = int(query.rsplit("=", 1)[1])
        expected = [str(pk) for pk in jobs.values_list("id", flat=True)[(number - 1) * 20 : number * 20]]
        html = owner_client.get(f"/projects/1?{query}").content.decode()
        assert rows(html) == expected


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=1000", "status=bogus"])
def test_bad_query_parameters_are_a_400_page(owner_client, query):
    response = owner_client.get(f"/projects/1?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert f"<code>{query.split('=')[0]}</code>" in response.content.decode()


@pytest.mark.parametrize("path", ["/projects/2", "/projects/999", "/projects/abc", "/projects/99999999999999999999"])
def test_someone_elses_or_a_missing_project_is_404(owner_client, path):
    assert owner_client.get(path).status_code == 404


def test_the_page_runs_a_fixed_number_of_queries(owner_client):
    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(path).status_code == 200
        return len(captured)

    project = Project.objects.get(pk=1)
    add_jobs(project, 25)
    paths = ["/projects/1", "/projects/1?status=completed&page=2", "/dashboard",
             "/projects/1?ordering=-accuracy&show=best&selected=1,2&model_name_contains=m"]  # fmt: skip
    before = tuple(queries(path) for path in paths)
    add_jobs(project, 100, status="failed")
    Project.objects.bulk_create(Project(owner=project.owner, name=f"extra {i}") for i in range(5))
    after = tuple(queries(path) for path in paths)
    assert before == after
    assert before[0] <= 6  # session, user, project, its counts, page, the page's metrics


def test_the_rows_show_every_change_at_once(owner_client):
    first = owner_client.get("/projects/1").content.decode()
    assert rows(first) == ["5", "3", "2", "1"]
    assert 'class="sparkline"' not in first

    for epoch in (1, 2):  # a running experiment reports an epoch: its sparkline appears
        TrainingMetric.objects.create(job_id=5, epoch=epoch, accuracy=epoch / 10, duration_seconds=1)
    assert 'class="sparkline"' in owner_client.get("/projects/1").content.decode()
    english = owner_client.get("/projects/1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Running" in english and "실행 중" not in english


def test_the_header_and_navigation_show_the_project_and_language_of_the_request(owner_client):
    Project.objects.filter(pk=1).update(name="Renamed")  # update(): no save() signal
    assert "<h1>Renamed</h1>" in owner_client.get("/projects/1").content.decode()
    Project.objects.filter(pk=1).update(description="New words")
    html = owner_client.get("/projects/1").content.decode()
    assert "New words" in html and "대시보드" in html and "실험 목록" in html
    english = owner_client.get("/projects/1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dashboard" in english and "Experiment list" in english and "Log out" in english
    assert "대시보드" not in english and "실험 목록" not in english


def test_only_staff_see_the_admin_link_whoever_was_served_first(client, demo):
    staff = demo["owner"]
    staff.is_staff = True
    staff.save()
    for first, second in ((staff, demo["other"]), (demo["other"], staff)):
        for user in (first, second):
            client.force_login(user)
            shows_admin = 'href="/admin/"' in client.get("/dashboard").content.decode()
            assert shows_admin == user.is_staff, (first.username, user.username)


def test_english_is_one_switch_away(owner_client):
    html = owner_client.get("/projects/1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Experiments" in html and "Completed" in html and "실험 목록" not in html
    response = owner_client.post("/i18n/setlang/", {"language": "en", "next": "/projects/1"})
    assert response.status_code == 302
    html = owner_client.get("/projects/1").content.decode()
    assert '<html lang="en">' in html and "Failed" in html


def test_korean_is_the_default_language(owner_client):
    html = owner_client.get("/projects/1").content.decode()
    assert '<html lang="ko">' in html and "실험 목록" in html and "대기 중" in html


def test_login_and_logout(client, demo):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'for="id_username"' in page.content
    response = client.post("/accounts/login/", {"username": "demo", "password": "demo1234"})
    assert response.status_code == 302 and response["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/dashboard").status_code == 302
