from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from datasets.models import TaskType


def is_empty(field: str) -> models.ExpressionWrapper:
    """`field IS NULL` as a sort key: false (has a value) sorts before true, in either direction of the field."""
    return models.ExpressionWrapper(models.Q(**{f"{field}__isnull": True}), output_field=models.BooleanField())


INPUT_BOUND_BELOW = 0.5
WORKER_LOST = "Worker lost"  # the error of a job whose worker went silent (lifecycle.reap_lost_jobs)


class TrainingJobQuerySet(models.QuerySet):
    def for_project(self, project) -> "TrainingJobQuerySet":
        return self.filter(project=project)

    def newest_first(self) -> "TrainingJobQuerySet":
        # Served by the (project, [status,] created_at desc, id desc) indexes below, without a sort.
        return self.order_by("-created_at", "-id")

    def with_duration(self) -> "TrainingJobQuerySet":
        """Annotates `duration` (completed_at - started_at); empty for experiments that have not finished."""
        return self.annotate(duration=models.F("completed_at") - models.F("started_at"))

    def with_metrics(self) -> "TrainingJobQuerySet":
        """Prefetches each job's per-epoch metrics, in epoch order (one query for all the jobs)."""
        return self.prefetch_related("metrics")  # TrainingMetric.Meta.ordering is by epoch

    def counts_by_status(self) -> dict[str, int]:
        """{status: how many of these jobs} for every status, zeros included: one GROUP BY query."""
        counts = dict.fromkeys(TrainingJob.Status.values, 0)
        counts.update(self.order_by().values_list("status").annotate(count=models.Count("id")))
        return counts

    def with_status(self, statuses) -> "TrainingJobQuerySet":
        """The jobs in any of `statuses`; all of them when it is empty."""
        statuses = list(statuses)
        if not statuses:
            return self
        if len(statuses) == 1:
            return self.filter(status=statuses[0])
        return self.filter(status__in=statuses)


