import math
import random
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from datasets.checks import check_version
from datasets.models import DatasetVersion
from datasets.services import register_folder

CLASSES = ["circle", "square"]


class Command(BaseCommand):
    help = (
        "Writes small synthetic datasets of drawn shapes under DATASETS_ROOT: shapes-cls (a 2-class "
        "ImageFolder), shapes-det (YOLO boxes) and shapes-seg (YOLO polygons). Existing ones are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=200, help="Images per dataset (a fifth go to val).")
        parser.add_argument("--root", default=None, help="Where to write them (default: DATASETS_ROOT).")
        parser.add_argument("--overwrite", action="store_true")
        parser.add_argument(
            "--register-for", metavar="USERNAME", help="Also make each one a checked dataset version of this user's."
        )

    def handle(self, *args, images, root, overwrite, register_for, **options):
        root = Path(root or settings.DATASETS_ROOT)
        for name, writer in (("shapes-cls", write_classification), ("shapes-det", write_detection),
                             ("shapes-seg", write_segmentation)):  # fmt: skip
            target = root / name
            if target.exists() and not overwrite:
                self.stdout.write(f"{target} exists; kept")
                continue
            writer(target, images, random.Random(name))
            self.stdout.write(self.style.SUCCESS(f"{target}: {images} images"))
        if register_for:
            self.register(root, get_user_model().objects.get(username=register_for))

    def register(self, root: Path, owner) -> None:
        """Each set as a version of the owner's dataset of the same name, checked here (no worker needed)."""
        for name in ("shapes-cls", "shapes-det", "shapes-seg"):
            if DatasetVersion.objects.filter(dataset__owner=owner, dataset__name=name).exists():
                continue
            version = check_version(register_folder(owner=owner, name=name, path=str(root / name)).id)
            self.stdout.write(f"{version.label}: {version.get_status_display()}")


def split_of(index: int, total: int) -> str:
    return "val" if index >= total - max(2, total // 5) else "train"


def colour(rng: random.Random, dark: bool) -> tuple[int, int, int]:
    low, high = (0, 110) if dark else (150, 255)
    return tuple(rng.randint(low, high) for _ in range(3))


def draw_shape(draw, shape: str, cx: float, cy: float, r: float, fill) -> list[tuple[float, float]]:
    """Draws the shape and returns its outline as a polygon."""
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        return [(cx + r * math.cos(a), cy + r * math.sin(a)) for a in (i * math.pi / 8 for i in range(16))]
    draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
    return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]


def write_classification(target: Path, count: int, rng: random.Random, size: int = 64) -> None:
    from PIL import Image, ImageDraw

    for i in range(count):
        shape = CLASSES[i % 2]
        folder = target / split_of(i, count) / shape
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", (size, size), colour(rng, dark=False))
        r = rng.uniform(size * 0.15, size * 0.35)
        cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
        draw_shape(ImageDraw.Draw(image), shape, cx, cy, r, colour(rng, dark=True))
        image.save(folder / f"{i:04d}.png")


def write_detection(target: Path, count: int, rng: random.Random) -> None:
    write_yolo(target, count, rng, polygons=False)


def write_segmentation(target: Path, count: int, rng: random.Random) -> None:
    write_yolo(target, count, rng, polygons=True)


def write_yolo(target: Path, count: int, rng: random.Random, polygons: bool, size: int = 128) -> None:
    from PIL import Image, ImageDraw

    for i in range(count):
        split = split_of(i, count)
        (target / "images" / split).mkdir(parents=True, exist_ok=True)
        (target / "labels" / split).mkdir(parents=True, exist_ok=True)
        image = Image.new("RGB", (size, size), colour(rng, dark=False))
        draw = ImageDraw.Draw(image)
        lines = []
        for _ in range(rng.randint(1, 3)):
            class_id = rng.randrange(len(CLASSES))
            r = rng.uniform(size * 0.08, size * 0.2)
            cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
            outline = draw_shape(draw, CLASSES[class_id], cx, cy, r, colour(rng, dark=True))
            if polygons:
                points = " ".join(f"{x / size:.5f} {y / size:.5f}" for x, y in outline)
                lines.append(f"{class_id} {points}")
            else:
                lines.append(f"{class_id} {cx / size:.5f} {cy / size:.5f} {2 * r / size:.5f} {2 * r / size:.5f}")
        image.save(target / "images" / split / f"{i:04d}.png")
        (target / "labels" / split / f"{i:04d}.txt").write_text("\n".join(lines) + "\n")
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    (target / "data.yaml").write_text(f"train: images/train\nval: images/val\nnames:\n{names}\n")
