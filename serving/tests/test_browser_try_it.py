"""Trying a trained model in a real Chromium, against the real server, a training worker and an inference
worker: a validation image and a dropped image for a classifier, a validation image for a detector; the
answer arrives over the project's WebSocket and the page shows it."""

import io

import pytest
from PIL import Image

from conftest import browser_page
from experiments.tests.processes import wait_for
from experiments.tests.test_browser_training import sign_in, wait_until_live
from experiments.tests.test_training import create, finished

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def trained(owner_api, worker, **fields):
    job = create(owner_api, **fields)
    job = wait_for(lambda: finished(job.id), 240, "the training", worker)
    assert job.status == "completed", job.error_message
    return job


@pytest.mark.once
def test_a_user_tries_a_classifier_and_a_detector_on_images(browser, stack, owner_api, processes):
    url, server, worker = stack
    processes("worker-inference", command="run_inference_worker")
    classifier = trained(owner_api, worker, epochs=1)
    detector = trained(owner_api, worker, framework="ultralytics", model_name="yolo11n", task_type="object_detection",
                       dataset_path="shapes-det", epochs=1, learning_rate=0.01, image_size=64)  # fmt: skip

    with browser_page(browser, url, 60_000) as page:
        sign_in(page)
        page.goto(f"/projects/1/experiments/{classifier.id}")
        wait_until_live(page, stack)
        page.get_by_role("button", name="검증 이미지로 해 보기").click()
        page.wait_for_selector('.prediction[data-status="done"]')  # pushed over the WebSocket, then fetched
        names = page.locator(".top-classes .class-name").all_inner_texts()
        assert sorted(names) == ["circle", "square"]
        assert page.locator(".prediction-image").evaluate("image => image.naturalWidth") > 0

        first = page.locator(".prediction").get_attribute("data-prediction")
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), (240, 240, 240)).save(buffer, format="PNG")
        page.set_input_files("#try-image", {"name": "mine.png", "mimeType": "image/png", "buffer": buffer.getvalue()})
        page.get_by_role("button", name="예측", exact=True).click()
        page.wait_for_selector(f'.prediction[data-status="done"]:not([data-prediction="{first}"])')
        assert page.locator(".top-classes li").count() == 2

        page.goto(f"/projects/1/experiments/{detector.id}")
        wait_until_live(page, stack)
        page.get_by_role("button", name="검증 이미지로 해 보기").click()
        page.wait_for_selector('.prediction[data-status="done"]')
        assert (
            page.locator(".prediction").inner_text().startswith("")
            and "찾은 객체" in page.locator(".prediction").inner_text()
        )
        assert page.locator(".prediction-image").evaluate("image => image.naturalWidth") == 128  # drawn on
