"""Choosing between runs in a real Chromium, against the real server: select three experiments on the list
(one of them running), compare them, and watch the running one's curve grow live."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import browser_page
from experiments.lifecycle import experiment_record_epoch
from experiments.tests.test_api_create_cancel import new_job
from experiments.tests.test_browser_training import sign_in
from experiments.tests.test_compare import trained

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_three_runs_are_selected_on_the_list_and_compared_with_the_live_one_updating(browser, stack):
    url, server, worker = stack
    a = trained([0.5, 0.8, 0.7], learning_rate=0.01, name="baseline")
    b = trained([0.6, 0.9, 0.9], learning_rate=0.001)
    live = new_job("running", learning_rate=0.01, worker_id="elsewhere", heartbeat_at=timezone.now())
    with browser_page(browser, url, 15_000) as page:
        sign_in(page)
        page.goto("/projects/1")
        for job in (a, b, live):
            # On connecting, the live script refetches the section and swaps it in; a click on a row being
            # swapped out is lost, so let that refetch land first.
            page.wait_for_load_state("networkidle")
            page.locator(f"#experiment-{job.id} .select-box").click()
            expect(page.locator(f"#experiment-{job.id} .select-box")).to_have_attribute("aria-checked", "true")
        page.get_by_role("link", name="선택한 실험 비교 (3)").click()
        page.wait_for_url(re.compile(r"/projects/1/compare\?ids="))
        page.wait_for_selector('[data-live-state="connected"]')

        assert page.locator(".legend li").count() == 3
        accuracy = page.locator('[data-chart="accuracy"]')
        assert accuracy.locator(".series").count() == 3
        assert accuracy.locator(f'.series[data-experiment-id="{live.id}"] circle').count() == 0
        assert [" ".join(text.split()) for text in page.locator("tr.differs th").all_inner_texts()] == ["학습률 ≠ 다름"]
        hover = accuracy.locator(f'.series[data-experiment-id="{b.id}"] circle title').nth(1).text_content()
        assert hover == f"resnet18 #{b.id} · 에폭 2: 90.0%"

        experiment_record_epoch(
            job=live, epoch=1, train_loss=0.9, val_loss=0.8, accuracy=0.42, duration_seconds=1.0
        )  # what its worker would do: the relay carries the event to the page, which redraws
        expect(accuracy.locator(f'.series[data-experiment-id="{live.id}"] circle')).to_have_count(1)
        live_point = page.locator(f'[data-chart="accuracy"] .series[data-experiment-id="{live.id}"] circle title')
        assert live_point.text_content() == f"resnet18 #{live.id} · 에폭 1: 42.0%"
