"""Thumbnails of a checked version with its labels drawn: class names, YOLO boxes and polygons.

Drawn once, by the worker that checks the version, and kept in the storage
beside the archives; the version page shows them through an owner-only view.
"""

import io
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from datasets.layouts import Report, images_in, labels_folder

COUNT = 12
SIZE = 160
COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c"]


def make(root: Path, report: Report, content_hash: str) -> list[dict]:
    """Up to COUNT previews, val images first: [{"name": storage name, "caption": classes shown}]."""
    previews = []
    for index, image in enumerate(_sample(root, report)):
        try:
            data, caption = _draw(root, image, report)
        except OSError:  # unreadable: the findings say so already
            continue
        name = f"previews/{content_hash}/{index}.png"
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(data))
        previews.append({"name": name, "caption": caption})
    return previews


def _sample(root: Path, report: Report) -> list[Path]:
    images = []
    for split in ("val", "train"):
        folder = report.split_folders.get(split)
        if folder is None or not folder.is_dir():
            continue
        if report.format == "image_folder":  # one of each class in turn
            by_class = [images_in(d) for d in sorted(folder.iterdir()) if d.is_dir()]
            images += [group[i] for i in range(COUNT) for group in by_class if i < len(group)]
        else:
            images += images_in(folder)
    return images[:COUNT]


def _draw(root: Path, path: Path, report: Report) -> tuple[bytes, str]:
    with Image.open(path) as original:
        image = original.convert("RGB")
    scale = SIZE / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.NEAREST)
    draw = ImageDraw.Draw(image)
    if report.format == "image_folder":
        caption = path.parent.name
    else:
        caption = ", ".join(_draw_labels(draw, labels_folder(path.parent) / f"{path.stem}.txt", image.size, report))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), caption


def _draw_labels(draw: ImageDraw.ImageDraw, label: Path, size: tuple[int, int], report: Report) -> list[str]:
    """Draws each valid box or polygon of the label file; the names of their classes."""
    if not label.is_file():
        return []
    width, height = size
    shown = []
    for line in label.read_text(errors="replace").splitlines():
        try:
            cls, *values = line.split()
            cls, values = int(cls), [float(v) for v in values]
        except ValueError:
            continue
        if not 0 <= cls < len(report.classes) or len(values) < 4:
            continue
        colour = COLOURS[cls % len(COLOURS)]
        if len(values) == 4:
            cx, cy, w, h = values
            draw.rectangle([(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height],
                           outline=colour, width=2)  # fmt: skip
        else:
            points = [(x * width, y * height) for x, y in zip(values[::2], values[1::2], strict=False)]
            draw.polygon(points, outline=colour, width=2)
        if report.classes[cls] not in shown:
            shown.append(report.classes[cls])
    return shown
