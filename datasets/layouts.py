"""What is inside a data set's folder: its format, the tasks it fits, its splits and classes, and its problems.

prepare(folder) works on a worker's private copy of a version. It first puts
the folder in the layout the trainers read, then checks it:
- ImageFolder: train/ and val/ with a folder per class. One folder of class
  folders is split 80/20 per class with a fixed seed; a valid/ split is renamed val/.
- YOLO: data.yaml naming the train and val image folders, labels beside them.
  data.yaml is rewritten to name them relative to itself. Label Studio's YOLO
  export (classes.txt, images/, labels/, no splits) is split 80/20 with a fixed seed.
- COCO JSON (one file, or one per split): converted to YOLO by Ultralytics'
  own converter; a single file is split 80/20 with a fixed seed.

Then every file is checked (the dataset doctor): images that cannot be read
or are truncated or too large, label lines out of range, images without labels
and labels without images, the same image in train and val, an empty val
split. Problems are findings ({"kind", "split", "file", "line", "problem"},
files relative to the prepared data set), not exceptions: a version with any
finding that is not a mere warning (models.WARNINGS) is not offered for
training, and fixes.py repairs what it can into a new version.
"""

import hashlib
import json
import os
import random
import shutil
import tempfile
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from datasets.models import WARNINGS, DatasetVersion, FindingKind, TaskType

Format = DatasetVersion.Format
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
OTHER_SUFFIXES = {".txt", ".yaml", ".yml", ".json", ".md", ".csv", ".cache"}
VAL_FRACTION = 0.2
CHECK_THREADS = os.cpu_count() or 1  # images are decoded and hashed in parallel
PROGRESS_EVERY = 500  # images
EMPTY_VAL_YOLO = "No val split in data.yaml, or its folder has no images: make one from train, or name one."
SPLIT_SEED = 0


@dataclass
class Report:
    format: str = Format.UNKNOWN
    task_types: list[str] = field(default_factory=list)
    splits: dict[str, int] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    # {"train": {"cat": 80, "dog": 20}, ...}: images per class (classification) or objects per class (YOLO).
    class_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    image_sizes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    # Where each split's images are, once the layout is known.
    split_folders: dict[str, Path] = field(default_factory=dict)
    on_progress: Callable[[float], None] | None = None

    def problem(
        self, file: str, problem: str, *, kind: str = FindingKind.LAYOUT, split: str = "", line: int | None = None
    ) -> None:
        self.findings.append(
            {"kind": str(kind), "split": split, "file": _printable(file), "line": line, "problem": _printable(problem)}
        )

    @property
    def blocking(self) -> bool:
        return any(finding["kind"] not in WARNINGS for finding in self.findings)

    @property
    def summary(self) -> dict:
        return {
            "splits": self.splits,
            "classes": self.classes,
            "class_counts": self.class_counts,
            "image_sizes": self.image_sizes,
            "notes": self.notes,
        }


def prepare(folder: Path, on_progress=None) -> tuple[Path, Report]:
    """Normalises the data set in `folder` (in place) and checks it: (the data set's root, the report).

    on_progress(fraction) is called now and then while the images are checked.
    """
    report = Report(on_progress=on_progress)
    root = _unwrap(folder)
    yamls = [p for p in (root / "data.yaml", root / "data.yml") if p.is_file()]
    cocos = _coco_files(root)
    if yamls and cocos:
        report.problem(
            _relative(cocos[0], root), "Mixed formats: a COCO JSON file beside a YOLO data.yaml; keep one of them."
        )
        return root, report
    if yamls:
        report.format = Format.YOLO
        _prepare_yolo(root, yamls[0], report)
    elif cocos:
        report.format = Format.COCO
        _convert_coco(root, cocos, report)
        if not report.findings:
            _prepare_yolo(root, root / "data.yaml", report)
    elif (root / "classes.txt").is_file() and (root / "images").is_dir():
        report.format = Format.YOLO
        _yolo_from_classes_txt(root, report)
        _prepare_yolo(root, root / "data.yaml", report)
    elif class_folders(root) or (root / "train").is_dir():
        report.format = Format.IMAGE_FOLDER
        _prepare_image_folder(root, report)
    else:
        report.problem(
            ".",
            "No known layout: expected train/ and val/ class folders, one folder per class, "
            "a YOLO data.yaml, or a COCO JSON file.",
        )
        return root, report
    _check_files(root, report)
    if report.blocking:
        report.task_types = []
    return root, report


