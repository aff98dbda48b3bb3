"""Every page passes axe-core's WCAG 2 A and AA rules in a real Chromium, with no violations.

axe-core comes bundled in axe-playwright-python; it runs in the page as it is
served (the Korean interface, our Content-Security-Policy on).
"""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from conftest import browser_page
from datasets.tests.test_doctor import CASES, checked
from experiments import run_files
from experiments.models import TrainingJob
from projects.models import Project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG2_A_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}, "resultTypes": ["violations"]}


def violations(page) -> str:
    results = Axe().run(page, options=WCAG2_A_AA)
    return "" if results.violations_count == 0 else results.generate_report()


@pytest.fixture
def pages(live_server, demo_versions, owner_api, tmp_path):
    """The path of every kind of page, with data on it."""
    call_command("seed_demo", "--force", stdout=io.StringIO())
    problem = checked(owner_api, CASES["class id out of range"][0], name="with findings")
    big = Project.objects.get(name="Model zoo sweep")
    completed = TrainingJob.objects.filter(project_id=1, status="completed").order_by("id")
    shown = ",".join(str(job.id) for job in TrainingJob.objects.filter(project_id=1).order_by("id")[:3])
    version = demo_versions["shapes-det"]
    for name, data in (("best.pt", b"weights"), ("train.log", b"Experiment 1 epoch 1/5: accuracy 0.5\n")):
        (tmp_path / name).write_bytes(data)
        run_files.store(completed.first(), name, tmp_path / name)  # the downloads and the log on its page
    return [
        "/dashboard",
        "/projects/1",
        f"/projects/1?ordering=-accuracy&show=best&selected={shown}",
        f"/projects/{big.id}?page=2&model_name_contains=resnet",
        f"/projects/1/experiments/{completed.first().id}",
        "/projects/1/experiments/new",
        f"/projects/1/compare?ids={shown}",
        "/datasets/",
        f"/datasets/{version.dataset_id}",
        f"/datasets/versions/{version.id}",
        f"/datasets/versions/{problem.id}",
        "/projects/1?status=bogus",  # the 400 page
        "/projects/424242",  # the 404 page
    ]


def test_every_page_has_no_wcag_violations(browser, live_server, pages):
    with browser_page(browser, live_server.url, 15_000) as page:
        page.goto("/")
        assert not violations(page), "the sign-in page"
        page.fill("#id_username", "demo")
        page.fill("#id_password", "demo1234")
        page.click("button[type=submit]")
        page.wait_for_url("**/dashboard")
        found = {}
        for path in pages:
            page.goto(path)
            page.wait_for_load_state("load")
            if report := violations(page):
                found[path] = report
        assert not found, "\n\n".join(f"{path}:\n{report}" for path, report in found.items())


def test_the_check_finds_a_violation(browser, live_server, pages):
    """The rules really run: an image without alternative text is reported."""
    with browser_page(browser, live_server.url, 15_000) as page:
        page.goto("/")
        page.evaluate("document.body.appendChild(document.createElement('img'))")
        assert "image-alt" in violations(page)
