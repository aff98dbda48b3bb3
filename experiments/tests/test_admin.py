from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from experiments.models import TrainingJob
from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, demo):
    operator = get_user_model().objects.create_superuser("operator", "op@example.com", "pw")
    client.force_login(operator)
    return client


def add_jobs_in_new_projects(count):
    """Jobs spread over many projects and owners, so an N+1 would show."""
    for i in range(count):
        owner = get_user_model().objects.create_user(f"user{i}")
        project = Project.objects.create(owner=owner, name=f"project {i}")
        TrainingJob.objects.create(
            project=project, model_name=f"model{i}", framework="timm", task_type="image_classification",
            status="completed", accuracy=0.5, dataset_path="/d", epochs=1, batch_size=1, learning_rate=0.1,
            created_at=project.created_at - timedelta(days=i),
        )  # fmt: skip


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_job_list_shows_the_columns_operators_need(operator_client):
    html = operator_client.get("/admin/experiments/trainingjob/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ["yolo11n-seg", "Dog vs Cat", "demo", "ultralytics", "segmentation", "badge-yellow", "89.0%", "92.0%"]:
        assert text in html
    # filters and the date hierarchy
    assert "?status__exact=failed" in html and "?framework__exact=timm" in html
    assert "?task_type__exact=object_detection" in html and "created_at__year=2024" in html


def test_the_job_list_searches_model_project_and_owner(operator_client):
    url = "/admin/experiments/trainingjob/?q="
    assert "resnet50" in operator_client.get(url + "resnet").content.decode()
    assert "yolov8n" in operator_client.get(url + "Street").content.decode()
    assert "yolov8n" in operator_client.get(url + "demo2").content.decode()
    assert "resnet50" not in operator_client.get(url + "demo2").content.decode()


def test_the_job_list_has_no_n_plus_one(operator_client):
    url = "/admin/experiments/trainingjob/"
    before = queries(operator_client, url)
    add_jobs_in_new_projects(30)
    assert queries(operator_client, url) == before


def test_the_project_list_has_counts_and_no_n_plus_one(operator_client):
    url = "/admin/projects/project/"
    html = operator_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dog vs Cat" in html and "Completed 2" in html and "Failed 1" in html
    before = queries(operator_client, url)
    add_jobs_in_new_projects(30)
    assert queries(operator_client, url) == before


def test_the_project_page_inlines_its_experiments(operator_client):
    html = operator_client.get("/admin/projects/project/1/change/").content.decode()
    for model in ["efficientnetv2_s", "resnet50", "yolo11n", "yolo11n-seg"]:
        assert model in html
    assert "yolov8n" not in html


def test_a_large_project_inlines_only_its_newest_experiments_and_links_to_all(operator_client, demo):
    project = Project.objects.get(pk=1)
    for i in range(30):
        TrainingJob.objects.create(
            project=project, model_name=f"bulk-model-{i:02}", framework="timm", task_type="image_classification",
            dataset_path="/d", epochs=1, batch_size=1, learning_rate=0.1,
        )  # fmt: skip
    response = operator_client.get("/admin/projects/project/1/change/")
    html = response.content.decode()
    assert html.count('class="field-model_name"') == 20
    assert "bulk-model-29" in html and "efficientnetv2_s" not in html  # the oldest are not inlined
    assert '/admin/experiments/trainingjob/?project__id__exact=1">34</a>' in html
    saved = operator_client.post(
        "/admin/projects/project/1/change/", {**form_data(response), "name": "Dog vs Cat (renamed)"}
    )
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert Project.objects.get(pk=1).name == "Dog vs Cat (renamed)" and project.jobs.count() == 34


def form_data(response) -> dict:
    """The values the admin's change form was rendered with, as a browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        widget, value = form.fields[name].widget, form[name].value()
        if hasattr(widget, "decompress"):  # a date and a time input for created_at
            data.update({f"{name}_{i}": part for i, part in enumerate(widget.decompress(value))})
        else:
            data[name] = value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({f"{management.prefix}-{name}": management[name].value() for name in management.fields})
        for inline_form in formset.formset.forms:
            data.update({f"{inline_form.prefix}-{name}": inline_form[name].value() for name in inline_form.fields})
    return {key: value for key, value in data.items() if value is not None}


def test_regular_users_cannot_open_the_admin(client, demo):
    client.force_login(demo["owner"])
    assert client.get("/admin/experiments/trainingjob/").status_code == 302


def test_operators_see_the_metrics_of_an_experiment(operator_client):
    TrainingJob.objects.get(pk=1).metrics.create(
        epoch=7, train_loss=0.3, val_loss=0.25, accuracy=0.91, duration_seconds=4
    )
    html = operator_client.get("/admin/experiments/trainingjob/1/change/").content.decode()
    assert "0.91" in html and "0.25" in html


def test_operators_can_cancel_from_the_list(operator_client):
    pending = TrainingJob.objects.create(
        project_id=1, model_name="resnet18", framework="timm", task_type="image_classification",
        dataset_path="/d", epochs=3, batch_size=2, learning_rate=0.01,
    )  # fmt: skip
    response = operator_client.post(
        "/admin/experiments/trainingjob/",
        {"action": "cancel_experiments", "_selected_action": [pending.id, 1]},
        follow=True,
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert (pending.status, pending.error_message) == ("cancelled", "Cancelled by user")
    assert TrainingJob.objects.get(pk=1).status == "completed"  # finished: warned, left alone
