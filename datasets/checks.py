"""The worker's side of dataset versions: fetched from the storage into a local cache, prepared, checked.

The cache (DATASET_CACHE_DIR) holds one folder per content SHA-256, so a
version is fetched once per machine and a second worker reuses it.
"""

import hashlib
import logging
import os
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from datasets import archives, fixes, layouts, live, previews
from datasets.models import DatasetVersion

logger = logging.getLogger(__name__)
Status = DatasetVersion.Status
CHUNK = 1024 * 1024


def check_version(version_id: int) -> DatasetVersion | None:
    """Fetches, prepares and checks a pending version; it becomes READY or INVALID with its findings."""
    version = DatasetVersion.objects.select_related("dataset").filter(pk=version_id).first()
    if version is None or version.status != Status.PENDING:
        return version
    drawn = []
    try:
        with translation.override("en"):  # stored findings are in one language, as layouts writes them
            _path, report, drawn = _fetch_and_prepare(version, draw_previews=True)
    except archives.ArchiveError as error:
        report = layouts.Report()
        report.problem(version.archive_name, str(error))
    except OSError as error:
        report = layouts.Report()
        report.problem(version.archive_name, f"The data set cannot be read: {error.strerror or error}")
    fields = {
        "status": Status.READY if report.task_types and not report.blocking else Status.INVALID,
        "format": report.format,
        "task_types": [str(task) for task in report.task_types],
        "summary": report.summary,
        "findings": report.findings,
        "previews": drawn,
        "checked_at": timezone.now(),
        "content_hash": version.content_hash,
    }
    _finish(version, **fields)
    logger.info("Dataset version %s checked: %s, %d findings", version.pk, version.status, len(report.findings))
    return version


def build_fixed_version(version_id: int) -> DatasetVersion | None:
    """Packs a repaired copy of the version a fix started from as this version's archive, then checks it."""
    version = DatasetVersion.objects.select_related("derived_from__dataset").filter(pk=version_id).first()
    if version is None or version.status != Status.PENDING or version.archive or version.derived_from is None:
        return version
    staging = _cache_dir() / f".staging-{uuid.uuid4().hex}"
    try:
        shutil.copytree(local_copy(version.derived_from), staging / "data")  # files, not links: they go in the zip
        fixes.apply(version.fix, staging / "data", version.derived_from.findings)
        with tempfile.TemporaryFile(dir=_cache_dir()) as archive:
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as packed:  # images are compressed already
                for path in sorted(p for p in (staging / "data").rglob("*") if p.is_file()):
                    packed.write(path, path.relative_to(staging / "data").as_posix())
            version.size_bytes = archive.tell()
            archive.seek(0)
            version.content_hash = hashlib.file_digest(archive, "sha256").hexdigest()
            version.archive.save(f"{version.content_hash}.zip", File(archive), save=False)
        version.save(update_fields=["archive", "size_bytes", "content_hash"])
    except (OSError, ValueError, KeyError) as error:  # ArchiveError is a ValueError
        logger.exception("Dataset version %s: the fix failed", version.pk)
        finding = {"kind": "layout", "split": "", "file": ".", "line": None, "problem": f"The fix failed: {error}"}
        _finish(version, status=Status.INVALID, findings=[finding], checked_at=timezone.now())
        return None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return check_version(version.pk)


def local_copy(version: DatasetVersion) -> Path:
    """The version's prepared folder on this machine, fetched and prepared on first use."""
    if version.content_hash and (_cache_dir() / version.content_hash).is_dir():
        return _cache_dir() / version.content_hash
    path, _report, _previews = _fetch_and_prepare(version)
    return path


def _cache_dir() -> Path:
    cache = Path(settings.DATASET_CACHE_DIR)
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def _fetch_and_prepare(version: DatasetVersion, draw_previews=False) -> tuple[Path, layouts.Report, list[dict]]:
    """Unpacks (or links) the version into a staging folder, prepares it, and moves it to cache/<hash>.

    With draw_previews, its thumbnails are drawn too (previews.make) while the report's folders are at hand.
    """
    staging = _cache_dir() / f".staging-{uuid.uuid4().hex}"
    try:
        if version.archive:
            content_hash = _unpack(version, staging / "data")
        else:
            _link_files(Path(settings.DATASETS_ROOT).resolve() / version.source_path, staging / "data")
            content_hash = _folder_hash(staging / "data")
        if version.content_hash and content_hash != version.content_hash:
            raise archives.ArchiveError(_("The stored archive does not match the uploaded one (its SHA-256 differs)."))
        version.content_hash = content_hash
        root, report = layouts.prepare(staging / "data", on_progress=lambda done: _progress(version, done))
        drawn = _draw_previews(root, report, content_hash) if draw_previews else []
        target = _cache_dir() / content_hash
        if not target.exists():
            try:
                root.rename(target)
            except OSError:  # another worker prepared it meanwhile
                if not target.is_dir():
                    raise
        return target, report, drawn
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _progress(version: DatasetVersion, done: float) -> None:
    """How far a pending version's check is, for its page."""
    with transaction.atomic():
        if DatasetVersion.objects.filter(pk=version.pk, status=Status.PENDING).update(check_progress=done):
            live.record_check_progress(version, done)


def _finish(version: DatasetVersion, **fields) -> None:
    with transaction.atomic():
        DatasetVersion.objects.filter(pk=version.pk).update(**fields)
        version.refresh_from_db()
        live.record_checked(version)


def _draw_previews(root: Path, report: layouts.Report, content_hash: str) -> list[dict]:
    try:
        return previews.make(root, report, content_hash)
    except OSError:  # the storage is unreachable: the check itself stands
        logger.exception("Previews of %s could not be stored", content_hash)
        return []


def _link_files(source: Path, target: Path) -> None:
    """Links every file under source into target: operators register folders too large to copy.

    prepare() never writes through the links. Linked folders are followed once
    (a link loop ends there); a FIFO, device or dangling link is refused, never opened.
    """
    seen = set()
    for folder, subfolders, files in os.walk(source, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders.clear()
            continue
        seen.add(real)
        for name in files:
            path = Path(folder) / name
            relative = path.relative_to(source)
            if not path.is_file():
                raise archives.ArchiveError(
                    _("%(name)s: only files and folders are allowed (this is a device, pipe, socket or broken link).")
                    % {"name": relative.as_posix()}
                )
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.symlink_to(path.resolve())


def _unpack(version: DatasetVersion, target: Path) -> str:
    """Copies the archive from the storage to a local file, hashing it, and unpacks it; its SHA-256."""
    digest = hashlib.sha256()
    with tempfile.TemporaryFile(dir=_cache_dir()) as local, version.archive.open("rb") as stored:
        size = 0
        while chunk := stored.read(CHUNK):
            digest.update(chunk)
            local.write(chunk)
            size += len(chunk)
        archives.extract(local, size, target)
    return digest.hexdigest()


def _folder_hash(folder: Path) -> str:
    """SHA-256 over every file's relative path and content, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
