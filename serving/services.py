"""What users do with a trained model: have it exported (and the export verified), and try it on an image.

Views and the API call these; the worker's side is in exporting.py and
predicting.py. Each change records a live event of the experiment's project in
the same transaction, which is what the experiment page follows.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from experiments import run_files
from experiments.live import record_event
from experiments.models import RunFile, TrainingJob
from serving import lifecycle
from serving.models import Export, Prediction
from serving.tasks import export_model, predict

# What "try it" reads: the formats Pillow decodes that cameras and browsers make.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp"}
KEPT_PREDICTIONS = 10  # per experiment; older ones are deleted with their images
INFERENCE_QUEUE = "inference"


class ServingConflict(Exception):
    """The experiment is not in a state that allows this (HTTP 409)."""


def _require_best_weights(job: TrainingJob) -> None:
    if job.status != TrainingJob.Status.COMPLETED or not job.files.filter(name=RunFile.Name.BEST_WEIGHTS).exists():
        raise ServingConflict(
            _("Only a completed experiment with stored best weights can do this; this one is %(status)s.")
            % {"status": job.get_status_display().lower()}
        )


def exports_request(*, job: TrainingJob) -> list[Export]:
    """Queues the ONNX and TorchScript exports of the experiment's best weights, and their verification;
    an earlier export is replaced."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        _require_best_weights(job)
        earlier = list(job.exports.all())
        if any(not export.is_done for export in earlier):
            raise ServingConflict(_("This experiment's export is already under way."))
        replaced = [export.storage_name for export in earlier if export.storage_name]
        job.exports.all().delete()
        exports = [Export.objects.create(job=job, format=format) for format in Export.Format.values]
        record_event(job, "export_changed", {"status": Export.Status.PENDING})
        transaction.on_commit(lambda: export_model.enqueue(job.id))
        transaction.on_commit(lambda: run_files.delete_stored(replaced))
    return exports


def prediction_create(*, job: TrainingJob, image=None, val_image: int | None = None) -> Prediction:
    """Queues a prediction of the experiment's best weights on an uploaded image, or on one of its validation
    images (by index), for the inference workers. ValidationError names a bad image."""
    _require_best_weights(job)
    if image is None and val_image is None:
        raise ValidationError({"image": [_("Send an image, or ask for a validation image (val_image).")]})
    image_name = _store_image(job, image) if image is not None else ""
    with transaction.atomic():
        prediction = Prediction.objects.create(job=job, image_name=image_name, val_index=val_image)
        record_event(job, "prediction_requested", {"prediction_id": prediction.id})
        transaction.on_commit(lambda: predict.using(queue_name=INFERENCE_QUEUE).enqueue(prediction.id))
    _prune(job)
    return prediction


def _store_image(job: TrainingJob, upload) -> str:
    """Checks that the upload is an image we read, of at most MAX_IMAGE_PIXELS, and stores it."""
    if upload.size > settings.MAX_PREDICTION_IMAGE_BYTES:
        limit = filesizeformat(settings.MAX_PREDICTION_IMAGE_BYTES)
        raise ValidationError({"image": [_("The image is larger than %(limit)s.") % {"limit": limit}]})
    try:
        with Image.open(upload) as opened:  # reads the header only: the pixel count comes before any decoding
            image_format, (width, height) = opened.format, opened.size
            if image_format not in IMAGE_FORMATS:
                raise ValidationError(
                    {"image": [_("%(format)s images are not read here; send JPEG, PNG, WebP or BMP.")
                               % {"format": image_format}]}
                )  # fmt: skip
            if width * height > settings.MAX_IMAGE_PIXELS:
                raise ValidationError(
                    {"image": [_("The image has %(pixels)d pixels; at most %(max)d are read.")
                               % {"pixels": width * height, "max": settings.MAX_IMAGE_PIXELS}]}
                )  # fmt: skip
            opened.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ValidationError({"image": [_("This file is not an image (JPEG, PNG, WebP or BMP).")]}) from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError({"image": [_("This image is truncated or damaged.")]}) from None
    upload.seek(0)
    name = lifecycle.prediction_image_name(job, f".{IMAGE_FORMATS[image_format]}")
    return default_storage.save(name, ContentFile(upload.read()))


def _prune(job: TrainingJob) -> None:
    old = list(job.predictions.all()[KEPT_PREDICTIONS:])
    if old:
        Prediction.objects.filter(pk__in=[prediction.pk for prediction in old]).delete()
        run_files.delete_stored([name for prediction in old for name in prediction.storage_names()])