class TrainingJob(models.Model):
    """One training experiment of a project: what is trained, on what, and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.CANCELLED})

    class Framework(models.TextChoices):
        TIMM = "timm", "timm"
        ULTRALYTICS = "ultralytics", "Ultralytics"

    TaskType = TaskType  # the datasets app's: a dataset version fits the same tasks

    class Augmentation(models.TextChoices):
        """What the trainer does to the training images: named presets, recorded with the experiment."""

        NONE = "none", _("None")
        LIGHT = "light", _("Light: small shifts and brightness, no flips")
        STANDARD = "standard", _("Standard: crops, flips and brightness")

    class InitialWeights(models.TextChoices):
        """What the model's weights are when its training begins."""

        SCRATCH = "scratch", _("Random (from scratch)")
        PRETRAINED = "pretrained", _("Pretrained, from the weights folder")
        EXPERIMENT = "experiment", _("The best weights of an earlier experiment")

    class Device(models.TextChoices):
        """Where it may train; a worker claims only the jobs it can run (see queue_name)."""

        ANY = "any", _("Any worker")
        GPU = "gpu", _("GPU")
        CPU = "cpu", _("CPU")

    TASK_SHORT_NAMES = {
        TaskType.IMAGE_CLASSIFICATION: _("classification"),
        TaskType.OBJECT_DETECTION: _("detection"),
        TaskType.INSTANCE_SEGMENTATION: _("segmentation"),
    }

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        related_name="jobs",
        verbose_name=_("project"),
        db_index=False,  # the composite indexes below lead with project_id
    )
    model_name = models.CharField(_("model"), max_length=200)
    # The owner's own words. Nullable so that SQLite adds the columns in place: a NOT NULL column
    # makes Django rebuild the table, which drops the status-count triggers.
    name = models.CharField(_("name"), max_length=200, null=True, blank=True)  # noqa: DJ001
    note = models.TextField(_("note"), null=True, blank=True)  # noqa: DJ001
    framework = models.CharField(_("framework"), max_length=20, choices=Framework.choices)
    task_type = models.CharField(_("task"), max_length=40, choices=TaskType.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    # What it trains on: a checked dataset version, or (operators' scripts) a folder under DATASETS_ROOT.
    dataset_version = models.ForeignKey(
        "datasets.DatasetVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("dataset"),
    )
    dataset_path = models.CharField(_("dataset path"), max_length=500, blank=True)
    epochs = models.PositiveIntegerField(_("epochs"))
    batch_size = models.PositiveIntegerField(_("batch size"))
    learning_rate = models.FloatField(_("learning rate"))
    accuracy = models.FloatField(_("accuracy"), null=True, blank=True)
    loss = models.FloatField(_("loss"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    error_message = models.TextField(_("error message"), null=True, blank=True)  # noqa: DJ001 (null = no error: docs/api.md)
    # Beyond the columns of docs/api.md: what the worker needs and the live page shows.
    image_size = models.PositiveIntegerField(_("image size"), null=True, blank=True)
    # Empty for experiments from before they were recorded: those flipped images horizontally, on any device.
    augmentation = models.CharField(  # noqa: DJ001
        _("augmentation"), max_length=20, choices=Augmentation.choices, null=True, blank=True
    )
    device = models.CharField(_("device"), max_length=10, choices=Device.choices, null=True, blank=True)  # noqa: DJ001
    # Empty for experiments from before it was recorded: those started from scratch.
    initial_weights = models.CharField(  # noqa: DJ001
        _("initial weights"), max_length=20, choices=InitialWeights.choices, null=True, blank=True
    )
    start_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fine_tuned",
        verbose_name=_("started from"),
        help_text=_("The earlier experiment whose best weights it started from."),
    )
    current_epoch = models.PositiveIntegerField(_("current epoch"), default=0)
    worker_id = models.CharField(_("worker"), max_length=64, blank=True, default="")
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    cancel_requested_at = models.DateTimeField(_("cancel requested"), null=True, blank=True)

    objects = TrainingJobQuerySet.as_manager()

    class Meta:
        db_table = "training_jobs"
        verbose_name = _("training job")
        verbose_name_plural = _("training jobs")
        indexes = [
            models.Index(fields=["project", "-created_at", "-id"], name="job_project_created_idx"),
            models.Index(fields=["project", "status", "-created_at", "-id"], name="job_project_status_created_idx"),
            # ordering=-accuracy (experiments without one last) without a sort, on SQLite and PostgreSQL alike.
            models.Index(
                models.F("project"),
                is_empty("accuracy"),
                models.F("accuracy").desc(),
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="job_project_accuracy_idx",
            ),
            models.Index(
                fields=["heartbeat_at"], condition=models.Q(status="running"), name="job_running_heartbeat_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(accuracy__isnull=True) | models.Q(accuracy__gte=0, accuracy__lte=1),
                name="job_accuracy_is_a_fraction",
            ),
            models.CheckConstraint(condition=models.Q(epochs__gte=1), name="job_epochs_positive"),
            models.CheckConstraint(condition=models.Q(batch_size__gte=1), name="job_batch_size_positive"),
            models.CheckConstraint(condition=models.Q(learning_rate__gt=0), name="job_learning_rate_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "running", "completed", "failed", "cancelled"]),
                name="job_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.model_name} #{self.pk}"

    @property
    def run_dir(self) -> Path:
        """Where a worker keeps this run's files (weights, log) on its own disk."""
        return Path(settings.RUNS_DIR) / f"experiment-{self.pk}"

    @property
    def queue_name(self) -> str:
        """The task queue its training waits in: workers on a GPU take "gpu" and "default", CPU workers "cpu"
        and "default"."""
        return self.device if self.device in (self.Device.GPU, self.Device.CPU) else "default"

    @property
    def label(self) -> str:
        """How people tell it apart: its name, or its model and id."""
        return self.name or f"{self.model_name} #{self.pk}"

    @property
    def task_short_name(self) -> str:
        return self.TASK_SHORT_NAMES.get(self.task_type, self.task_type)

    @property
    def dataset_label(self) -> str:
        """What it trains on, for people: "shapes v2", or the folder's path."""
        return self.dataset_version.label if self.dataset_version_id else self.dataset_path

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL_STATUSES

    @property
    def elapsed_seconds(self) -> float | None:
        """How long it trained, once finished."""
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()

    def best_metric(self) -> "TrainingMetric | None":
        """The epoch of highest validation accuracy (the earliest of equals), from the prefetched metrics."""
        scored = [metric for metric in self.metrics.all() if metric.accuracy is not None]
        return max(scored, key=lambda metric: (metric.accuracy, -metric.epoch), default=None)

    def gpu_busy(self) -> float | None:
        """How busy its GPU was while training, on average over its epochs so far (0 to 1), leaving out the
        first when there are others: there cuDNN tries its kernels and CUDA loads its modules. None when it
        did not train on CUDA, or its epochs were too short to tell."""
        measured = [metric for metric in self.metrics.all() if metric.gpu_utilization is not None]
        if len(measured) > 1:
            measured = [metric for metric in measured if metric.epoch > 1]
        values = [metric.gpu_utilization for metric in measured]
        return sum(values) / len(values) if values else None

    def is_input_bound(self) -> bool:
        """Its GPU waited for data more than it computed: busy less than half the time."""
        busy = self.gpu_busy()
        return busy is not None and busy < INPUT_BOUND_BELOW

    def stored_files(self) -> dict[str, "RunFile"]:
        """{name: RunFile} of what the run left in the storage, from the prefetched files."""
        return {run_file.name: run_file for run_file in self.files.all()}

    @property
    def can_resume(self) -> bool:
        """Cancelled, or failed because its worker was lost, with a checkpoint to go on from (see
        services.experiment_resume)."""
        stopped = self.status == self.Status.CANCELLED or (
            self.status == self.Status.FAILED and self.error_message == WORKER_LOST
        )
        return stopped and RunFile.Name.LAST_WEIGHTS in self.stored_files()

    @property
    def progress(self) -> float:
        """Fraction of epochs done, 0..1."""
        if self.status == self.Status.COMPLETED:
            return 1.0
        return min(1.0, self.current_epoch / self.epochs) if self.epochs else 0.0


class RunFile(models.Model):
    """A file a training run leaves in the storage shared by the web service and the workers: its weights,
    log, configuration, metrics and the bundle of them. See run_files.py."""

    class Name(models.TextChoices):
        BEST_WEIGHTS = "best.pt", _("Best weights")
        LAST_WEIGHTS = "last.pt", _("Last checkpoint")
        LOG = "train.log", _("Training log")
        CONFIG = "config.json", _("Configuration")
        METRICS = "metrics.csv", _("Metrics per epoch")
        BUNDLE = "bundle.zip", _("Bundle: weights, metrics, configuration and log")

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="files", verbose_name=_("experiment"))
    name = models.CharField(_("name"), max_length=40, choices=Name.choices)
    storage_name = models.CharField(_("stored as"), max_length=500)
    size = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "run_files"
        verbose_name = _("run file")
        verbose_name_plural = _("run files")
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="run_file_unique_name")]

    def __str__(self):
        return f"{self.job_id}/{self.name}"


class ProjectStatusCountQuerySet(models.QuerySet):
    def by_status(self) -> dict[str, int]:
        """{status: how many experiments these rows count} for every status, zeros included: one query."""
        counts = dict.fromkeys(TrainingJob.Status.values, 0)
        counts.update(self.order_by().values_list("status").annotate(models.Sum("count")))
        return counts


class ProjectStatusCount(models.Model):
    """How many experiments of each model a project has in each status: the list's total, its tabs, the dashboard.

    Counting a project's rows costs milliseconds at 100,000 experiments, on
    every list request, and as much for a list narrowed to one model; these
    rows are kept exact instead by three triggers on training_jobs (insert,
    delete, and an update that moves a job to another status, project or
    model), written once for SQLite and once for PostgreSQL (migration 0015).
    Triggers, not the services, so that every write path counts: the admin's
    deletes, bulk inserts, a project's cascade.
    """

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="status_count_rows")
    status = models.CharField(max_length=20)
    framework = models.CharField(max_length=20, default="")
    task_type = models.CharField(max_length=40, default="")
    model_name = models.CharField(max_length=200, default="")
    count = models.BigIntegerField(default=0)

    objects = ProjectStatusCountQuerySet.as_manager()

    class Meta:
        db_table = "project_status_counts"
        constraints = [
            models.UniqueConstraint(
                fields=["project", "status", "framework", "task_type", "model_name"], name="status_count_unique"
            )
        ]

    def __str__(self):
        return f"{self.project_id} {self.status} {self.model_name}: {self.count}"


class TrainingMetric(models.Model):
    """The validation results of one epoch of a training job."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics", db_column="training_job_id")
    epoch = models.PositiveIntegerField(_("epoch"))
    train_loss = models.FloatField(_("train loss"), null=True)
    val_loss = models.FloatField(_("validation loss"), null=True)
    accuracy = models.FloatField(_("accuracy"), null=True)
    duration_seconds = models.FloatField(_("duration (s)"))
    # How fast it trained: training images per second of the epoch's training phase, and on CUDA how busy
    # the GPU was (mean utilisation, 0 to 1) and the most memory in use on it.
    images_per_second = models.FloatField(_("images/s"), null=True)
    gpu_utilization = models.FloatField(_("GPU utilisation"), null=True)
    gpu_memory_mb = models.FloatField(_("GPU memory (MB)"), null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "training_metrics"
        ordering = ["epoch"]
        constraints = [models.UniqueConstraint(fields=["job", "epoch"], name="metric_one_row_per_epoch")]

    def __str__(self):
        return f"{self.job_id} epoch {self.epoch}"
