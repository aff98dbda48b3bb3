"""What happens to an experiment while a worker trains it.

    pending -> running -> completed | failed | cancelled
    pending -> cancelled (services.experiment_cancel)
    failed ("Worker lost") | cancelled -> pending (services.experiment_resume), then on from its checkpoint

The worker (training/runner.py) calls these, and its housekeeper calls
reap_lost_jobs(), the one place that fails jobs whose worker went silent.
Each change locks the job's row (SELECT ... FOR UPDATE, or a conditional
UPDATE) and records an ExperimentEvent in the same transaction.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from experiments.live import job_state, record_event
from experiments.models import WORKER_LOST, TrainingJob, TrainingMetric

logger = logging.getLogger(__name__)
Status = TrainingJob.Status

CANCELLED_BY_USER = "Cancelled by user"


def experiment_start(*, job_id: int, worker_id: str) -> TrainingJob | None:
    """Claims a pending job for a worker; None when it is gone, cancelled or already claimed."""
    now = timezone.now()
    with transaction.atomic():
        claimed = TrainingJob.objects.filter(pk=job_id, status=Status.PENDING).update(
            status=Status.RUNNING,
            started_at=Coalesce("started_at", Value(now)),  # a resumed run started when it first did
            heartbeat_at=now,
            worker_id=worker_id,
            updated_at=now,
        )
        if not claimed:
            return None
        job = TrainingJob.objects.get(pk=job_id)
        record_event(job, "status_changed", job_state(job))
    return job


def experiment_record_epoch(
    *,
    job: TrainingJob,
    epoch: int,
    train_loss: float | None,
    val_loss: float | None,
    accuracy: float | None,
    duration_seconds: float,
    images_per_second: float | None = None,
    gpu_utilization: float | None = None,
    gpu_memory_mb: float | None = None,
) -> bool:
    """Stores one epoch's metrics as the job's latest values; False if the job is no longer this worker's."""
    with transaction.atomic():
        current = _locked_if_still_running(job)
        if current is None:
            return False
        TrainingMetric.objects.update_or_create(
            job=current,
            epoch=epoch,
            defaults={
                "train_loss": train_loss,
                "val_loss": val_loss,
                "accuracy": accuracy,
                "duration_seconds": duration_seconds,
                "images_per_second": images_per_second,
                "gpu_utilization": gpu_utilization,
                "gpu_memory_mb": gpu_memory_mb,
            },
        )
        current.current_epoch = epoch
        current.accuracy = _fraction(accuracy)
        current.loss = val_loss
        current.heartbeat_at = timezone.now()
        current.save(update_fields=["current_epoch", "accuracy", "loss", "heartbeat_at", "updated_at"])
        record_event(
            current,
            "training_progress",
            {
                "experiment_id": current.id,
                "epoch": epoch,
                "epochs": current.epochs,
                "progress": round(current.progress, 4),
                "loss": val_loss,
                "accuracy": current.accuracy,
            },
        )
    job.current_epoch, job.accuracy, job.loss = current.current_epoch, current.accuracy, current.loss
    return True


def experiment_resumed(*, job: TrainingJob, epoch: int) -> None:
    """A resumed run goes on after `epoch` of its checkpoint: the metrics of later epochs, recorded before the
    checkpoint could be stored, are dropped; the run records them again."""
    with transaction.atomic():
        current = _locked_if_still_running(job)
        if current is None:
            return
        current.metrics.filter(epoch__gt=epoch).delete()
        current.current_epoch = epoch
        current.save(update_fields=["current_epoch", "updated_at"])
        record_event(current, "status_changed", job_state(current))
    job.current_epoch = epoch


def experiment_complete(*, job: TrainingJob, accuracy: float | None, loss: float | None) -> None:
    with transaction.atomic():
        current = _locked_if_still_running(job)
        if current is not None:
            finish(current, Status.COMPLETED, accuracy=_fraction(accuracy), loss=loss)


def experiment_fail(*, job: TrainingJob, reason: str) -> None:
    with transaction.atomic():
        current = _locked_if_still_running(job)
        if current is not None:
            finish(current, Status.FAILED, error_message=reason, accuracy=None, loss=None)


def experiment_mark_cancelled(*, job: TrainingJob) -> None:
    """The worker stopped a running job at the user's request; its metrics so far stay."""
    with transaction.atomic():
        current = _locked_if_still_running(job)
        if current is not None:
            finish(current, Status.CANCELLED, error_message=CANCELLED_BY_USER)


def experiment_heartbeat(*, job: TrainingJob) -> None:
    """The worker training this job is alive."""
    TrainingJob.objects.filter(pk=job.pk, status=Status.RUNNING, worker_id=job.worker_id).update(
        heartbeat_at=timezone.now()
    )


def experiment_cancel_requested(*, job: TrainingJob) -> bool:
    return TrainingJob.objects.filter(pk=job.pk).exclude(cancel_requested_at=None).exists()


def reap_lost_jobs(*, timeout_seconds: int | None = None) -> int:
    """Fails every running job whose worker has been silent past the timeout ("Worker lost")."""
    timeout = settings.WORKER_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
    cutoff = timezone.now() - timedelta(seconds=timeout)
    lost_ids = list(
        TrainingJob.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).values_list("id", flat=True)
    )
    reaped = 0
    for job_id in lost_ids:
        with transaction.atomic():
            job = TrainingJob.objects.select_for_update().get(pk=job_id)
            if job.status != Status.RUNNING or job.heartbeat_at >= cutoff:
                continue
            if job.cancel_requested_at:
                finish(job, Status.CANCELLED, error_message=CANCELLED_BY_USER)
            else:
                finish(job, Status.FAILED, error_message=WORKER_LOST, accuracy=None, loss=None)
            reaped += 1
            logger.warning("Experiment %s: worker %s lost (silent since %s)", job.id, job.worker_id, job.heartbeat_at)
    return reaped


def _locked_if_still_running(job: TrainingJob) -> TrainingJob | None:
    current = TrainingJob.objects.select_for_update().get(pk=job.pk)
    if current.status != Status.RUNNING or current.worker_id != job.worker_id:
        return None
    return current


_UNSET = object()


def finish(job: TrainingJob, status: str, *, error_message=None, accuracy=_UNSET, loss=_UNSET) -> None:
    """Ends a job, already locked by the caller, in a terminal status."""
    job.status = status
    job.completed_at = timezone.now()
    job.error_message = error_message
    if accuracy is not _UNSET:
        job.accuracy = accuracy
    if loss is not _UNSET:
        job.loss = loss
    if status == Status.COMPLETED:
        job.current_epoch = job.epochs if job.current_epoch == 0 else job.current_epoch
    job.save()
    record_event(job, "status_changed", job_state(job))


def _fraction(value: float | None) -> float | None:
    return None if value is None else min(1.0, max(0.0, float(value)))
