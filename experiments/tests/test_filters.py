import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import translation

from experiments.models import TrainingJob
from experiments.selectors import experiment_list
from projects.models import Project

pytestmark = pytest.mark.django_db

QUERIES = {
    "": [],
    "status=": [],
    "status=running": ["running"],
    "status=running,completed": ["running", "completed"],
    "status=running&status=failed": ["failed"],  # the last one given, as the CSV widget reads it
    "page=2&status=pending": ["pending"],
    "status=bogus": None,
    "status=running,bogus": None,
    "status=Running": None,
    "status=failed&status=bogus": None,
    "status=%20running": None,
}


@pytest.mark.parametrize("query, statuses", QUERIES.items())
def test_the_list_filters_by_the_statuses_the_filterset_accepts(demo, query, statuses):
    project = Project.objects.get(pk=1)
    if statuses is None:
        with pytest.raises(ValidationError) as raised:
            experiment_list(project.owner, project.id, QueryDict(query))
        assert list(raised.value.message_dict) == ["status"]
        return
    experiments = experiment_list(project.owner, project.id, QueryDict(query))
    assert experiments.statuses == statuses
    expected = TrainingJob.objects.filter(project=project)
    if statuses:
        expected = expected.filter(status__in=statuses)
    assert [job.id for job in experiments.jobs] == list(
        expected.order_by("-created_at", "-id").values_list("id", flat=True)
    )
    assert experiments.total == expected.count()


def test_a_bad_status_is_named_in_each_requests_language(demo):
    project = Project.objects.get(pk=1)
    messages = {}
    for language in ("en", "ko", "en"):
        with translation.override(language), pytest.raises(ValidationError) as raised:
            experiment_list(project.owner, project.id, QueryDict("status=bogus"))
        messages.setdefault(language, set()).add(raised.value.message_dict["status"][0])
    assert messages["en"] == {"'bogus' is not a status; use one of pending, running, completed, failed, cancelled "
                              "(comma-separate several)."}  # fmt: skip
    assert messages["ko"] != messages["en"]
