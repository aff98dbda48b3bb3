"""One-click repairs of a checked dataset version, applied on a worker to a copy of its prepared folder.

checks.build_fixed_version packs the repaired copy as the archive of a new
version, which is then checked like any upload: the old version stays as it was.
"""

from pathlib import Path

import yaml

from datasets.layouts import class_folders, images_in, labels_folder, move, val_share
from datasets.models import FIXES, FindingKind, Fix


def apply(fix: str, root: Path, findings: list[dict]) -> None:
    if fix == Fix.DROP_BAD_FILES:
        drop_bad_files(root, findings)
    elif fix == Fix.MAKE_VAL_SPLIT:
        make_val_split(root)
    else:
        raise ValueError(f"Unknown fix {fix!r}")


def drop_bad_files(root: Path, findings: list[dict]) -> None:
    """Deletes every file a droppable finding names, with its pair: an image's label file, a bad label's image."""
    root = root.resolve()
    for finding in findings:
        if finding["kind"] not in FIXES[Fix.DROP_BAD_FILES]:
            continue
        path = (root / finding["file"]).resolve()
        if path.is_relative_to(root):
            for file in [path, *_pair_of(path, finding["kind"])]:
                file.unlink(missing_ok=True)


def _pair_of(path: Path, kind: str) -> list[Path]:
    if kind == FindingKind.LABEL_WITHOUT_IMAGE:
        return []
    if kind == FindingKind.BAD_LABEL:  # its image would train on wrong or missing objects
        images = _images_folder(path.parent)
        return [image for image in images_in(images) if image.stem == path.stem] if images.is_dir() else []
    labels = labels_folder(path.parent)  # YOLO; an ImageFolder has no labels folder
    return [labels / f"{path.stem}.txt"] if labels != path.parent else []


def make_val_split(root: Path) -> None:
    """Moves a fixed-seed fifth of train (of each class, for ImageFolder) to a new val split."""
    data_yaml = root / "data.yaml"
    if not data_yaml.is_file():
        for class_dir in class_folders(root / "train"):
            for image in val_share(images_in(class_dir)):
                move(image, root / "val" / class_dir.name / image.name)
        return
    data = yaml.safe_load(data_yaml.read_text())
    train = root / data["train"]
    val = train.parent / "val" if train.name == "train" else root / "images" / "val"
    for image in val_share(images_in(train)):
        move(image, val / image.name)
        label = labels_folder(train) / f"{image.stem}.txt"
        if label.is_file():
            move(label, labels_folder(val) / label.name)
    data["val"] = val.relative_to(root).as_posix()
    data_yaml.write_text(yaml.safe_dump(data, allow_unicode=True))


def _images_folder(labels: Path) -> Path:
    """labels/train -> images/train: the inverse of layouts.labels_folder."""
    parts = list(labels.parts)
    if "labels" in parts:
        parts[len(parts) - 1 - parts[::-1].index("labels")] = "images"
    return Path(*parts)
