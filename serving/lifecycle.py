"""What happens to exports and predictions while a worker makes them: the worker's answers, each recorded
with a live event of the experiment's project (which the experiment page follows)."""

import uuid

from django.db import transaction
from django.utils import timezone

from experiments import run_files
from experiments.live import record_event
from experiments.models import TrainingJob
from serving.models import Export, Prediction


def prediction_finish(*, prediction: Prediction, result: dict | None = None, error: str = "") -> None:
    """The worker's answer: the result, or why there is none."""
    with transaction.atomic():
        prediction.status = Prediction.Status.FAILED if error else Prediction.Status.DONE
        prediction.result, prediction.error, prediction.completed_at = result, error, timezone.now()
        prediction.save()
        record_event(prediction.job, "prediction_ready", {"prediction_id": prediction.id, "status": prediction.status})


def export_update(*, export: Export, **fields) -> None:
    """Records where an export stands, and tells the experiment's page."""
    with transaction.atomic():
        for name, value in fields.items():
            setattr(export, name, value)
        if export.is_done:
            export.completed_at = timezone.now()
        export.save()
        record_event(export.job, "export_changed", {"format": export.format, "status": export.status})


def prediction_image_name(job: TrainingJob, suffix: str) -> str:
    """Where a prediction's image goes: in the experiment's folder of the storage, deleted with it."""
    return f"{run_files.storage_folder(job)}/predictions/{uuid.uuid4().hex}{suffix}"
