from functools import lru_cache

import django_filters
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from experiments.models import TrainingJob
from platform_site.pagination import InvalidQueryParameter

STATUS_VALUES = ", ".join(TrainingJob.Status.values)


class StatusInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """status=running or status=running,pending."""


class ExperimentFilterSet(django_filters.FilterSet):
    """The experiment filters, shared by the API and the project page."""

    status = StatusInFilter(
        choices=TrainingJob.Status.choices,
        method="filter_status",
        help_text=f"One status or a comma-separated set: {STATUS_VALUES}.",
        error_messages={
            "invalid_choice": format_lazy(
                _("%(value)r is not a status; use one of {statuses} (comma-separate several)."), statuses=STATUS_VALUES
            ),
        },
    )

    class Meta:
        model = TrainingJob
        fields = ["status"]

    def get_form_class(self):
        # Nothing here depends on the request: build the form class once, not on every list request.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value or [])

    @property
    def statuses(self) -> list[str]:
        """The statuses asked for after validation (empty = all)."""
        return list(self.form.cleaned_data.get("status") or [])


def requested_statuses(params) -> list[str]:
    """The statuses a query string asks for (empty: all), as ExperimentFilterSet validates them.

    Raises InvalidQueryParameter naming the problem, as the page parameters do.
    """
    raw = params.get("status")  # what the filter's CSV widget reads: the last one given
    statuses = _valid_statuses(raw)
    if statuses is None:
        filterset = ExperimentFilterSet({"status": raw})
        filterset.is_valid()
        field, messages = next(iter(filterset.errors.items()))
        raise InvalidQueryParameter(field, messages[0])
    return list(statuses)


@lru_cache(maxsize=256)
def _valid_statuses(raw: str | None) -> tuple[str, ...] | None:
    # Remembered per value (valid ones only: error messages are in the request's
    # language). A FilterSet deep-copies its filters and builds a form on every
    # use: a tenth of the instructions of a list request served from the cache.
    filterset = ExperimentFilterSet({} if raw is None else {"status": raw})
    return tuple(filterset.statuses) if filterset.is_valid() else None
