"""A user uploads a data set with problems, reads the doctor's report in a real Chromium, and fixes it in one click,
against the real server and a real worker."""

import json
import re

import pytest
from playwright.sync_api import expect

from conftest import browser_page
from datasets.tests.test_datasets import zip_of
from datasets.tests.test_doctor import CASES
from experiments.tests.test_browser_training import choose_archive, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_shows_the_problem_by_file_and_line_and_one_click_fixes_it(browser, stack):
    url, server, worker = stack
    with browser_page(browser, url, 15_000) as page:
        sign_in(page)
        choose_archive(page, "boxes", zip_of(CASES["class id out of range"][0]))
        page.get_by_role("button", name="업로드").click()
        page.wait_for_url(re.compile(r"/datasets/\d+$"))
        # The dataset page reloads itself when the check ends: wait for that, or a click on "v1" may be lost.
        page.wait_for_selector('[data-status="invalid"]', timeout=60_000)  # the worker's check
        page.get_by_role("link", name="v1").click()
        page.wait_for_url(re.compile(r"/datasets/versions/\d+$"))
        page.wait_for_selector('[data-status="invalid"]')

        row = page.locator("table.findings tbody tr")
        assert row.count() == 1
        assert row.first.inner_text().split("\t")[:3] == ["labels/train/train2.txt", "2", "train"]
        previews = page.locator(".previews img")
        assert previews.count() == 8
        for image in previews.all():  # the page reloaded itself just now: its thumbnails may still be loading
            expect(image).to_have_js_property("complete", True)
        assert page.evaluate("[...document.querySelectorAll('.previews img')].every(i => i.naturalWidth)")
        page.get_by_role("link", name=re.compile("train과 val에 같은 이미지|범위를 벗어나")).first.click()
        assert page.locator("table.findings tbody tr").count() == 1  # the kind's own tab

        page.get_by_role("button", name="문제 파일 빼기").click()
        page.wait_for_url(re.compile(r"/datasets/versions/\d+$"))
        page.wait_for_selector('[data-status="ready"]', timeout=60_000)
        assert "발견된 문제가 없습니다." in page.locator("#findings").inner_text()
        assert "v1" in page.locator(".facts").inner_text()  # made from v1


def test_the_progress_bar_follows_the_live_events_and_the_report_replaces_it(browser, stack, demo):
    """The events are recorded by hand, as a checking worker records them: the relay carries them to the page."""
    from datasets.live import record_check_progress, record_checked
    from datasets.models import Dataset, DatasetVersion

    url, server, worker = stack
    dataset = Dataset.objects.create(owner=demo["owner"], name="followed")
    version = DatasetVersion.objects.create(dataset=dataset, number=1, archive_name="followed.zip")  # no task: no check
    with browser_page(browser, url, 15_000) as page:
        sign_in(page)
        with page.expect_websocket(lambda socket: socket.url.endswith("/ws/datasets")) as opened:
            page.goto(f"/datasets/versions/{version.id}")
        frames = []
        opened.value.on("framereceived", lambda payload: frames.append(json.loads(payload)))
        assert page.locator("[data-check-progress]").evaluate("bar => bar.value") == 0

        DatasetVersion.objects.filter(pk=version.pk).update(check_progress=0.4)
        record_check_progress(version, 0.4)
        expect(page.locator("[data-check-progress]")).to_have_js_property("value", 0.4)

        DatasetVersion.objects.filter(pk=version.pk).update(status="invalid", findings=[
            {"kind": "layout", "split": "", "file": ".", "line": None, "problem": "No images."},
        ])  # fmt: skip
        version.refresh_from_db()
        record_checked(version)
        page.wait_for_selector('[data-status="invalid"]')  # the page reloaded by itself
        assert "No images." in page.locator("#findings").inner_text()
        assert page.locator("[data-check-progress]").count() == 0
        assert frames[0] == {"type": "subscribed"}
        assert {"type": "check_progress", "version_id": version.id, "progress": 0.4}.items() <= frames[1].items()
