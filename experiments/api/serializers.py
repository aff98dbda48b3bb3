from django.utils import timezone
from rest_framework import serializers

from experiments.models import TrainingJob, TrainingMetric

SPEC_FIELDS = [
    "id",
    "project_id",
    "model_name",
    "framework",
    "task_type",
    "status",
    "dataset_path",
    "epochs",
    "batch_size",
    "learning_rate",
    "accuracy",
    "loss",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "error_message",
]


DATETIME_FIELDS = ("created_at", "updated_at", "started_at", "completed_at")


def iso_datetime(value, zone=None) -> str | None:
    """What DRF's DateTimeField renders: ISO 8601 in the current time zone, "Z" for UTC."""
    if value is None:
        return None
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ExperimentSerializer(serializers.ModelSerializer):
    """Every column of training_jobs in SPEC.md, under its column name (the list's shape)."""

    project_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingJob
        fields = SPEC_FIELDS
        read_only_fields = fields

    def to_representation(self, job):
        # The list is the hot path: read the columns directly (from a model or
        # from a .values() row) instead of going through DRF's field machinery,
        # which cost more than the queries did. The declared fields above still
        # describe it (OpenAPI), and a test checks that both give the same output.
        if isinstance(job, dict):
            data = {name: job[name] for name in SPEC_FIELDS}
        else:
            data = {name: getattr(job, name) for name in SPEC_FIELDS}
        zone = timezone.get_current_timezone()
        for name in DATETIME_FIELDS:
            data[name] = iso_datetime(data[name], zone)
        return data


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingMetric
        fields = ["epoch", "train_loss", "val_loss", "accuracy", "duration_seconds"]
        read_only_fields = fields


class ExperimentDetailSerializer(ExperimentSerializer):
    """One experiment: the list's fields, its progress and its per-epoch metrics."""

    # The declared fields, not the list's fast path: this shape has more than SPEC's columns.
    to_representation = serializers.ModelSerializer.to_representation

    progress = serializers.FloatField(read_only=True, help_text="Fraction of epochs done, 0 to 1.")
    cancel_requested = serializers.SerializerMethodField()
    metrics = MetricSerializer(many=True, read_only=True)

    class Meta(ExperimentSerializer.Meta):
        fields = [*SPEC_FIELDS, "image_size", "current_epoch", "progress", "cancel_requested", "metrics"]
        read_only_fields = fields

    def get_cancel_requested(self, job) -> bool:
        return job.cancel_requested_at is not None


class ExperimentCreateSerializer(serializers.Serializer):
    """Types only; what the values must be is checked by services.validate_new_experiment."""

    framework = serializers.CharField()
    model_name = serializers.CharField(max_length=200)
    task_type = serializers.CharField()
    dataset_path = serializers.CharField(max_length=500)
    epochs = serializers.IntegerField()
    batch_size = serializers.IntegerField()
    learning_rate = serializers.FloatField()
    image_size = serializers.IntegerField(required=False, allow_null=True, default=None)
