"""The project page in a real Chromium (Debian's), driven by Playwright."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from conftest import browser_page
from experiments.models import TrainingJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server):
    call_command("seed_demo", "--force", stdout=io.StringIO())
    with browser_page(browser, live_server.url, 10_000) as page:
        yield page


def log_in(page, username="demo", password="demo1234"):
    page.goto("/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")


def table_rows(page):
    return page.locator("table.experiments tbody tr")


def test_a_user_logs_in_and_follows_dog_vs_cat(page):
    log_in(page)
    page.get_by_role("link", name="Dog vs Cat").click()
    page.wait_for_url("**/projects/1")
    assert page.locator("h1").inner_text() == "Dog vs Cat"
    assert page.get_by_text("개/고양이 분류 프로젝트").is_visible()
    assert page.get_by_role("heading", name="실험 목록").is_visible()

    rows = table_rows(page)
    assert rows.locator("th.model").all_inner_texts() == [
        "yolo11n-seg\nUltralytics", "yolo11n\nUltralytics", "resnet50\ntimm", "efficientnetv2_s\ntimm",
    ]  # fmt: skip
    assert rows.locator("td.task").all_inner_texts() == ["분할", "검출", "분류", "분류"]  # in the page's language
    assert [t.strip() for t in rows.locator(".badge").all_inner_texts()] == [
        "🟡 실행 중",
        "✅ 완료",
        "❌ 실패",
        "✅ 완료",
    ]
    assert rows.locator("td.accuracy").all_inner_texts() == ["-", "89.0%", "-", "92.0%"]
    assert rows.locator("td.created").all_inner_texts() == ["2024-01-18", "2024-01-17", "2024-01-16", "2024-01-15"]
    assert "CUDA out of memory" in rows.nth(2).inner_text()
    badge_colours = rows.locator(".badge").evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert len(set(badge_colours)) == 3  # yellow, green, red

    page.get_by_role("link", name="완료 2").click()
    page.wait_for_url("**/projects/1?status=completed")
    assert table_rows(page).locator("td.accuracy").all_inner_texts() == ["89.0%", "92.0%"]


def test_a_user_cancels_a_running_experiment_from_the_list(page):
    log_in(page)
    page.goto("/projects/1?status=running")
    row = table_rows(page).first
    assert row.locator("th.model a").inner_text() == "yolo11n-seg"
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        row.get_by_role("button", name="yolo11n-seg 취소").click()  # the page's one form, through formaction
    assert posted.value.status == 302 and posted.value.url.endswith("/projects/1/experiments/5/cancel")
    page.wait_for_load_state()
    assert page.url.endswith("/projects/1?status=running")  # back where the user was
    assert TrainingJob.objects.get(pk=5).cancel_requested_at is not None
    # The row was rendered anew, not taken from the cache: a cancel already asked for has no button.
    assert table_rows(page).first.get_by_role("button").count() == 0


def test_a_user_pages_through_the_larger_project(page):
    log_in(page)
    page.get_by_role("link", name="Model zoo sweep").click()
    assert table_rows(page).count() == 20
    first_page = table_rows(page).first.get_attribute("id")
    page.get_by_role("link", name="다음").click()
    page.wait_for_url("**page=2")
    assert table_rows(page).count() == 20
    assert table_rows(page).first.get_attribute("id") != first_page
    assert page.get_by_text("12쪽 중 2쪽").is_visible()

    page.get_by_role("link", name="실패").click()
    page.wait_for_url("**status=failed")
    statuses = set(table_rows(page).locator(".badge").evaluate_all("els => els.map(e => e.dataset.status)"))
    assert statuses == {"failed"}


def test_another_users_project_is_not_found(page):
    log_in(page, username="demo2")
    response = page.goto("/projects/1")
    assert response.status == 404


def test_the_language_switch_and_the_api_docs_work_under_the_csp(page):
    log_in(page)
    page.select_option("#language-select", "en")  # static/js/site.js submits the form
    page.wait_for_selector("text=Dashboard")
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock")  # Swagger UI rendered the schema


def test_the_admin_works_under_the_csp(page):
    get_user_model().objects.create_superuser("root", password="pw-root-1234")
    page.goto("/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root-1234")
    page.click("input[type=submit]")
    page.goto("/admin/experiments/trainingjob/")
    page.wait_for_selector("#result_list")
    page.goto("/admin/experiments/trainingjob/5/change/")
    page.wait_for_selector("#trainingjob_form")


def test_on_a_phone_each_experiment_is_a_card_with_nothing_off_screen(page):
    TrainingJob.objects.filter(project_id=1, status="running").update(current_epoch=10)  # mid-training
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    page.goto("/projects/1")
    rows = table_rows(page)
    assert rows.count() == 4
    for i in range(4):
        for part in ("th.model", ".badge", "td.accuracy", "td.created", ".select-box"):
            box = rows.nth(i).locator(part).first.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (i, part, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert rows.nth(0).locator(".epoch-progress").is_visible()  # the running one's live progress

    select = rows.nth(1).locator(".select-box")
    box = select.bounding_box()
    assert box["width"] >= 40 and box["height"] >= 40  # a finger's worth
    select.click()
    page.wait_for_url("**/projects/1?selected=*")
    assert page.get_by_role("link", name="선택한 실험 비교 (1)").is_visible()


def test_the_accuracy_header_sorts_the_list_most_accurate_first(page):
    log_in(page)
    page.goto("/projects/1")
    page.get_by_role("link", name="정확도", exact=True).click()  # the column header sorts
    page.wait_for_url("**/projects/1?ordering=-accuracy")
    assert table_rows(page).locator("td.accuracy").all_inner_texts()[:2] == ["92.0%", "89.0%"]
    assert page.locator('th[aria-sort="descending"]').inner_text().startswith("정확도")
