import pytest
from django.http import QueryDict
from django.utils import translation

from experiments.filters import ExperimentFilterSet, requested_statuses
from platform_site.pagination import InvalidQueryParameter

pytestmark = pytest.mark.django_db

QUERIES = [
    "", "status=", "status=running", "status=running,completed", "status=completed,running,running",
    "status=bogus", "status=running,bogus", "status=Running", "status=running&status=failed",
    "status=failed&status=bogus", "status=,", "status=%20running", "page=2&status=pending",
]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_the_statuses_asked_for_are_what_the_filterset_validates(query):
    params = QueryDict(query)
    filterset = ExperimentFilterSet(params)
    for _ in range(2):  # the second time, a valid value comes from the memo
        if filterset.is_valid():
            assert requested_statuses(params) == filterset.statuses
        else:
            with pytest.raises(InvalidQueryParameter) as raised:
                requested_statuses(params)
            assert (raised.value.param, raised.value.message) == ("status", filterset.errors["status"][0])


def test_a_bad_status_is_named_in_each_requests_language():
    messages = {}
    for language in ("en", "ko", "en"):
        with translation.override(language), pytest.raises(InvalidQueryParameter) as raised:
            requested_statuses(QueryDict("status=bogus"))
        messages.setdefault(language, set()).add(raised.value.message)
    assert messages["en"] == {"'bogus' is not a status; use one of pending, running, completed, failed, cancelled "
                              "(comma-separate several)."}  # fmt: skip
    assert messages["ko"] != messages["en"]
