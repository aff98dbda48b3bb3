"""Getting a trained model out and using it: verified exports, and "try it" predictions.

Built on the experiments app (an export or a prediction belongs to one
experiment and uses its best weights); the experiments app knows nothing of it.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from experiments.models import TrainingJob


class Export(models.Model):
    """The experiment's best weights in another format, and how well the export computes what PyTorch does.

    verified: every check of serving/exporting.py passed, and the file is offered for download;
    failed: it did not (or could not be written), and the figures say how far off it was.
    """

    class Format(models.TextChoices):
        ONNX = "onnx", "ONNX"
        TORCHSCRIPT = "torchscript", "TorchScript"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        VERIFIED = "verified", _("Verified")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="exports", verbose_name=_("experiment"))
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    storage_name = models.CharField(_("stored as"), max_length=500, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    images_checked = models.PositiveIntegerField(_("validation images checked"), null=True, blank=True)
    max_abs_diff = models.FloatField(_("largest output difference"), null=True, blank=True)
    # The fraction of images whose top-1 class (classification) or detections (detection, segmentation) agree.
    agreement = models.FloatField(_("agreement"), null=True, blank=True)
    metric_original = models.FloatField(_("metric with PyTorch"), null=True, blank=True)
    metric_export = models.FloatField(_("metric with the export"), null=True, blank=True)
    latency_ms = models.FloatField(_("CPU latency per image (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        db_table = "exports"
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["format"]
        constraints = [models.UniqueConstraint(fields=["job", "format"], name="export_one_per_format")]

    def __str__(self):
        return f"{self.job_id} {self.format}"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.VERIFIED, self.Status.FAILED)


class Prediction(models.Model):
    """One "try it" request: an image (uploaded, or one of the validation images) and what the model sees."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(
        TrainingJob, on_delete=models.CASCADE, related_name="predictions", verbose_name=_("experiment")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    image_name = models.CharField(_("uploaded image"), max_length=500, blank=True)  # in the storage
    val_index = models.PositiveIntegerField(_("validation image"), null=True, blank=True)
    # {"width", "height", "seconds", "image": storage name of the drawn result,
    #  "classes": [{"name", "probability"}] (top 5) | "detections": [{"name", "score", "box": [x1, y1, x2, y2]}]}
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        db_table = "predictions"
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.job_id} prediction {self.pk}"

    def storage_names(self) -> list[str]:
        drawn = (self.result or {}).get("image")
        return [name for name in (self.image_name, drawn) if name]
