"""A user starts a training from the form and watches it live in a real Chromium,
against the real server (uvicorn) and a real worker."""

import pytest

from conftest import browser_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, stack):
    url, server, worker = stack
    with browser_page(browser, url, 15_000) as page:
        yield page


def wait_until_live(page, stack):
    try:
        page.wait_for_selector('[data-live-state="connected"]')
    except Exception:
        url, server, worker = stack
        raise AssertionError(f"the page never connected\n{server.tail()}\n{worker.tail()}") from None


def test_a_user_starts_a_training_and_watches_it_finish(page, stack):
    url, server, worker = stack
    page.goto("/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")
    page.goto("/projects/1")
    wait_until_live(page, stack)

    page.get_by_role("link", name="+ 새 실험").click()
    page.fill("#id_model_name", "resnet18")
    page.select_option("#id_framework", "timm")
    page.select_option("#id_task_type", "image_classification")
    page.fill("#id_dataset_path", "shapes-cls")
    page.fill("#id_epochs", "6")
    page.fill("#id_batch_size", "2")
    page.fill("#id_image_size", "64")
    page.get_by_role("button", name="학습 시작").click()
    page.wait_for_url("**/projects/1")
    wait_until_live(page, stack)

    row = page.locator("table.experiments tbody tr").first
    assert row.locator("th.model").inner_text().startswith("resnet18")
    seen_progress, badges = set(), set()
    for _ in range(600):  # up to about a minute, sampled every 100 ms
        badge = row.locator(".badge").first.inner_text().strip()
        badges.add(badge.split(" (")[0])
        bar = row.locator("progress.epoch-progress")
        if bar.count():
            seen_progress.add(int(bar.get_attribute("value")))
        if "완료" in badge:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"never completed; saw {badges}\n{worker.tail()}")
    assert {"🟡 실행 중", "✅ 완료"} <= badges
    assert len(seen_progress) >= 2, seen_progress  # the bar moved while it ran
    assert row.locator("td.accuracy").inner_text().endswith("%")
    assert row.locator("progress").count() == 0
