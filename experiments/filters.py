import django_filters
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from experiments.models import TrainingJob

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

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)

    @property
    def statuses(self) -> list[str]:
        """The statuses asked for, once validated (empty: all)."""
        return list(self.form.cleaned_data.get("status") or [])
