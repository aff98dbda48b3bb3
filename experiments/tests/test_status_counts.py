"""project_status_counts (experiments per project, status, framework, task and model) stays exact whatever
writes the rows.

Triggers keep it, on SQLite and on PostgreSQL (migration 0015).
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Count

from experiments.models import ProjectStatusCount, TrainingJob
from experiments.selectors import status_counts
from projects.models import Project

pytestmark = pytest.mark.django_db


KEY = ["project_id", "status", "framework", "task_type", "model_name"]


def real_counts() -> dict:
    rows = TrainingJob.objects.order_by().values_list(*KEY).annotate(n=Count("id"))
    return {tuple(row[:-1]): row[-1] for row in rows}


def kept_counts() -> dict:
    return {tuple(getattr(r, name) for name in KEY): r.count for r in ProjectStatusCount.objects.all() if r.count}


def assert_counts_exact():
    assert kept_counts() == real_counts()


def job(project, status="pending", **fields):
    return TrainingJob(
        project=project, model_name="m", framework="timm", task_type="image_classification", status=status,
        dataset_path="/d", epochs=1, batch_size=1, learning_rate=0.1, **fields,
    )  # fmt: skip


def test_every_kind_of_write_keeps_the_counts_exact(demo):
    one, two = Project.objects.get(pk=1), Project.objects.get(pk=2)
    assert_counts_exact()

    monday = datetime(2026, 11, 23, tzinfo=UTC)
    edges = [
        monday - timedelta(microseconds=1),
        monday,
        monday + timedelta(days=6, hours=23),
        monday - timedelta(weeks=30),
    ]
    TrainingJob.objects.bulk_create(
        [job(one, s, created_at=edges[i % len(edges)]) for i, s in enumerate(["pending", "running", "completed"] * 50)]
    )
    single = job(two, "pending")
    single.save()
    assert_counts_exact()

    single.status = "running"
    single.save()
    single.save()  # no change: no move
    TrainingJob.objects.filter(project=one, status="pending").update(status="cancelled")
    TrainingJob.objects.filter(project=one, status="running")[:1].get().delete()
    TrainingJob.objects.filter(pk=single.pk).update(project=one)
    TrainingJob.objects.filter(project=one, status="completed").update(accuracy=0.5)  # touches no count
    moved = TrainingJob.objects.filter(project=one, status="cancelled").order_by("id")
    moved.filter(pk__in=moved.values("pk")[:5]).update(model_name="m2")
    moved.filter(pk__in=moved.values("pk")[:3]).update(framework="ultralytics", task_type="object_detection")
    renamed = TrainingJob.objects.filter(project=one, status="cancelled", model_name="m").first()
    renamed.model_name, renamed.status = "m3", "failed"
    renamed.save()
    TrainingJob.objects.filter(project=one, created_at=monday).update(created_at=monday - timedelta(days=3))
    TrainingJob.objects.filter(project=one, created_at=edges[2]).update(created_at=edges[2] + timedelta(hours=1))
    assert_counts_exact()

    two.delete()
    assert_counts_exact()
    assert not ProjectStatusCount.objects.filter(project_id=2).exists()


def test_a_project_reads_its_counts_in_one_query(demo, django_assert_num_queries):
    project = Project.objects.get(pk=1)
    with django_assert_num_queries(1):
        counts = status_counts(project)
    assert counts == {"pending": 0, "running": 1, "completed": 2, "failed": 1, "cancelled": 0}
    empty = Project.objects.create(owner=demo["owner"], name="empty")
    assert status_counts(empty) == dict.fromkeys(TrainingJob.Status.values, 0)
