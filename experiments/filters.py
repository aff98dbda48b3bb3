import django_filters
from django import forms
from django.db.models import F
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from experiments.models import TrainingJob, is_empty

STATUS_VALUES = ", ".join(TrainingJob.Status.values)

# ?ordering= keys and the fields they sort by; those that may be empty (pending, failed) sort last either way.
SORT_KEYS = ("accuracy", "loss", "created_at", "duration", "epochs", "model_name")
MAY_BE_EMPTY = {"accuracy", "loss", "duration"}
# The filters that the maintained counts (ProjectStatusCount) can answer, and their lookups on those rows.
COUNTED_LOOKUPS = {
    "framework": "framework",
    "task": "task_type",
    "model_name": "model_name",
    "model_name_contains": "model_name__icontains",
}


def plain_choices(choices) -> list[tuple[str, str]]:
    """Values as their own labels: a filter only validates them, and every request deep-copies its choices,
    which costs more for translatable labels than for plain strings."""
    return [(value, value) for value in choices.values]


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id: whole numbers only (django-filter's NumberFilter takes decimals)."""

    field_class = forms.IntegerField


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1})
class FractionFilter(django_filters.NumberFilter):
    """A value from 0 to 1, such as an accuracy."""

    field_class = forms.FloatField

    def __init__(self, **kwargs):
        super().__init__(min_value=0, max_value=1, **kwargs)


class StatusInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """status=running or status=running,pending."""


class ExperimentOrdering(django_filters.OrderingFilter):
    """ordering=-accuracy or ordering=model_name,-created_at: DRF's conventions.

    Experiments without a value sort last in both directions, and every
    ordering ends newest first, then by id, so that pages are stable.
    """

    def __init__(self, **kwargs):
        super().__init__(fields=SORT_KEYS, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        keys = []
        for param in value:
            field = self.param_map[param.lstrip("-")]
            if field == "duration":
                queryset = queryset.with_duration()
            if field in MAY_BE_EMPTY:
                keys.append(is_empty(field).asc())
            keys.append(F(field).desc() if param.startswith("-") else F(field).asc())
        return queryset.order_by(*keys, "-created_at", "-id")


class ExperimentFilterSet(django_filters.FilterSet):
    """The experiment filters and orderings, shared by the API and the project page.

    Each filter is labelled with its parameter's name: without a label, django-filter works one out from
    the model on every request (a third of the filter set's cost), for a form nobody renders.
    """

    status = StatusInFilter(
        label="status",
        choices=plain_choices(TrainingJob.Status),
        method="filter_status",
        help_text=f"One status or a comma-separated set: {STATUS_VALUES}.",
        error_messages={
            "invalid_choice": format_lazy(
                _("%(value)r is not a status; use one of {statuses} (comma-separate several)."), statuses=STATUS_VALUES
            ),
        },
    )
    framework = django_filters.ChoiceFilter(
        label="framework", choices=plain_choices(TrainingJob.Framework), help_text="timm or ultralytics."
    )
    task = django_filters.ChoiceFilter(
        label="task", field_name="task_type", choices=plain_choices(TrainingJob.TaskType), help_text="The task type."
    )
    model_name = django_filters.CharFilter(label="model_name", help_text="This model exactly, e.g. resnet18.")
    model_name_contains = django_filters.CharFilter(
        label="model_name_contains",
        field_name="model_name",
        lookup_expr="icontains",
        help_text="Models whose name contains this (any case).",
    )
    dataset = IdFilter(label="dataset", field_name="dataset_version", help_text="Trained on this dataset version.")
    created_after = django_filters.IsoDateTimeFilter(
        label="created_after",
        field_name="created_at",
        lookup_expr="gte",
        help_text="Created at or after this ISO 8601 date-time.",
    )
    created_before = django_filters.IsoDateTimeFilter(
        label="created_before",
        field_name="created_at",
        lookup_expr="lt",
        help_text="Created before this ISO 8601 date-time.",
    )
    accuracy_min = FractionFilter(
        label="accuracy_min", field_name="accuracy", lookup_expr="gte", help_text="Accuracy at least this (0 to 1)."
    )
    ordering = ExperimentOrdering(
        label="ordering",
        help_text=(
            f"Sort keys, comma-separated, each ascending or with - descending: {', '.join(SORT_KEYS)}. "
            "Experiments without the value sort last either way; ties end newest first. Default: -created_at."
        ),
    )

    class Meta:
        model = TrainingJob
        fields = []

    def get_form_class(self):
        """The form that validates the parameters, built once per class: django-filter builds the same class
        anew for every request, a third of the filter set's cost (the list's latency budget: docs/performance.md)."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value)

    @property
    def statuses(self) -> list[str]:
        """The statuses asked for, once validated (empty: all)."""
        return list(self.form.cleaned_data.get("status") or [])

    @property
    def count_lookups(self) -> dict | None:
        """The filters other than status as lookups on the maintained counts: {} when there are none, None when
        one of them is not among the counted columns (its rows must then be counted)."""
        lookups = {}
        for name, value in self.form.cleaned_data.items():
            if name in ("status", "ordering") or value in (None, "", []):
                continue
            if name not in COUNTED_LOOKUPS:
                return None
            lookups[COUNTED_LOOKUPS[name]] = value
        return lookups
