from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from experiments.models import RunFile, TrainingJob, TrainingMetric
from platform_site.serializer_fields import TextField

# The fields of an experiment in the list: the columns of training_jobs in docs/api.md.
LIST_FIELDS = [
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
    "name",
    "note",
]


class ExperimentRows(serializers.ListSerializer):
    """A page of the list, row by row: the values ExperimentSerializer gives, without its field objects (one per
    column and row, 380 on a page of 20: a third of the list's time above a plain request).
    test_api_experiments checks that every row equals ExperimentSerializer's own, in two time zones."""

    def to_representation(self, jobs):
        zone = timezone.get_current_timezone()
        return [{name: json_value(getattr(job, name), zone) for name in LIST_FIELDS} for job in jobs]


def json_value(value, zone):
    """A date-time as DRF's DateTimeField writes it (ISO 8601 in the current time zone, UTC as Z); others as is."""
    if isinstance(value, datetime):
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value


class ExperimentSerializer(serializers.ModelSerializer):
    """Every column of training_jobs in the API contract, under its column name (the list's shape),
    and the owner's name and note."""

    project_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingJob
        fields = LIST_FIELDS
        read_only_fields = fields
        list_serializer_class = ExperimentRows


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingMetric
        fields = ["epoch", "train_loss", "val_loss", "accuracy", "duration_seconds", "images_per_second",
                  "gpu_utilization", "gpu_memory_mb"]  # fmt: skip
        read_only_fields = fields


class RunFileSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text="Owner-only; streamed.")

    class Meta:
        model = RunFile
        fields = ["name", "size", "sha256", "updated_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, run_file) -> str:
        job = run_file.job
        return reverse("experiment-file", kwargs={"project_pk": job.project_id, "pk": job.id, "name": run_file.name})


class ExperimentDetailSerializer(ExperimentSerializer):
    """One experiment: the list's fields, its progress and its per-epoch metrics."""

    dataset = serializers.IntegerField(
        source="dataset_version_id", read_only=True, allow_null=True, help_text="The dataset version it trains on."
    )
    progress = serializers.FloatField(read_only=True, help_text="Fraction of epochs done, 0 to 1.")
    cancel_requested = serializers.SerializerMethodField()
    metrics = MetricSerializer(many=True, read_only=True)
    files = RunFileSerializer(many=True, read_only=True, help_text="What the run left in the storage so far.")

    class Meta(ExperimentSerializer.Meta):
        list_serializer_class = serializers.ListSerializer
        fields = [*LIST_FIELDS, "dataset", "image_size", "augmentation", "device", "initial_weights", "start_from",
                  "current_epoch", "progress", "cancel_requested", "metrics", "files"]  # fmt: skip
        read_only_fields = fields

    def get_cancel_requested(self, job) -> bool:
        return job.cancel_requested_at is not None


class ExperimentCreateSerializer(serializers.Serializer):
    """Types only; what the values must be is checked by services.validate_new_experiment."""

    framework = TextField()
    model_name = TextField(max_length=200)
    task_type = TextField()
    dataset = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="A ready dataset version's id (or dataset_path)."
    )
    dataset_path = TextField(
        max_length=500, required=False, allow_blank=True, default="", help_text="A folder under DATASETS_ROOT."
    )
    epochs = serializers.IntegerField()
    batch_size = serializers.IntegerField()
    learning_rate = serializers.FloatField()
    image_size = serializers.IntegerField(required=False, allow_null=True, default=None)
    augmentation = TextField(
        required=False,
        default=TrainingJob.Augmentation.STANDARD,
        help_text="none, light (shifts, brightness; no flips) or standard (crops, flips, brightness).",
    )
    device = TextField(
        required=False, default=TrainingJob.Device.ANY, help_text="any, gpu or cpu: which workers may train it."
    )
    initial_weights = TextField(
        required=False,
        default=TrainingJob.InitialWeights.SCRATCH,
        help_text="scratch, pretrained (from WEIGHTS_DIR) or experiment (the best weights of start_from); "
        "GET starting-weights lists what a model can start from.",
    )
    start_from = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="With initial_weights experiment: its id."
    )


class ExperimentDescribeSerializer(serializers.Serializer):
    """PATCH: the owner's name and note of an experiment; an empty or null one clears it, a missing one stays."""

    name = TextField(max_length=200, required=False, allow_blank=True, allow_null=True)
    note = TextField(max_length=5000, required=False, allow_blank=True, allow_null=True)


class ComparedExperimentSerializer(ExperimentDetailSerializer):
    """One experiment as the compare view shows it: its detail, its best epoch, how long it ran, on what data."""

    dataset_label = serializers.CharField(read_only=True, help_text='"shapes v2", or the folder it trained on.')
    best_epoch = serializers.SerializerMethodField(help_text="The epoch of highest validation accuracy.")
    best_accuracy = serializers.SerializerMethodField(help_text="The accuracy of that epoch.")
    duration_seconds = serializers.FloatField(source="elapsed_seconds", read_only=True, allow_null=True)

    class Meta(ExperimentDetailSerializer.Meta):
        fields = [*(f for f in ExperimentDetailSerializer.Meta.fields if f != "files"), "dataset_label",
                  "best_epoch", "best_accuracy", "duration_seconds"]  # fmt: skip
        read_only_fields = fields

    def get_best_epoch(self, job) -> int | None:
        best = job.best_metric()
        return best.epoch if best else None

    def get_best_accuracy(self, job) -> float | None:
        best = job.best_metric()
        return best.accuracy if best else None


class ComparisonSerializer(serializers.Serializer):
    experiments = ComparedExperimentSerializer(source="jobs", many=True)
    differing_parameters = serializers.ListField(
        source="differing", child=serializers.CharField(), help_text="The parameters that are not the same for all."
    )


class StartingExperimentSerializer(serializers.ModelSerializer):
    """An earlier experiment a new one may start from."""

    project_id = serializers.IntegerField(read_only=True)
    dataset_label = serializers.CharField(read_only=True)

    class Meta:
        model = TrainingJob
        fields = ["id", "project_id", "name", "model_name", "task_type", "dataset_label", "accuracy", "completed_at"]
        read_only_fields = fields


class StartingWeightsSerializer(serializers.Serializer):
    pretrained_available = serializers.BooleanField(help_text="Whether WEIGHTS_DIR holds the pretrained file.")
    pretrained_file = serializers.CharField(help_text="The file expected in WEIGHTS_DIR.")
    experiments = StartingExperimentSerializer(many=True, help_text="Your completed runs of this model.")
