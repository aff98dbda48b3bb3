"""Choosing between runs: the compare API and page, the list's selection and its best-epoch column."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments.models import TrainingMetric
from experiments.tests.test_api_create_cancel import new_job

pytestmark = pytest.mark.django_db

COMPARE = "/api/v1/projects/1/experiments/compare"


def trained(accuracies, **fields):
    """A completed experiment with one metrics row per epoch."""
    job = new_job("completed", accuracy=accuracies[-1], loss=0.5, **fields)
    TrainingMetric.objects.bulk_create(
        TrainingMetric(job=job, epoch=i + 1, accuracy=a, val_loss=1 - a, train_loss=1 - a, duration_seconds=1.0)
        for i, a in enumerate(accuracies)
    )
    return job


@pytest.fixture
def three(demo):
    return [
        trained([0.5, 0.8, 0.7], learning_rate=0.01),
        trained([0.6, 0.9, 0.9], learning_rate=0.001, name="low lr"),  # equal best twice: the earlier epoch
        new_job("running", learning_rate=0.01),  # no epochs yet
    ]


def test_the_api_compares_in_the_order_asked_with_best_epochs_and_the_differing_parameters(owner_api, three):
    a, b, live = three
    response = owner_api.get(COMPARE, {"ids": f"{b.id},{a.id},{live.id},{b.id}"})
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body["experiments"]] == [b.id, a.id, live.id]
    assert [(e["best_epoch"], e["best_accuracy"]) for e in body["experiments"]] == [(2, 0.9), (2, 0.8), (None, None)]
    assert [len(e["metrics"]) for e in body["experiments"]] == [3, 3, 0]
    assert body["experiments"][0]["name"] == "low lr" and body["experiments"][0]["dataset_label"] == "/d"
    assert body["differing_parameters"] == ["learning_rate"]


@pytest.mark.parametrize("ids", ["{a},999999", "{a},{foreign}", "{a},abc", "{a},-1"])
def test_a_missing_foreign_or_malformed_id_answers_as_a_missing_experiment(owner_api, three, ids):
    foreign = new_job("completed")
    foreign.project_id = 2
    foreign.save()
    response = owner_api.get(COMPARE, {"ids": ids.format(a=three[0].id, foreign=foreign.id)})
    assert (response.status_code, response.json()) == (404, {"detail": "Experiment not found"})


@pytest.mark.parametrize("ids", ["", ",", ",".join(str(i) for i in range(1, 22))])
def test_no_ids_or_too_many_is_a_400_naming_ids(owner_api, three, ids):
    response = owner_api.get(COMPARE, {"ids": ids})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["ids"]


def test_only_the_owner_compares(other_api, anon_api, three):
    ids = ",".join(str(job.id) for job in three)
    assert other_api.get(COMPARE, {"ids": ids}).status_code == 404
    assert anon_api.get(COMPARE, {"ids": ids}).status_code == 401


def test_the_compare_page_overlays_the_curves_and_marks_what_differs(client, demo, three):
    a, b, live = three
    client.force_login(demo["owner"])
    ids = f"{a.id},{b.id},{live.id}"
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/projects/1/compare?ids={ids}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    accuracy_chart = html.split('data-chart="accuracy"')[1].split("</figure>")[0]
    assert [int(i) for i in re.findall(r'class="series" data-experiment-id="(\d+)"', accuracy_chart)] == [
        a.id,
        b.id,
        live.id,
    ]
    assert accuracy_chart.count("<circle") == 6  # every epoch of the two trained runs, each with its hover text
    assert "low lr · epoch 2: 90.0%" in accuracy_chart
    differing = [label.strip() for label in re.findall(r'<tr class="differs"><th scope="row">([^<]+)', html)]
    assert differing == ["Learning rate"]
    assert '90.0% <span class="muted">(epoch 2)</span>' in html
    assert f'data-live-experiments="{a.id} {b.id} {live.id} "' in html
    # session, user, project, the experiments, their metrics, their datasets: no query per experiment
    assert len(captured) <= 7, [q["sql"] for q in captured]
    assert client.get(f"/projects/1/compare/section?ids={ids}").status_code == 200
    assert client.get("/projects/1/compare?ids=", HTTP_ACCEPT_LANGUAGE="en").status_code == 400
    assert client.get(f"/projects/1/compare?ids={a.id},424242").status_code == 404


def test_the_list_keeps_a_selection_across_pages_and_offers_to_compare_it(client, demo, three):
    a, b, live = three
    client.force_login(demo["owner"])
    html = client.get(f"/projects/1?per_page=2&selected={a.id}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'href="/projects/1/compare?ids={a.id}">Compare selected (1)' in html
    assert f"selected={a.id}" in html.split('rel="next"')[0].rsplit("<a ", 1)[1]  # the next page keeps it
    row = html.split(f'id="experiment-{live.id}"')[1].split("</tr>")[0]
    assert f'href="?per_page=2&amp;selected={a.id}%2C{live.id}"' in row and 'aria-checked="false"' in row
    selected_row = client.get(f"/projects/1?page=2&per_page=2&selected={a.id}").content.decode()
    selected_row = selected_row.split(f'id="experiment-{a.id}"')[1].split("</tr>")[0]
    assert 'aria-checked="true"' in selected_row and 'href="?page=2&amp;per_page=2"' in selected_row

    full = ",".join(str(i) for i in range(1000, 1020))
    row = client.get(f"/projects/1?selected={full}").content.decode().split(f'id="experiment-{a.id}"')[1]
    assert 'aria-disabled="true"' in row.split("</tr>")[0]  # twenty chosen: no more


def test_the_accuracy_column_shows_the_best_epoch_on_request(client, demo, three):
    a, b, live = three
    client.force_login(demo["owner"])
    last = client.get("/projects/1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    best = client.get("/projects/1?show=best", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    cell = lambda html, job: html.split(f'id="experiment-{job.id}"')[1].split('class="accuracy num">')[1].split("<")[0]  # noqa: E731
    assert (cell(last, a), cell(best, a)) == ("70.0%", "80.0% ")
    assert "epoch 2" in best.split(f'id="experiment-{a.id}"')[1].split("</tr>")[0]
    assert 'aria-pressed="true"' in best and 'aria-pressed="false"' in last
    row = client.get(f"/projects/1/experiments/{a.id}/row?show=best", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "80.0%" in row  # the live row keeps the page's choice
