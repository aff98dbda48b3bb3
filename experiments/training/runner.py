import logging
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import translation

from datasets import checks as dataset_checks
from datasets.archives import ArchiveError
from experiments import datasets, lifecycle
from experiments.models import TrainingJob
from experiments.training.types import Result, TrainingCancelled, TrainingError

logger = logging.getLogger(__name__)


class Monitor(threading.Thread):
    """Beside the training: heartbeats for the job and notices a cancel request within half a second."""

    POLL_SECONDS = 0.5

    def __init__(self, job: TrainingJob):
        super().__init__(name=f"monitor-{job.id}", daemon=True)
        self.job = job
        self.cancelled = threading.Event()
        self.stopped = threading.Event()

    def run(self):
        last_beat = time.monotonic()
        try:
            while not self.stopped.wait(self.POLL_SECONDS):
                try:
                    if lifecycle.experiment_cancel_requested(job=self.job):
                        self.cancelled.set()
                    if time.monotonic() - last_beat >= settings.WORKER_HEARTBEAT_SECONDS:
                        lifecycle.experiment_heartbeat(job=self.job)
                        last_beat = time.monotonic()
                except Exception:
                    logger.exception("Heartbeat for experiment %s failed", self.job.id)
        finally:
            connection.close()

    def stop(self):
        self.stopped.set()
        self.join(timeout=5)


class JobReporter:
    """The Reporter a trainer gets: cancel requests from the Monitor, epochs stored through lifecycle."""

    def __init__(self, job: TrainingJob, monitor: Monitor, sampler):
        self.job = job
        self.monitor = monitor
        self.sampler = sampler
        self.system_figures = (None, None)

    def should_stop(self) -> bool:
        return self.monitor.cancelled.is_set()

    def check_cancelled(self) -> None:
        if self.should_stop():
            raise TrainingCancelled

    def epoch_start(self) -> None:
        self.sampler.take()

    def train_end(self) -> None:
        self.system_figures = self.sampler.take()

    def epoch_end(self, *, epoch, train_loss, val_loss, accuracy, duration_seconds, images_per_second) -> None:
        gpu_utilization, gpu_memory_mb = self.system_figures
        self.system_figures = (None, None)
        logger.info(
            "Experiment %s epoch %s/%s: train loss %s, val loss %s, accuracy %s (%.1f s, %s images/s, GPU busy %s)",
            self.job.id, epoch, self.job.epochs, train_loss, val_loss, accuracy, duration_seconds,
            images_per_second and round(images_per_second), gpu_utilization,
        )  # fmt: skip
        still_ours = lifecycle.experiment_record_epoch(
            job=self.job,
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            accuracy=accuracy,
            duration_seconds=duration_seconds,
            images_per_second=images_per_second,
            gpu_utilization=gpu_utilization,
            gpu_memory_mb=gpu_memory_mb,
        )
        if not still_ours:  # failed as lost, or cancelled, meanwhile
            raise TrainingCancelled


def run(job_id: int, *, worker_id: str) -> str:
    # What the worker stores (error messages) is data, not UI: always in English.
    with translation.override("en"):
        return _run(job_id, worker_id=worker_id)


def _run(job_id: int, *, worker_id: str) -> str:
    job = lifecycle.experiment_start(job_id=job_id, worker_id=worker_id)
    if job is None:
        logger.info("Experiment %s is no longer pending; nothing to do", job_id)
        return "skipped"
    run_dir = job.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    log_handler = logging.FileHandler(run_dir / "train.log")
    logging.getLogger().addHandler(log_handler)
    monitor = Monitor(job)
    monitor.start()
    try:
        logger.info("Experiment %s: %s %s on %s", job.id, job.framework, job.model_name, job.dataset_label)
        result = _train(job, run_dir, monitor)
        lifecycle.experiment_complete(job=job, accuracy=result.accuracy, loss=result.loss)
        return "completed"
    except TrainingCancelled:
        lifecycle.experiment_mark_cancelled(job=job)
        return "cancelled"
    except Exception as error:
        logger.exception("Experiment %s failed", job.id)
        lifecycle.experiment_fail(job=job, reason=human_reason(error))
        return "failed"
    finally:
        monitor.stop()
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()


def _train(job: TrainingJob, run_dir: Path, monitor: Monitor) -> Result:
    try:
        if job.dataset_version_id:
            dataset = dataset_checks.local_copy(job.dataset_version)  # checked when it was made ready
        else:
            dataset = Path(job.dataset_path)
            datasets.check_layout(dataset, job.task_type)
    except (datasets.DatasetError, ArchiveError, OSError) as error:
        raise TrainingError(str(error)) from error
    from experiments.training import hardware  # torch: in the worker only, once the dataset is known to be there

    on = device()
    logger.info("Experiment %s trains on %s", job.id, on)
    sampler = hardware.sampler_for(on)
    sampler.start()
    try:
        reporter = JobReporter(job, monitor, sampler)
        if job.framework == TrainingJob.Framework.TIMM:
            from experiments.training import timm_trainer

            return timm_trainer.train(job, dataset, run_dir, on, reporter)
        from experiments.training import ultralytics_trainer

        return ultralytics_trainer.train(job, dataset, run_dir, on, reporter)
    finally:
        sampler.stop()


def device() -> str:
    """The GPU when this worker sees one, else the CPU; `run_worker --device` decides which GPU it sees."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def human_reason(error: BaseException) -> str:
    """One line a user can read; the traceback is in the worker's log."""
    text = str(error).strip()
    if "CUDA out of memory" in text or type(error).__name__ == "OutOfMemoryError":
        return "CUDA out of memory"
    if isinstance(error, TrainingError):
        return text.splitlines()[0] if text else "Training failed"
    first_line = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {first_line}"[:300] if first_line else type(error).__name__
