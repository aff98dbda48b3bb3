"""What users do to datasets: upload or register a version, delete one.

The web process only inspects an archive's table of contents and keeps the
file in the storage (the local disk, or a bucket shared with the workers);
a worker then checks it (checks.py).
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from datasets import archives, folders
from datasets.models import Dataset, DatasetVersion
from datasets.tasks import check_dataset_version, fix_dataset_version

CHUNK = 1024 * 1024


class DatasetInUse(Exception):
    """The version (or a version of the dataset) is what experiments trained on (HTTP 409)."""


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the dataset a name.")]})
    if len(name) > 200 or "\x00" in name:
        raise ValidationError({"name": [_("A dataset name is at most 200 characters of text.")]})
    return name


def _new_version(owner, name: str, **fields) -> tuple[DatasetVersion, bool]:
    """A new version of the owner's dataset `name` (created if new); an identical archive gives the existing one."""
    dataset, _created = Dataset.objects.get_or_create(owner=owner, name=name)
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)  # numbers versions one at a time
    if fields.get("content_hash"):
        existing = dataset.versions.filter(content_hash=fields["content_hash"]).first()
        if existing:
            return existing, False
    number = (dataset.versions.aggregate(Max("number"))["number__max"] or 0) + 1
    return DatasetVersion(dataset=dataset, number=number, **fields), True


def upload_version(*, owner, name: str, file) -> tuple[DatasetVersion, bool]:
    """Keeps an uploaded archive as a new version, to be checked by a worker; (version, created)."""
    name = _clean_name(name)
    if file.size > settings.MAX_DATASET_UPLOAD_BYTES:
        raise ValidationError({"file": [_("The archive is larger than the upload limit.")]})
    try:
        archives.inspect(file, file.size)
    except archives.ArchiveError as error:
        raise ValidationError({"file": [str(error)]}) from None
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks(CHUNK):
        digest.update(chunk)
    content_hash = digest.hexdigest()
    suffix = "".join(Path(file.name or "").suffixes[-2:])[:16] or ".zip"
    with transaction.atomic():
        version, created = _new_version(
            owner,
            name,
            archive_name=Path(file.name or "upload").name[:255],
            size_bytes=file.size,
            content_hash=content_hash,
        )
        if created:
            file.seek(0)
            version.archive.save(f"{content_hash}{suffix}", file, save=False)
            version.save()
            transaction.on_commit(lambda: check_dataset_version.enqueue(version.id))
    return version, created


def register_folder(*, owner, name: str, path: str) -> DatasetVersion:
    """A folder under DATASETS_ROOT as a new version (its hash is taken by the worker that checks it)."""
    name = _clean_name(name)
    try:
        folder = folders.resolve(path)
    except folders.DatasetError as error:
        raise ValidationError({"path": [str(error)]}) from None
    relative = folder.relative_to(Path(settings.DATASETS_ROOT).resolve()).as_posix()
    with transaction.atomic():
        version, _created = _new_version(owner, name, source_path=relative, archive_name=relative)
        version.save()
        transaction.on_commit(lambda: check_dataset_version.enqueue(version.id))
    return version


def fix_version(version: DatasetVersion, fix: str) -> DatasetVersion:
    """A new version that a worker builds from this one with the fix applied (the old one stays as it was)."""
    if fix not in version.available_fixes:
        raise ValidationError({"fix": [_("This version has nothing that this fix repairs.")]})
    dataset = version.dataset
    with transaction.atomic():
        name = f"v{version.number} + {fix}"
        fixed, _created = _new_version(dataset.owner, dataset.name, archive_name=name, derived_from=version, fix=fix)
        fixed.save()
        transaction.on_commit(lambda: fix_dataset_version.enqueue(fixed.id))
    return fixed


def delete_version(version: DatasetVersion) -> None:
    if version.trainingjob_set.exists():
        raise DatasetInUse(_("Experiments trained on this version; delete them first."))
    with transaction.atomic():
        dataset = version.dataset
        version.delete()
        if not dataset.versions.exists():
            dataset.delete()
    _delete_files([version])


def delete_dataset(dataset: Dataset) -> None:
    if DatasetVersion.objects.filter(dataset=dataset, trainingjob__isnull=False).exists():
        raise DatasetInUse(_("Experiments trained on a version of this dataset; delete them first."))
    versions = list(dataset.versions.all())
    dataset.delete()
    _delete_files(versions)


def _delete_files(deleted: list[DatasetVersion]) -> None:
    """The archives of deleted versions, and their previews unless another version has the same content."""
    for version in deleted:
        if version.archive:
            version.archive.delete(save=False)
        if not DatasetVersion.objects.filter(content_hash=version.content_hash).exists():
            for preview in version.previews:
                default_storage.delete(preview["name"])
