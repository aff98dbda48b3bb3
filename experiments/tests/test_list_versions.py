"""A project's experiment list version changes with every write to what the list shows (triggers, both databases).

The cached pages of the list are keyed on it (Project.experiments_cache_key):
a change that left it as it was would let a stale page be served.
"""

from datetime import timedelta

import pytest
from django.db import connection

from experiments.models import ExperimentListVersion, TrainingJob, TrainingMetric
from projects.models import Project

pytestmark = pytest.mark.django_db

# A new value for every column of training_jobs that a page or the API shows. A column added
# to the model must be added here, and to the triggers (migration 0006), or the test below fails.
NEW_VALUES = {
    "project": 2,
    "model_name": "renamed",
    "framework": "timm",
    "task_type": "object_detection",
    "status": "failed",
    "dataset_path": "/elsewhere",
    "epochs": 99,
    "batch_size": 99,
    "learning_rate": 0.5,
    "accuracy": 0.5,
    "loss": 9.5,
    "created_at": timedelta(seconds=1),
    "updated_at": timedelta(seconds=1),
    "started_at": timedelta(seconds=1),
    "completed_at": timedelta(seconds=1),
    "error_message": "something else",
    "image_size": 64,
    "current_epoch": 7,
    "cancel_requested_at": timedelta(seconds=1),
}
NOT_SHOWN = {"id", "heartbeat_at", "worker_id"}


def version(project_id: int):
    return ExperimentListVersion.objects.filter(project_id=project_id).values_list("number", flat=True).first()


def new_job(project_id=1, **fields):
    defaults = dict(
        model_name="m", framework="timm", task_type="image_classification", dataset_path="/d",
        epochs=3, batch_size=1, learning_rate=0.1,
    )  # fmt: skip
    return TrainingJob(project_id=project_id, **{**defaults, **fields})


def test_every_shown_column_is_covered_here():
    columns = {field.name for field in TrainingJob._meta.concrete_fields}
    assert columns - NOT_SHOWN == set(NEW_VALUES)


@pytest.mark.parametrize("name", sorted(NEW_VALUES))
def test_changing_any_shown_column_renews_the_version(demo, name):
    job = TrainingJob.objects.get(pk=5)  # running, in project 1
    before = version(1), version(2)
    value = NEW_VALUES[name]
    if isinstance(value, timedelta):
        value = (getattr(job, name) or job.created_at) + value
    TrainingJob.objects.filter(pk=job.pk).update(**{name: value})
    assert version(1) != before[0]
    if name == "project":  # it left project 1 for project 2: both lists changed
        assert version(2) != before[1]
    else:
        assert version(2) == before[1]


def test_an_unchanged_save_or_a_heartbeat_leaves_the_version(demo):
    job = TrainingJob.objects.get(pk=5)
    before = version(1)
    TrainingJob.objects.filter(pk=job.pk).update(heartbeat_at=job.created_at + timedelta(hours=1))
    TrainingJob.objects.filter(pk=job.pk).update(worker_id="another-worker")
    TrainingJob.objects.filter(pk=job.pk).update(model_name=job.model_name)
    assert version(1) == before


def test_adding_and_deleting_experiments_renews_the_version(demo):
    before = version(1)
    job = new_job()
    job.save()
    after_create = version(1)
    TrainingJob.objects.bulk_create([new_job(), new_job()])
    after_bulk = version(1)
    job.delete()
    after_delete = version(1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM training_jobs WHERE model_name = 'm'")
    assert len({before, after_create, after_bulk, after_delete, version(1)}) == 5
    assert version(2) is not None


def test_metrics_renew_the_version_of_their_projects_list(demo):
    job = TrainingJob.objects.get(pk=5)
    seen = [version(1)]
    metric = TrainingMetric.objects.create(job=job, epoch=1, accuracy=0.5, duration_seconds=1)
    seen.append(version(1))
    TrainingMetric.objects.filter(pk=metric.pk).update(accuracy=0.6)
    seen.append(version(1))
    metric.delete()
    seen.append(version(1))
    assert len(set(seen)) == 4


def test_a_project_gets_its_version_with_its_first_experiment_and_loses_it_with_itself(demo):
    project = Project.objects.create(name="new", owner=demo["owner"])
    assert version(project.pk) is None
    job = new_job(project.pk)
    job.save()
    TrainingMetric.objects.create(job=job, epoch=1, accuracy=0.5, duration_seconds=1)
    assert version(project.pk) is not None
    project.delete()  # its experiments, metrics and version go with it (no trigger brings the row back)
    assert not ExperimentListVersion.objects.filter(project_id=project.pk).exists()
    assert not TrainingJob.objects.filter(pk=job.pk).exists()


def test_the_version_comes_with_the_project_in_its_one_query(demo, django_assert_num_queries):
    with django_assert_num_queries(1):
        project = Project.objects.get_owned(1, owner=demo["owner"])
        key = project.experiments_cache_key("api", 1)
    assert key == f"experiments:1:{version(1)}:api:1"
    assert Project.objects.get(pk=1).experiments_cache_key("api", 1) == key  # read with a query of its own
