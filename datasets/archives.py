"""Zip and tar archives of data sets: checked before they are kept, and unpacked without escaping their folder.

An archive is refused (ArchiveError, a message naming the member) when a
member has an absolute path or climbs out with "..", is a link, a device or
any other non-regular file, appears twice, or when the archive is empty,
holds too many files, or expands past MAX_DATASET_EXTRACTED_BYTES or
MAX_DATASET_COMPRESSION_RATIO times its own size (a zip bomb).
"""

import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

# What archiving tools add beside the data: skipped, never an error.
JUNK_PARTS = {"__MACOSX", ".DS_Store", "Thumbs.db"}


class ArchiveError(ValueError):
    """An archive that cannot be accepted, with a reason naming the member."""


@dataclass(frozen=True)
class Member:
    name: str  # as stored in the archive
    kind: str  # "file", "dir", "link" or "special"
    size: int

    @property
    def path(self) -> PurePosixPath:
        return PurePosixPath(self.name.replace("\\", "/"))

    @property
    def is_junk(self) -> bool:
        return any(part in JUNK_PARTS or part.startswith("._") for part in self.path.parts)


def members(file) -> list[Member]:
    """The members of a zip or tar archive (any compression tarfile reads), from a seekable binary file."""
    file.seek(0)
    if zipfile.is_zipfile(file):
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            return [_zip_member(info) for info in archive.infolist()]
    file.seek(0)
    try:
        with tarfile.open(fileobj=file, mode="r:*") as archive:
            return [_tar_member(info) for info in archive.getmembers()]
    except (tarfile.TarError, EOFError, OSError):
        raise ArchiveError(_("The file is not a zip or tar archive.")) from None


def _zip_member(info: zipfile.ZipInfo) -> Member:
    mode = info.external_attr >> 16
    if info.is_dir():
        kind = "dir"
    elif stat.S_ISLNK(mode):
        kind = "link"
    elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # many tools store no file type: a plain file
        kind = "special"
    else:
        kind = "file"
    return Member(info.filename, kind, info.file_size)


def _tar_member(info: tarfile.TarInfo) -> Member:
    if info.isdir():
        kind = "dir"
    elif info.issym() or info.islnk():
        kind = "link"
    elif info.isfile():
        kind = "file"
    else:
        kind = "special"
    return Member(info.name, kind, info.size)


def inspect(file, archive_size: int) -> list[Member]:
    """The archive's members, or ArchiveError for the first thing that makes it unsafe or unusable."""
    found = members(file)
    seen = set()
    total = files = 0
    for member in found:
        path = member.path
        if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
            raise ArchiveError(_("%(name)s: absolute paths are not allowed in an archive.") % {"name": member.name})
        if ".." in path.parts:
            raise ArchiveError(_("%(name)s: the path leaves the archive's folder (..).") % {"name": member.name})
        if member.kind == "link":
            raise ArchiveError(_("%(name)s: links are not allowed in an archive.") % {"name": member.name})
        if member.kind == "special":
            raise ArchiveError(
                _("%(name)s: only files and folders are allowed (this is a device, pipe or socket).")
                % {"name": member.name}
            )
        if member.kind != "file" or member.is_junk:
            continue
        key = path.as_posix().casefold()
        if key in seen:
            raise ArchiveError(_("%(name)s appears twice in the archive.") % {"name": member.name})
        seen.add(key)
        files += 1
        total += member.size
    if not files:
        raise ArchiveError(_("The archive is empty."))
    if files > settings.MAX_DATASET_FILES:
        raise ArchiveError(
            _("The archive holds %(count)d files; the limit is %(limit)d.")
            % {"count": files, "limit": settings.MAX_DATASET_FILES}
        )
    if total > settings.MAX_DATASET_EXTRACTED_BYTES:
        raise ArchiveError(
            _("The archive expands to %(size)d bytes; the limit is %(limit)d.")
            % {"size": total, "limit": settings.MAX_DATASET_EXTRACTED_BYTES}
        )
    if total > max(archive_size, 1) * settings.MAX_DATASET_COMPRESSION_RATIO:
        raise ArchiveError(
            _("The archive expands %(ratio)d times its size; the limit is %(limit)d (a zip bomb?).")
            % {"ratio": total // max(archive_size, 1), "limit": settings.MAX_DATASET_COMPRESSION_RATIO}
        )
    return found


def extract(file, archive_size: int, target: Path) -> None:
    """Unpacks the regular files of an archive under target (checked with inspect first)."""
    inspect(file, archive_size)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    file.seek(0)
    if zipfile.is_zipfile(file):
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            for info in archive.infolist():
                member = _zip_member(info)
                if member.kind == "file" and not member.is_junk:
                    # ZipExtFile stops at the declared size, which inspect() has added up.
                    with archive.open(info) as source, open(_destination(root, member), "xb") as out:
                        shutil.copyfileobj(source, out)
        return
    file.seek(0)
    with tarfile.open(fileobj=file, mode="r:*") as archive:
        for info in archive.getmembers():
            member = _tar_member(info)
            if member.kind == "file" and not member.is_junk:
                source = archive.extractfile(info)
                with source, open(_destination(root, member), "xb") as out:
                    shutil.copyfileobj(source, out)


def _destination(root: Path, member: Member) -> Path:
    destination = (root / member.path.as_posix()).resolve()
    if not destination.is_relative_to(root):  # inspect() refused these already; never write outside
        raise ArchiveError(_("%(name)s: the path leaves the archive's folder.") % {"name": member.name})
    destination.parent.mkdir(parents=True, exist_ok=True)
    return destination