def _unwrap(folder: Path) -> Path:
    """Archives often wrap everything in one top folder: the data set starts inside it."""
    while True:
        entries = [e for e in folder.iterdir() if not e.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir():
            folder = entries[0]
        else:
            return folder


def _printable(text: str) -> str:
    """File names that are not UTF-8 (kept by Python as surrogates) with a replacement character instead."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def class_folders(folder: Path) -> list[Path]:
    return [d for d in sorted(folder.iterdir()) if d.is_dir() and images_in(d)]


# ImageFolder


def _prepare_image_folder(root: Path, report: Report) -> None:
    if not (root / "val").is_dir() and (root / "valid").is_dir():
        (root / "valid").rename(root / "val")
        report.notes.append("The valid/ split is used as val/.")
    if not (root / "train").is_dir():
        _split_class_folders(root, report)
    classes = {}
    for split in ("train", "val"):
        folder = root / split
        classes[split] = [d.name for d in class_folders(folder)] if folder.is_dir() else []
        report.class_counts[split] = {name: len(images_in(folder / name)) for name in classes[split]}
        report.splits[split] = sum(report.class_counts[split].values())
        report.split_folders[split] = folder
    if len(classes["train"]) < 2:
        report.problem("train/", "Classification needs at least two class folders with images in train/.")
        return
    if not classes["val"]:
        report.problem(
            "val/",
            "The val split is empty or missing: make one from train, or add val/<class>/<images>.",
            kind=FindingKind.EMPTY_VAL,
            split="val",
        )
    elif classes["train"] != classes["val"]:
        missing = sorted(set(classes["train"]) ^ set(classes["val"]))
        report.problem("val/", f"The val classes differ from the train classes: {', '.join(missing)}.")
    report.classes = classes["train"]
    report.task_types = [TaskType.IMAGE_CLASSIFICATION]


def val_share(keys: list) -> set:
    """VAL_FRACTION of the keys (at least one), drawn with a fixed seed: the same split every time."""
    keys = sorted(keys)
    random.Random(SPLIT_SEED).shuffle(keys)
    return set(keys[: max(1, round(len(keys) * VAL_FRACTION))])


def _split_note(per_class: bool = False) -> str:
    share = f"{round(VAL_FRACTION * 100)}%{' of each class' if per_class else ''}"
    return f"Split into train and val: {share} to val, with a fixed seed ({SPLIT_SEED})."


def _split_class_folders(root: Path, report: Report) -> None:
    """One folder of class folders -> train/ and val/, VAL_FRACTION of each class to val."""
    for class_dir in class_folders(root):
        images = images_in(class_dir)
        if len(images) < 2:
            report.problem(f"{class_dir.name}/", "A class needs at least two images to be split into train and val.")
            continue
        val = val_share(images)
        for image in images:
            move(image, root / ("val" if image in val else "train") / class_dir.name / image.name)
    report.notes.append(_split_note(per_class=True))


# YOLO


def _prepare_yolo(root: Path, yaml_path: Path, report: Report) -> None:
    name = yaml_path.name
    try:
        data = yaml.safe_load(yaml_path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        report.problem(name, f"Not valid YAML: {str(error).splitlines()[0]}")
        return
    if not isinstance(data, dict):
        report.problem(name, "data.yaml must be a mapping with train, val and names.")
        return
    names = data.get("names")
    if isinstance(names, dict):
        names = [names[key] for key in sorted(names)]
    if not names or not isinstance(names, list):
        report.problem(name, "No class names (names:).")
        return
    if "download" in data:
        report.problem(name, "data.yaml asks for a download; data sets must be complete.")
        return
    if not data.get("val") and data.get("test"):
        data["val"] = data["test"]
        report.notes.append("No val split: the test split is used as val.")
    splits = {}
    for split in ("train", "val"):
        images = _yolo_images_folder(root, str(data[split])) if data.get(split) else None
        if data.get(split) and images is None:
            report.problem(name, f"The {split} folder {data[split]!r} is not inside the data set.")
            return
        if split == "train" and not (images and images_in(images)):
            report.problem(name, "No train images: data.yaml must name a train folder with images.")
            return
        if images is None:
            report.problem(name, EMPTY_VAL_YOLO, kind=FindingKind.EMPTY_VAL, split="val")
        elif not images_in(images):
            report.problem(_relative(images, root) + "/", EMPTY_VAL_YOLO, kind=FindingKind.EMPTY_VAL, split="val")
        else:
            splits[split] = images
    # The trainers read data.yaml from wherever the version is cached: name the folders relative to it.
    canonical = {split: _relative(folder, root) for split, folder in splits.items()}
    yaml_path.unlink()  # it may be a link to an operator's file: never write through it
    (root / "data.yaml").write_text(yaml.safe_dump({**canonical, "names": [str(n) for n in names]}, allow_unicode=True))
    report.classes = [str(n) for n in names]
    report.splits = {split: len(images_in(folder)) for split, folder in splits.items()}
    report.split_folders = splits
    report.task_types = [TaskType.OBJECT_DETECTION]
    if has_polygon_labels(splits["train"]):
        report.task_types.append(TaskType.INSTANCE_SEGMENTATION)
    _check_labels(root, splits, [str(n) for n in names], report)


def _yolo_from_classes_txt(root: Path, report: Report) -> None:
    """Label Studio's YOLO export -> images/<split>, labels/<split> and data.yaml."""
    names = [line.strip() for line in (root / "classes.txt").read_text(errors="replace").splitlines() if line.strip()]
    images = images_in(root / "images")
    if images:  # not split yet
        val = val_share(images)
        for image in images:
            split = "val" if image in val else "train"
            label = root / "labels" / f"{image.stem}.txt"
            move(image, root / "images" / split / image.name)
            if label.is_file():
                move(label, root / "labels" / split / label.name)
        report.notes.append(_split_note())
    data = {"train": "images/train", "val": "images/val", "names": names}
    (root / "data.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


def _yolo_images_folder(root: Path, raw: str) -> Path | None:
    """A split's folder as data.yaml names it, relative to the data set (exports often say ../train/images)."""
    for candidate in (raw, raw.removeprefix("../"), raw.removeprefix("./")):
        folder = (root / candidate).resolve()
        if folder.is_relative_to(root.resolve()) and folder.is_dir():
            return folder
    return None


def labels_folder(images: Path) -> Path:
    parts = list(images.parts)
    index = len(parts) - 1 - parts[::-1].index("images") if "images" in parts else None
    if index is None:
        return images
    parts[index] = "labels"
    return Path(*parts)


def has_polygon_labels(images: Path) -> bool:
    for label_file in sorted(labels_folder(images).glob("*.txt"))[:50]:
        for line in label_file.read_text(errors="replace").splitlines():
            if len(line.split()) > 5:
                return True
    return False


def _check_labels(root: Path, splits: dict[str, Path], names: list[str], report: Report) -> None:
    """Every label line (class in range, coordinates in 0..1), objects per class, and unpaired images and labels."""
    for split, images in splits.items():
        labels = labels_folder(images)
        if not labels.is_dir():
            report.problem(_relative(labels, root) + "/", f"No labels folder for the {split} images.", split=split)
            continue
        counts = report.class_counts.setdefault(split, dict.fromkeys(names, 0))
        label_files = sorted(labels.glob("*.txt"))
        for label_file in label_files:
            _check_label_file(label_file, _relative(label_file, root), split, names, counts, report)
        image_files = images_in(images)
        unpaired = [
            (
                image_files,
                label_files,
                FindingKind.IMAGE_WITHOUT_LABEL,
                "No label file: trained on as background.",
            ),
            (label_files, image_files, FindingKind.LABEL_WITHOUT_IMAGE, "No image with this name."),
        ]
        for files, partners, kind, problem in unpaired:
            stems = {partner.stem for partner in partners}
            for file in files:
                if file.stem not in stems:
                    report.problem(_relative(file, root), problem, kind=kind, split=split)


def _check_label_file(path: Path, name: str, split: str, names: list[str], counts: dict, report: Report) -> None:
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        report.problem(name, "Not a text file.", kind=FindingKind.BAD_LABEL, split=split)
        return
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        try:
            cls = int(fields[0])
            values = [float(v) for v in fields[1:]]
        except ValueError:
            problem = "Not a class number and coordinates."
        else:
            if not 0 <= cls < len(names):
                problem = f"Class {cls} is not one of the {len(names)} classes in data.yaml (0 to {len(names) - 1})."
            elif len(values) < 4 or len(values) % 2:
                problem = "A box needs four coordinates, a polygon pairs of them."
            elif outside := [v for v in values if not 0 <= v <= 1]:
                problem = f"Coordinate {outside[0]:g} is outside 0..1."
            else:
                counts[names[cls]] += 1
                continue
        report.problem(name, problem, kind=FindingKind.BAD_LABEL, split=split, line=number)


# COCO


def _coco_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            continue
        if isinstance(data, dict) and {"images", "annotations", "categories"} <= data.keys():
            found.append(path)
    return found


def _coco_split(path: Path) -> str | None:
    text = _relative(path, path.parents[1] if len(path.parents) > 1 else path.parent).lower()
    if "train" in text:
        return "train"
    if "val" in text or "valid" in text:
        return "val"
    if "test" in text:
        return "test"
    return None


def _convert_coco(root: Path, files: list[Path], report: Report) -> None:
    """COCO JSON -> images/<split>, labels/<split> and data.yaml, labels written by Ultralytics' converter."""
    splits = {_coco_split(path): path for path in files}
    if len(files) == 1 or not {"train", "val"} <= splits.keys():
        splits = {None: files[0]}
        if len(files) > 1:
            report.notes.append(f"Only {_relative(files[0], root)} is used: name the files by split (train, val).")
    images_by_name = {p.name: p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES}
    names = None
    with tempfile.TemporaryDirectory(dir=root.parent) as scratch:
        scratch = Path(scratch)
        for split, path in splits.items():
            data = json.loads(path.read_text())
            categories = sorted(data["categories"], key=lambda c: c["id"])
            split_names = [str(c["name"]) for c in categories]
            if names is not None and split_names != names:
                report.problem(_relative(path, root), "Its categories differ from the other split's.")
                return
            names = split_names
            # The converter numbers classes category_id - 1: renumber 1..n whatever the export started at.
            index = {c["id"]: i + 1 for i, c in enumerate(categories)}
            for annotation in data["annotations"]:
                if annotation.get("category_id") not in index:
                    report.problem(_relative(path, root), f"Annotation {annotation.get('id')} has an unknown category.")
                    return
                annotation["category_id"] = index[annotation["category_id"]]
            polygons = any(isinstance(a.get("segmentation"), list) and a["segmentation"] for a in data["annotations"])
            stem = f"part{len(list(scratch.glob('*.json')))}"
            (scratch / f"{stem}.json").write_text(json.dumps(data))
            labels = _run_converter(scratch, stem, polygons)
            assignment = _assign_splits(data["images"], split)
            for image in data["images"]:
                file_name = str(image["file_name"])
                source = images_by_name.get(Path(file_name).name)
                if source is None:
                    report.problem(_relative(path, root), f"{file_name} is listed but not in the data set.")
                    continue
                target_split = assignment[image["id"]]
                move(source, root / "images" / target_split / source.name)
                label = (labels / file_name).with_suffix(".txt")
                if label.is_file():
                    move(label, root / "labels" / target_split / f"{source.stem}.txt")
            (scratch / f"{stem}.json").unlink()
    if len(splits) == 1:
        report.notes.append(_split_note())
    (root / "data.yaml").write_text(
        yaml.safe_dump({"train": "images/train", "val": "images/val", "names": names}, allow_unicode=True)
    )


def _run_converter(scratch: Path, stem: str, polygons: bool) -> Path:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(settings.RUNS_DIR) / ".ultralytics"))
    from ultralytics.data.converter import convert_coco

    out = scratch / f"{stem}-yolo"
    convert_coco(labels_dir=str(scratch), save_dir=str(out), use_segments=polygons, cls91to80=False)
    return out / "labels" / stem


