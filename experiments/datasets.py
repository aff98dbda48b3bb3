"""Folders under settings.DATASETS_ROOT named by path (dataset_path); this module finds and checks them.

Layouts:
- image classification: an ImageFolder with train/ and val/, one folder per class;
- detection and segmentation: a YOLO data.yaml naming train and val image folders.
"""

from pathlib import Path

import yaml
from django.conf import settings
from django.utils.translation import gettext as _

from datasets.folders import DatasetError, resolve  # noqa: F401 (services and the runner use them from here)
from datasets.layouts import IMAGE_SUFFIXES, has_polygon_labels
from experiments.models import TrainingJob

Task = TrainingJob.TaskType


def check_layout(path: Path, task_type: str) -> None:
    """Raises DatasetError unless the folder has the layout the task needs."""
    try:
        if task_type == Task.IMAGE_CLASSIFICATION:
            _check_image_folder(path)
        else:
            _check_yolo_yaml(path, task_type)
    except OSError as error:  # unreadable files or folders: say which, not where the root is
        raise DatasetError(_("The dataset cannot be read: %(error)s") % {"error": error.strerror}) from None
    except UnicodeDecodeError:  # a label file that is not text
        raise DatasetError(_("The dataset cannot be read: a label file is not text.")) from None


def _check_image_folder(path: Path) -> None:
    classes = {}
    for split in ("train", "val"):
        split_dir = path / split
        if not split_dir.is_dir():
            raise DatasetError(
                _("Dataset has no %(split)s split (expected %(split)s/<class>/<images>).") % {"split": split}
            )
        class_dirs = [d for d in sorted(split_dir.iterdir()) if d.is_dir() and _has_image(d)]
        if not class_dirs:
            raise DatasetError(_("The %(split)s split has no class folders with images.") % {"split": split})
        classes[split] = [d.name for d in class_dirs]
    if len(classes["train"]) < 2:
        raise DatasetError(_("Classification needs at least two classes in train/."))
    if classes["train"] != classes["val"]:
        raise DatasetError(_("The val classes differ from the train classes."))


def read_yolo_yaml(path: Path) -> dict:
    yaml_path = path / "data.yaml"
    if not yaml_path.is_file():
        raise DatasetError(_("Dataset has no data.yaml (the YOLO layout detection and segmentation need)."))
    try:
        data = yaml.safe_load(yaml_path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise DatasetError(
            _("data.yaml is not valid YAML: %(error)s") % {"error": str(error).splitlines()[0]}
        ) from None
    if not isinstance(data, dict):
        raise DatasetError(_("data.yaml must be a mapping with train, val and names."))
    return data


def _check_yolo_yaml(path: Path, task_type: str) -> None:
    data = read_yolo_yaml(path)
    if not data.get("names"):
        raise DatasetError(_("data.yaml has no class names (names:)."))
    if "download" in data:
        raise DatasetError(_("data.yaml asks for a download; datasets must be local."))
    base = Path(str(data.get("path") or path))
    base = base if base.is_absolute() else (path / base).resolve()
    for split in ("train", "val"):
        if not data.get(split):
            raise DatasetError(_("Dataset has no %(split)s split in data.yaml.") % {"split": split})
        images = (base / str(data[split])).resolve()
        if not images.is_relative_to(Path(settings.DATASETS_ROOT).resolve()):
            raise DatasetError(_("data.yaml points outside the datasets root."))
        if not images.is_dir() or not _has_image(images):
            raise DatasetError(
                _("The %(split)s images folder (%(folder)s) has no images.") % {"split": split, "folder": data[split]}
            )
    if task_type == Task.INSTANCE_SEGMENTATION and not has_polygon_labels(base / str(data["val"])):
        raise DatasetError(_("The labels are boxes, not polygons: segmentation needs polygon labels."))


def _has_image(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir() if p.is_file())
