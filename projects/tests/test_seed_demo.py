import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from experiments.models import TrainingJob
from projects.models import Project

pytestmark = pytest.mark.django_db


def seed(*args):
    call_command("seed_demo", *args, stdout=io.StringIO())


def test_it_is_idempotent_and_keeps_the_spec_ids(settings):
    settings.DEBUG = True
    seed()
    first = (Project.objects.count(), TrainingJob.objects.count())
    seed()
    assert (Project.objects.count(), TrainingJob.objects.count()) == first
    assert list(TrainingJob.objects.filter(project_id=1).order_by("id").values_list("id", flat=True)) == [1, 2, 3, 5]
    assert TrainingJob.objects.get(pk=4).project.owner.username == "demo2"
    large = Project.objects.get(name="Model zoo sweep")
    assert large.jobs.count() == 240
    assert set(large.jobs.values_list("status", flat=True)) == set(TrainingJob.Status.values)


def test_new_rows_get_ids_after_the_seeded_ones(settings):
    settings.DEBUG = True
    seed("--no-large")
    project = Project.objects.create(owner=Project.objects.get(pk=1).owner, name="fresh")
    assert project.pk > 2


def test_it_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=1 or --force"):
        seed()
    assert not Project.objects.exists()
    seed("--force", "--no-large")
    assert Project.objects.filter(pk=1, name="Dog vs Cat").exists()