def _assign_splits(images: list[dict], split: str | None) -> dict:
    if split in ("train", "val"):
        return {image["id"]: split for image in images}
    if split == "test":
        return {image["id"]: "val" for image in images}
    val = val_share([image["id"] for image in images])
    return {image["id"]: ("val" if image["id"] in val else "train") for image in images}


def move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)


# Every file


def _check_files(root: Path, report: Report) -> None:
    """Every file: not an image, unreadable, truncated or too large; the same image in train and val; image sizes."""
    images = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() in OTHER_SUFFIXES:
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES:
            images.append(path)
        else:
            report.problem(
                _relative(path, root),
                "Not an image, a label or a data set description file.",
                kind=FindingKind.NOT_AN_IMAGE,
                split=_split_of(path, report),
            )
    # Decoding and hashing release the GIL: threads keep every core busy.
    with ThreadPoolExecutor(max_workers=CHECK_THREADS) as pool:
        inspected = []
        for result in pool.map(_inspect_image, images):
            inspected.append(result)
            if report.on_progress and len(inspected) % PROGRESS_EVERY == 0:
                report.on_progress(len(inspected) / len(images))
    first_in_train, sizes = {}, []
    for path, (kind, problem, size, digest) in zip(images, inspected, strict=True):
        split, name = _split_of(path, report), _relative(path, root)
        if kind:
            report.problem(name, problem, kind=kind, split=split)
            continue
        sizes.append(size)
        if split == "train":
            first_in_train.setdefault(digest, name)
        elif split == "val" and digest in first_in_train:
            report.problem(
                name, f"The same image as {first_in_train[digest]} in train.", kind=FindingKind.DUPLICATE, split=split
            )
    if sizes:
        smallest, largest = min(sizes, key=lambda s: s[0] * s[1]), max(sizes, key=lambda s: s[0] * s[1])
        report.image_sizes = {"smallest": f"{smallest[0]}×{smallest[1]}", "largest": f"{largest[0]}×{largest[1]}"}


