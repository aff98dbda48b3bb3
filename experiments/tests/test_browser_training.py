"""A user starts a training from the form and watches it live in a real Chromium,
against the real server (uvicorn) and a real worker."""

import hashlib
import re

import pytest

from conftest import browser_page
from datasets.tests.test_datasets import zip_folder
from experiments.models import RunFile
from experiments.tests.test_training import create

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
    assert page.locator("[data-live-indicator]").inner_text() == "● 실시간"  # in the page's language


def sign_in(page) -> None:
    page.goto("/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")


def choose_archive(page, name: str, archive: bytes) -> None:
    """Fills in the Datasets page's upload form."""
    page.goto("/datasets/")
    page.fill("#id_name", name)
    page.set_input_files("#id_file", {"name": f"{name}.zip", "mimeType": "application/zip", "buffer": archive})


@pytest.mark.once
def test_a_user_uploads_a_dataset_trains_on_it_and_watches_it_finish(page, stack, demo_datasets):
    url, server, worker = stack
    sign_in(page)
    choose_archive(page, "shapes", zip_folder(demo_datasets / "shapes-cls"))
    # The page moves on once the upload is done: keep what the progress bar showed across that.
    page.evaluate("""() => {
        const bar = document.getElementById("upload-progress");
        new MutationObserver(() => sessionStorage.setItem("progress", bar.value))
            .observe(bar, {attributes: true});
    }""")
    page.get_by_role("button", name="업로드").click()
    page.wait_for_url(re.compile(r"/datasets/\d+$"))
    assert page.evaluate("sessionStorage.getItem('progress')") == "100"
    page.wait_for_selector('[data-status="ready"]', timeout=60_000)  # checked by the worker; the page refreshes
    assert "train: 20, val: 4" in page.locator(".facts").inner_text()

    page.goto("/projects/1")
    wait_until_live(page, stack)
    page.get_by_role("link", name="+ 새 실험").click()
    page.fill("#id_model_name", "resnet18")
    page.select_option("#id_framework", "timm")
    page.select_option("#id_task_type", "image_classification")
    page.select_option("#id_dataset", label="shapes v1")
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
        # Read in one step: the bar may go between a count() and a get_attribute() when the run ends.
        value = page.evaluate(
            "document.querySelector('table.experiments tbody tr:first-child progress.epoch-progress')?.value"
        )
        if value is not None:
            seen_progress.add(int(value))
        if "완료" in badge:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"never completed; saw {badges}\n{worker.tail()}")
    assert {"🟡 실행 중", "✅ 완료"} <= badges
    assert len(seen_progress) >= 2, seen_progress  # the bar moved while it ran
    assert row.locator("td.accuracy").inner_text().endswith("%")
    assert row.locator("progress").count() == 0


@pytest.mark.once
def test_the_experiment_page_tails_the_log_while_it_trains_then_hands_over_the_model(page, stack, owner_api):
    url, server, worker = stack
    sign_in(page)
    job = create(owner_api, epochs=50, model_name="resnet10t")
    page.goto(f"/projects/1/experiments/{job.id}")
    wait_until_live(page, stack)
    # The lines arrive while it runs: stored by the worker every 2 s, announced over the WebSocket.
    page.wait_for_selector("#training-log:has-text('epoch 2/50')", timeout=60_000)
    assert page.locator("#experiment-panel").get_attribute("data-status") == "running"
    page.wait_for_selector('#experiment-panel[data-status="completed"]', timeout=120_000)
    assert "epoch 50/50" in page.locator("#training-log").inner_text()

    best = RunFile.objects.get(job=job, name="best.pt")
    downloads = page.locator(".downloads")
    assert best.sha256 in downloads.inner_text()
    with page.expect_download() as download:
        downloads.get_by_role("link", name="최고 가중치").click()
    assert download.value.suggested_filename == f"experiment-{job.id}-best.pt"
    assert hashlib.sha256(open(download.value.path(), "rb").read()).hexdigest() == best.sha256
