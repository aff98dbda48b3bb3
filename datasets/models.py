from django.conf import settings
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import parse_id

DATASET_NOT_FOUND = "Dataset not found"


class TaskType(models.TextChoices):
    """What a model is trained to do; a dataset version fits one or more of these."""

    IMAGE_CLASSIFICATION = "image_classification", _("Image classification")
    OBJECT_DETECTION = "object_detection", _("Object detection")
    INSTANCE_SEGMENTATION = "instance_segmentation", _("Instance segmentation")


class DatasetQuerySet(models.QuerySet):
    def owned_by(self, user) -> "DatasetQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class Dataset(models.Model):
    """A user's named data set: a series of immutable versions."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="dataset_name_unique_per_owner")]

    def __str__(self):
        return self.name


class DatasetVersionQuerySet(models.QuerySet):
    def owned_by(self, user) -> "DatasetVersionQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(dataset__owner=user)

    def ready(self) -> "DatasetVersionQuerySet":
        return self.filter(status=DatasetVersion.Status.READY).select_related("dataset")


class DatasetVersion(models.Model):
    """One immutable version of a dataset: an uploaded archive or a folder under DATASETS_ROOT.

    It is identified by the SHA-256 of its content and becomes usable
    (READY) once a worker has checked it; experiments point at it, which
    keeps it from being deleted while they exist.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a check")
        READY = "ready", _("Ready")
        INVALID = "invalid", _("Invalid")

    class Format(models.TextChoices):
        UNKNOWN = "", _("Not known yet")
        IMAGE_FOLDER = "image_folder", _("ImageFolder (a folder per class)")
        YOLO = "yolo", _("YOLO (data.yaml, images and labels)")
        COCO = "coco", _("COCO JSON")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    # Exactly one of the two: an archive in the storage, or a folder relative to DATASETS_ROOT.
    archive = models.FileField(_("archive"), upload_to="datasets/", blank=True)
    source_path = models.CharField(_("folder"), max_length=500, blank=True)
    archive_name = models.CharField(_("uploaded file"), max_length=255, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    content_hash = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices, blank=True, default="")
    task_types = models.JSONField(_("tasks"), default=list, blank=True)
    # {"splits": {"train": 160, "val": 40}, "classes": ["cat", "dog"], "notes": ["..."]}
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # [{"file": "train/cat/x.txt", "problem": "..."}]: what keeps the version from being used.
    findings = models.JSONField(_("findings"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)

    objects = DatasetVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("dataset version")
        verbose_name_plural = _("dataset versions")
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="dataset_version_number_unique")]

    def __str__(self):
        return f"{self.dataset.name} v{self.number}"

    @property
    def label(self) -> str:
        return f"{self.dataset.name} v{self.number}"

    @property
    def split_counts(self) -> list[tuple[str, int]]:
        """Images per split, train first (PostgreSQL's jsonb keeps no key order)."""
        splits = self.summary.get("splits", {})
        return sorted(splits.items(), key=lambda item: (item[0] != "train", item[0] != "val", item[0]))

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY


def get_owned_dataset_or_404(user, dataset_id) -> Dataset:
    try:
        return Dataset.objects.owned_by(user).get(pk=parse_id(dataset_id))
    except Dataset.DoesNotExist:
        raise Http404(DATASET_NOT_FOUND) from None


def get_owned_version_or_404(user, version_id) -> DatasetVersion:
    try:
        return DatasetVersion.objects.owned_by(user).select_related("dataset").get(pk=parse_id(version_id))
    except DatasetVersion.DoesNotExist:
        raise Http404(DATASET_NOT_FOUND) from None
