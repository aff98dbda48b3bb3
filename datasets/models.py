from django.conf import settings
from django.core.exceptions import ValidationError
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


class FindingKind(models.TextChoices):
    """What a check found in a dataset version; each finding names a file, and a line where there is one."""

    LAYOUT = "layout", _("Layout")
    EMPTY_VAL = "empty_val", _("Empty or missing val split")
    NOT_AN_IMAGE = "not_an_image", _("Not an image")
    UNREADABLE_IMAGE = "unreadable_image", _("Unreadable or truncated image")
    TOO_MANY_PIXELS = "too_many_pixels", _("Image over the pixel limit")
    BAD_LABEL = "bad_label", _("Label line out of range or malformed")
    IMAGE_WITHOUT_LABEL = "image_without_label", _("Image without a label file")
    LABEL_WITHOUT_IMAGE = "label_without_image", _("Label file without an image")
    DUPLICATE = "duplicate", _("The same image in train and val")


# Worth knowing, but training works: an image without labels is a background image to YOLO.
WARNINGS = {FindingKind.IMAGE_WITHOUT_LABEL, FindingKind.LABEL_WITHOUT_IMAGE, FindingKind.DUPLICATE}


class Fix(models.TextChoices):
    """One-click repairs; each makes a new version and leaves the old one as it was."""

    DROP_BAD_FILES = "drop_bad_files", _("Drop the bad files")
    MAKE_VAL_SPLIT = "make_val_split", _("Make a val split from train")


# The findings each fix repairs.
FIXES = {
    Fix.DROP_BAD_FILES: {
        FindingKind.NOT_AN_IMAGE,
        FindingKind.UNREADABLE_IMAGE,
        FindingKind.TOO_MANY_PIXELS,
        FindingKind.BAD_LABEL,
        FindingKind.LABEL_WITHOUT_IMAGE,
        FindingKind.DUPLICATE,
    },
    Fix.MAKE_VAL_SPLIT: {FindingKind.EMPTY_VAL},
}


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
    # [{"kind", "split", "file", "line", "problem"}], files relative to the prepared data set.
    findings = models.JSONField(_("findings"), default=list, blank=True)
    # A version made by a one-click fix of another.
    derived_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="fixed_versions"
    )
    fix = models.CharField(_("fix"), max_length=20, choices=Fix.choices, blank=True)
    # [{"name": "previews/<sha256>/0.png", "caption": "circle, square"}]: drawn once by the checking worker.
    previews = models.JSONField(_("previews"), default=list, blank=True)
    check_progress = models.FloatField(_("check progress"), default=0)  # 0 to 1, while pending
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

    def findings_of(self, params) -> list[dict]:
        """The findings a query string asks for (kind, split); ValidationError names a parameter that is wrong."""
        kind, split = params.get("kind", ""), params.get("split", "")
        if kind not in ("", *FindingKind.values):
            raise ValidationError({"kind": [_("one of %(kinds)s.") % {"kinds": ", ".join(FindingKind.values)}]})
        if split not in ("", "train", "val"):
            raise ValidationError({"split": [_("train or val.")]})
        return [f for f in self.findings if kind in ("", f["kind"]) and split in ("", f["split"])]

    @property
    def finding_counts(self) -> dict[str, int]:
        counts = {}
        for finding in self.findings:
            counts[finding["kind"]] = counts.get(finding["kind"], 0) + 1
        return counts

    @property
    def available_fixes(self) -> list[str]:
        kinds = self.finding_counts.keys()
        return [fix for fix, repairs in FIXES.items() if repairs & kinds]

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
