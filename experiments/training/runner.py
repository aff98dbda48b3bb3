import logging
import threading
import time
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import translation

from datasets import checks as dataset_checks
from datasets.archives import ArchiveError
from experiments import datasets, lifecycle, run_files, weights
from experiments.live import record_event
from experiments.models import RunFile, TrainingJob
from experiments.training.types import Result, Start, TrainingCancelled, TrainingError

logger = logging.getLogger(__name__)


class Monitor(threading.Thread):
    """Beside the training: heartbeats for the job, notices a cancel request within half a second, and
    stores the training log every few seconds for the experiment page to show."""

    POLL_SECONDS = 0.5
    LOG_SECONDS = 2

    def __init__(self, job: TrainingJob, log_path: Path):
        super().__init__(name=f"monitor-{job.id}", daemon=True)
        self.job = job
        self.log_path = log_path
        self.log_size = 0
        self.cancelled = threading.Event()
        self.stopped = threading.Event()

    def run(self):
        last_beat = last_log = time.monotonic()
        try:
            while not self.stopped.wait(self.POLL_SECONDS):
                try:
                    if lifecycle.experiment_cancel_requested(job=self.job):
                        self.cancelled.set()
                    if time.monotonic() - last_beat >= settings.WORKER_HEARTBEAT_SECONDS:
                        lifecycle.experiment_heartbeat(job=self.job)
                        last_beat = time.monotonic()
                    if time.monotonic() - last_log >= self.LOG_SECONDS:
                        self.store_log()
                        last_log = time.monotonic()
                except Exception:
                    logger.exception("Heartbeat for experiment %s failed", self.job.id)
        finally:
            connection.close()

    def stop(self):
        self.stopped.set()
        self.join(timeout=5)

    def store_log(self):
        """Stores the log when it grew, and tells the experiment's page."""
        size = self.log_path.stat().st_size if self.log_path.is_file() else 0
        if size != self.log_size and run_files.store(self.job, RunFile.Name.LOG, self.log_path):
            record_event(self.job, "training_log", {"size": size})
        self.log_size = size


class JobReporter:
    """The Reporter a trainer gets: cancel requests from the Monitor, epochs stored through lifecycle."""

    def __init__(self, job: TrainingJob, monitor: Monitor, sampler):
        self.job = job
        self.monitor = monitor
        self.sampler = sampler
        self.system_figures = (None, None)

    def resumed(self, *, epoch: int) -> None:
        logger.info("Experiment %s resumes after epoch %s", self.job.id, epoch)
        lifecycle.experiment_resumed(job=self.job, epoch=epoch)

    def checkpoint_saved(self, last: Path, best: Path | None) -> None:
        if best is not None and best.is_file():
            run_files.store(self.job, RunFile.Name.BEST_WEIGHTS, best)
        run_files.store(self.job, RunFile.Name.LAST_WEIGHTS, last)

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
    log_path = run_dir / RunFile.Name.LOG
    if not log_path.exists() and (stored_log := job.files.filter(name=RunFile.Name.LOG).first()):
        run_files.fetch(stored_log, log_path)  # a resumed run on another worker: its log goes on
    log_handler = logging.FileHandler(log_path)
    logging.getLogger().addHandler(log_handler)
    monitor = Monitor(job, log_path)
    monitor.start()
    try:
        logger.info("Experiment %s: %s %s on %s", job.id, job.framework, job.model_name, job.dataset_label)
        result = _train(job, run_dir, monitor)
        logger.info("Experiment %s completed: accuracy %s, loss %s", job.id, result.accuracy, result.loss)
        store_outputs(job, run_dir)  # before it shows as completed: its weights are there to download
        lifecycle.experiment_complete(job=job, accuracy=result.accuracy, loss=result.loss)
        return "completed"
    except TrainingCancelled:
        logger.info("Experiment %s stopped", job.id)
        store_outputs_quietly(job, run_dir)
        lifecycle.experiment_mark_cancelled(job=job)
        return "cancelled"
    except Exception as error:
        logger.exception("Experiment %s failed", job.id)
        store_outputs_quietly(job, run_dir)
        lifecycle.experiment_fail(job=job, reason=human_reason(error))
        return "failed"
    finally:
        monitor.stop()
        logging.getLogger().removeHandler(log_handler)
        log_handler.close()


