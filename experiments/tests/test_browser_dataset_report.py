"""A user uploads a data set with problems, reads the doctor's report in a real Chromium, and fixes it in one click,
against the real server and a real worker."""

import re

import pytest

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
        page.get_by_role("link", name="v1").click()
        page.wait_for_selector('[data-status="invalid"]', timeout=60_000)  # the worker's check; the page refreshes

        row = page.locator("table.findings tbody tr")
        assert row.count() == 1
        assert row.first.inner_text().split("\t")[:3] == ["labels/train/train2.txt", "2", "train"]
        previews = page.locator(".previews img")
        assert previews.count() == 8
        assert page.evaluate("[...document.querySelectorAll('.previews img')].every(i => i.complete && i.naturalWidth)")
        page.get_by_role("link", name=re.compile("train과 val에 같은 이미지|범위를 벗어나")).first.click()
        assert page.locator("table.findings tbody tr").count() == 1  # the kind's own tab

        page.get_by_role("button", name="문제 파일 빼기").click()
        page.wait_for_url(re.compile(r"/datasets/versions/\d+$"))
        page.wait_for_selector('[data-status="ready"]', timeout=60_000)
        assert "발견된 문제가 없습니다." in page.locator("#findings").inner_text()
        assert "v1" in page.locator(".facts").inner_text()  # made from v1
