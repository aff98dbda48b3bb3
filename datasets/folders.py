"""Folders under settings.DATASETS_ROOT, named by operators (data too large to upload)."""

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _


class DatasetError(ValueError):
    """A dataset that cannot be used, with a one-line reason a user can act on."""


def resolve(raw: str) -> Path:
    """The dataset folder a user named, relative to DATASETS_ROOT or absolute inside it."""
    root = Path(settings.DATASETS_ROOT).resolve()
    raw = (raw or "").strip()
    if not raw:
        raise DatasetError(_("Name a dataset under the datasets root."))
    if "\x00" in raw:
        raise DatasetError(_("The dataset path is not a valid path."))
    path = Path(raw)
    try:
        path = (path if path.is_absolute() else root / path).resolve()
        if path != root and not path.is_relative_to(root):
            raise DatasetError(_("The dataset must be inside the datasets root (%(root)s).") % {"root": root})
        if path.is_file() and path.name in ("data.yaml", "data.yml"):
            path = path.parent
        exists = path.is_dir()
    except (OSError, RuntimeError):  # a name too long for the file system, a symlink loop, ...
        raise DatasetError(_("The dataset path is not a valid path.")) from None
    if not exists:
        raise DatasetError(_("There is no dataset at %(path)s.") % {"path": raw})
    return path
