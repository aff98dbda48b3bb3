"""What a training run leaves behind, in the storage the web service and the workers share.

A worker writes a run's files in RUNS_DIR/experiment-<id>/ on its own disk
and stores each one as runs/experiment-<id>/<name> in the default storage
(the local disk, or a bucket), with its size and SHA-256 in a RunFile row:

    best.pt      the weights of the best validation epoch
    last.pt      the last checkpoint (model, optimizer, epoch): what a resume continues from
    train.log    the worker's log of the run, stored every few seconds while it trains
    config.json  the resolved configuration
    metrics.csv  the per-epoch metrics
    bundle.zip   all of the above but last.pt, for people to take away

The web service only reads them back, for their owner.
"""

import csv
import hashlib
import json
import logging
import threading
import zipfile
from collections import defaultdict
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.http import FileResponse, Http404

from experiments.models import RunFile, TrainingJob

logger = logging.getLogger(__name__)
Name = RunFile.Name
CHUNK = 1024 * 1024
# A worker's training and its monitor thread both store the log: one at a time per file, or a copy is left
# behind. Per file, so that the monitor's heartbeats never wait for a checkpoint's upload.
_storing = defaultdict(threading.Lock)
TAIL_BYTES = 16 * 1024
# What the experiment page offers to download, in this order.
DOWNLOADS = [Name.BEST_WEIGHTS, Name.BUNDLE, Name.LAST_WEIGHTS, Name.METRICS, Name.CONFIG, Name.LOG]
METRIC_COLUMNS = [
    "epoch", "train_loss", "val_loss", "accuracy", "duration_seconds", "images_per_second", "gpu_utilization",
    "gpu_memory_mb",
]  # fmt: skip


def storage_folder(job: TrainingJob) -> str:
    return f"runs/experiment-{job.pk}"


def store(job: TrainingJob, name: str, path: Path) -> RunFile | None:
    """Copies one of the run's local files into the storage, replacing the stored file of that name.

    The new copy is stored under a fresh name before the row points at it, so
    a download never finds the row pointing at nothing. None when the
    experiment was deleted meanwhile (the copy is removed again).
    """
    with _storing[(job.pk, name)]:
        return _store(job, name, path)


def _store(job: TrainingJob, name: str, path: Path) -> RunFile | None:
    size, sha256 = file_digest(path)
    current = RunFile.objects.filter(job=job, name=name).first()
    if current is not None and (current.size, current.sha256) == (size, sha256):
        return current
    with path.open("rb") as local:
        storage_name = default_storage.save(f"{storage_folder(job)}/{name}", File(local, name=name))
    try:
        run_file, _created = RunFile.objects.update_or_create(
            job_id=job.pk, name=name, defaults={"storage_name": storage_name, "size": size, "sha256": sha256}
        )
    except IntegrityError:  # the experiment is gone
        default_storage.delete(storage_name)
        return None
    if current is not None and current.storage_name != storage_name:
        default_storage.delete(current.storage_name)
    return run_file


def fetch(run_file: RunFile, target: Path) -> Path:
    """The stored file as a local file at target, copied from the storage unless it is there already."""
    if target.is_file() and file_digest(target) == (run_file.size, run_file.sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with default_storage.open(run_file.storage_name, "rb") as stored, partial.open("wb") as local:
        while chunk := stored.read(CHUNK):
            local.write(chunk)
    partial.replace(target)
    return target


def stored_folders(jobs) -> list[str]:
    """The storage folders of these experiments that hold anything (only runs that stored files have one)."""
    return [storage_folder(job) for job in jobs.filter(files__isnull=False).distinct().only("pk")]


def delete_folders(folders: list[str]) -> None:
    """Deletes everything under these storage folders: the run's files and whatever other apps keep there
    (exports, predictions)."""
    for folder in folders:
        try:
            subfolders, files = default_storage.listdir(folder)
        except (OSError, FileNotFoundError):
            continue
        delete_stored([f"{folder}/{name}" for name in files])
        delete_folders([f"{folder}/{name}" for name in subfolders])


def delete_stored(storage_names: list[str]) -> None:
    for storage_name in storage_names:
        try:
            default_storage.delete(storage_name)
        except OSError:
            logger.exception("Could not delete %s", storage_name)


def log_tail(job: TrainingJob) -> str:
    """The last lines of the stored training log (what the experiment page shows)."""
    run_file = RunFile.objects.filter(job=job, name=Name.LOG).first()
    if run_file is None:
        return ""
    try:
        with default_storage.open(run_file.storage_name, "rb") as stored:
            stored.seek(max(0, run_file.size - TAIL_BYTES))
            data = stored.read(TAIL_BYTES)
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return text.split("\n", 1)[1] if run_file.size > TAIL_BYTES and "\n" in text else text


def write_metrics_csv(job: TrainingJob, path: Path) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(METRIC_COLUMNS)
        for row in job.metrics.order_by("epoch").values_list(*METRIC_COLUMNS):
            writer.writerow(["" if value is None else value for value in row])
    return path


def write_config(path: Path, config: dict) -> Path:
    path.write_text(json.dumps(config, indent=2, sort_keys=True, default=str) + "\n")
    return path


def write_bundle(run_dir: Path) -> Path | None:
    """bundle.zip of the run's weights (best, else last), metrics, configuration and log; None without weights.

    Weights are stored as they are (they do not compress), the text deflated.
    """
    candidates = [run_dir / name for name in (Name.BEST_WEIGHTS, Name.LAST_WEIGHTS) if (run_dir / name).is_file()]
    if not candidates:
        return None
    weights = candidates[0]
    bundle = run_dir / Name.BUNDLE
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.write(weights, weights.name, compress_type=zipfile.ZIP_STORED)
        for name in (Name.METRICS, Name.CONFIG, Name.LOG):
            if (run_dir / name).is_file():
                archive.write(run_dir / name, name, compress_type=zipfile.ZIP_DEFLATED)
    return bundle


def file_digest(path: Path) -> tuple[int, str]:
    """(size, SHA-256) of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def download(job: TrainingJob, name: str) -> FileResponse:
    """One of an experiment's stored files as an attachment, streamed from the storage in chunks;
    Http404 when it has none of that name. The caller has checked that the experiment is the user's."""
    run_file = RunFile.objects.filter(job=job, name=name).first()
    if run_file is None:
        raise Http404("File not found")
    response = stored_response(run_file.storage_name, filename=f"experiment-{job.pk}-{name}")
    response["Content-Length"] = str(run_file.size)
    response["ETag"] = f'"{run_file.sha256}"'
    response["X-Checksum-SHA256"] = run_file.sha256
    response["Cache-Control"] = "private, no-cache"
    return response


def stored_response(storage_name: str, *, filename: str | None = None, content_type=None) -> FileResponse:
    """A file of the storage, streamed in chunks: an attachment when it has a filename; Http404 when it is gone."""
    try:
        stored = default_storage.open(storage_name, "rb")
    except OSError:
        raise Http404("File not found") from None
    return FileResponse(stored, as_attachment=filename is not None, filename=filename, content_type=content_type)
