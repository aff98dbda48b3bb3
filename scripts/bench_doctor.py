"""The dataset doctor on a 10,000-image data set: how long a worker's check takes.

    .venv/bin/python scripts/bench_doctor.py                 # 10,000 images of 64×64 px, YOLO detection
    .venv/bin/python scripts/bench_doctor.py --images 1000 --size 640   # fewer, larger images

Writes a zip of synthetic images with one box each (and a few problems: a
truncated image, a label line out of range, an image without labels), then
runs what the checking worker runs, in this process: unpack
(archives.extract), then prepare and check every file (layouts.prepare), with
its threads and with one. Prints seconds per step and the ratio of one thread
to all of them. Figures, not a test.
"""

import argparse
import io
import os
import platform
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
os.environ.setdefault("DEBUG", "1")


def write_archive(path: Path, images: int, size: int) -> None:
    from PIL import Image, ImageDraw

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("data.yaml", "train: images/train\nval: images/val\nnames: [circle, square]\n")
        for i in range(images):
            split = "val" if i % 5 == 0 else "train"
            image = Image.effect_noise((size, size), 40 + i % 20).convert("RGB")  # noise: PNG's worst case
            ImageDraw.Draw(image).ellipse(
                [size // 6 + i % 20, size // 6, size * 2 // 3, size * 2 // 3], fill=(250, 0, 0)
            )
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            data = buffer.getvalue()
            label = f"{i % 2} 0.4 0.4 0.3 0.3\n"
            if i == 1:
                data = data[: len(data) // 2]  # truncated
            if i == 2:
                label = "9 0.4 0.4 0.3 0.3\n"  # class out of range
            archive.writestr(f"images/{split}/{i:05}.png", data)
            if i != 3:  # an image without labels
                archive.writestr(f"labels/{split}/{i:05}.txt", label)


def timed(step) -> tuple[float, object]:
    started = time.perf_counter()
    result = step()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64, help="Width and height of each image, in pixels.")
    args = parser.parse_args()

    import django

    django.setup()
    from datasets import archives, layouts

    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {args.images:,} images of {args.size} px"
    )
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        archive = scratch / "data.zip"
        seconds, _ = timed(lambda: write_archive(archive, args.images, args.size))
        print(f"writing the archive ({archive.stat().st_size / 1e6:.1f} MB): {seconds:.1f} s")
        results = {}
        for threads in (layouts.CHECK_THREADS, 1):
            folder = scratch / f"data-{threads}"
            with open(archive, "rb") as file:
                unpack, _ = timed(lambda: archives.extract(file, archive.stat().st_size, folder))  # noqa: B023
            layouts.CHECK_THREADS = threads
            check, (_root, report) = timed(lambda: layouts.prepare(folder))  # noqa: B023
            results[threads] = (unpack, check)
            kinds = sorted({finding["kind"] for finding in report.findings})
            print(
                f"{threads} thread(s): unpack {unpack:.1f} s, prepare and check {check:.1f} s "
                f"({args.images / check:,.0f} images/s), findings {len(report.findings)} ({', '.join(kinds)})"
            )
            shutil.rmtree(folder)
        (_, parallel), (_, serial) = results[max(results)], results[1]
        print(f"check with {max(results)} threads: {serial / parallel:.2f}× faster than with 1")
        print(f"unpack + check, as a worker runs them: {sum(results[max(results)]):.1f} s")


if __name__ == "__main__":
    main()