def _inspect_image(path: Path) -> tuple[str, str, tuple[int, int], str]:
    """(finding kind or "", problem, (width, height), SHA-256) of one image, decoded in full."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is checked below
            with Image.open(path) as image:
                width, height = image.size
                if width * height > settings.MAX_IMAGE_PIXELS:
                    limit = settings.MAX_IMAGE_PIXELS
                    return (
                        FindingKind.TOO_MANY_PIXELS,
                        f"{width}×{height} pixels is over the limit of {limit:,}.",
                        (0, 0),
                        "",
                    )
                image.load()  # a truncated file fails here, not at open()
    except Image.DecompressionBombError as error:
        return FindingKind.TOO_MANY_PIXELS, str(error).split(" could be")[0] + ".", (0, 0), ""
    except (UnidentifiedImageError, OSError, ValueError) as error:
        reason = "it is truncated" if "truncated" in str(error) else "not a readable image"
        return FindingKind.UNREADABLE_IMAGE, f"Cannot be read: {reason}.", (0, 0), ""
    with open(path, "rb") as file:
        return "", "", (width, height), hashlib.file_digest(file, "sha256").hexdigest()


def _split_of(path: Path, report: Report) -> str:
    for split, folder in report.split_folders.items():
        if path.is_relative_to(folder):
            return split
    return ""