def _train(job: TrainingJob, run_dir: Path, monitor: Monitor) -> Result:
    dataset = local_dataset(job)
    start = starting_point(job, run_dir)
    from experiments.training import hardware  # torch: in the worker only, once the dataset is known to be there

    on = device()
    logger.info("Experiment %s trains on %s", job.id, on)
    run_files.write_config(run_dir / RunFile.Name.CONFIG, configuration(job, on))
    sampler = hardware.sampler_for(on)
    sampler.start()
    try:
        reporter = JobReporter(job, monitor, sampler)
        if job.framework == TrainingJob.Framework.TIMM:
            from experiments.training import timm_trainer

            return timm_trainer.train(job, dataset, run_dir, on, reporter, start)
        from experiments.training import ultralytics_trainer

        return ultralytics_trainer.train(job, dataset, run_dir, on, reporter, start)
    finally:
        sampler.stop()


def local_dataset(job: TrainingJob) -> Path:
    """The experiment's dataset as a folder on this worker; TrainingError says why it is not there."""
    try:
        if job.dataset_version_id:
            return dataset_checks.local_copy(job.dataset_version)  # checked when it was made ready
        dataset = Path(job.dataset_path)
        datasets.check_layout(dataset, job.task_type)
        return dataset
    except (datasets.DatasetError, ArchiveError, OSError) as error:
        raise TrainingError(str(error)) from error


def starting_point(job: TrainingJob, run_dir: Path) -> Start:
    """What the run continues or starts from, fetched from the storage or found in WEIGHTS_DIR."""
    stored = {run_file.name: run_file for run_file in job.files.all()}
    if RunFile.Name.LAST_WEIGHTS in stored:  # only a resumed run has one when it starts
        folder = run_dir / "resume"
        best = stored.get(RunFile.Name.BEST_WEIGHTS)
        return Start(
            checkpoint=run_files.fetch(stored[RunFile.Name.LAST_WEIGHTS], folder / RunFile.Name.LAST_WEIGHTS),
            best=run_files.fetch(best, folder / RunFile.Name.BEST_WEIGHTS) if best else None,
        )
    if job.initial_weights == TrainingJob.InitialWeights.PRETRAINED:
        path = weights.pretrained_file(job.framework, job.model_name)
        if path is None:
            raise TrainingError(
                f"No pretrained weights for {job.model_name}: expected "
                f"{weights.expected_file(job.framework, job.model_name)} in WEIGHTS_DIR"
            )
        logger.info("Experiment %s starts from the pretrained weights %s", job.id, path.name)
        return Start(weights=path)
    if job.initial_weights == TrainingJob.InitialWeights.EXPERIMENT:
        source = RunFile.objects.filter(job_id=job.start_from_id, name=RunFile.Name.BEST_WEIGHTS).first()
        if source is None:
            raise TrainingError("The experiment it starts from, or its best weights, no longer exist")
        logger.info("Experiment %s starts from the best weights of experiment %s", job.id, job.start_from_id)
        return Start(weights=run_files.fetch(source, run_dir / "initial" / RunFile.Name.BEST_WEIGHTS))
    return Start()


def configuration(job: TrainingJob, on: str) -> dict:
    """The run's configuration as resolved on the worker: config.json in its bundle."""
    fields = [
        "id", "framework", "model_name", "task_type", "epochs", "batch_size", "learning_rate", "image_size",
        "augmentation", "initial_weights", "start_from_id",
    ]  # fmt: skip
    config = {field: getattr(job, field) for field in fields}
    config["dataset"] = job.dataset_label
    if job.dataset_version_id:
        config["dataset_sha256"] = job.dataset_version.content_hash
    config["trained_on"] = on
    config["versions"] = {name: _version(name) for name in ("torch", "torchvision", "timm", "ultralytics")}
    return config


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def store_outputs(job: TrainingJob, run_dir: Path) -> None:
    """Stores what the run left: weights, metrics, configuration, log and the bundle of them."""
    run_files.write_metrics_csv(job, run_dir / RunFile.Name.METRICS)
    for handler in logging.getLogger().handlers:
        handler.flush()
    run_files.write_bundle(run_dir)
    for name in RunFile.Name.values:
        if (run_dir / name).is_file():
            run_files.store(job, name, run_dir / name)


def store_outputs_quietly(job: TrainingJob, run_dir: Path) -> None:
    """store_outputs for a run that failed or stopped: what it left is kept if it can be."""
    try:
        store_outputs(job, run_dir)
    except Exception:
        logger.exception("The files of experiment %s could not be stored", job.id)


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
