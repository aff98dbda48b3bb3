"""The list queries are served by their indexes, with no sort step, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict

from experiments.models import TrainingJob
from experiments.selectors import experiment_list
from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture
def realistic_project(demo):
    """A few thousand experiments, mostly completed, a few failed; statistics gathered."""
    project = Project.objects.get(pk=1)
    TrainingJob.objects.bulk_create(
        TrainingJob(
            project=project, model_name="m", framework="timm", task_type="image_classification",
            status="failed" if i % 50 == 0 else "completed", dataset_path="/d", epochs=1, batch_size=1,
            learning_rate=0.1, created_at=project.created_at + timedelta(minutes=i),
            accuracy=None if i % 50 == 0 else (i % 97) / 100,
        )
        for i in range(5000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE training_jobs")
    return project


def plan_of(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Even at a few thousand rows a sequential scan may look cheap; ask
            # which index serves the query as written, and whether it needs a sort.
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


def page_query(project, status=None):
    jobs = TrainingJob.objects.for_project(project)
    if status:
        jobs = jobs.with_status([status])
    return jobs.newest_first()[:20]


def test_the_first_page_uses_the_project_created_index(realistic_project):
    plan = plan_of(page_query(realistic_project))
    assert "job_project_created_idx" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


def test_the_status_page_uses_the_project_status_created_index(realistic_project):
    plan = plan_of(page_query(realistic_project, status="failed"))
    assert "job_project_status_created_idx" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


@pytest.mark.parametrize("query", ["ordering=-accuracy", "ordering=-accuracy&status=completed"])
def test_the_most_accurate_first_uses_the_project_accuracy_index(realistic_project, query):
    listed = experiment_list(realistic_project.owner, realistic_project.id, QueryDict(query))
    plan = plan_of(listed.jobs[:20])
    assert "job_project_accuracy_idx" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan
