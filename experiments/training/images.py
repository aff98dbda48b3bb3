"""Classification images as uint8 tensors: decoded once, cached per dataset folder and size, augmented on the device.

A dataset that fits TRAINING_CACHE_MB is decoded once (in parallel), kept in
a file beside the runs and loaded whole onto the training device; each epoch
then only indexes it. A larger one streams through DataLoader workers with
pinned memory. Either way a batch arrives as uint8 on the device, where
`to_model_input` scales, augments and normalises it, so the CPU does nothing
per image that the device can do.
"""

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import torch
from django.conf import settings
from torch.nn import functional
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as images_functional

from experiments.models import TrainingJob

logger = logging.getLogger(__name__)

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
Augmentation = TrainingJob.Augmentation
DECODE_BATCH = 256


class DecodedImageFolder(datasets.ImageFolder):
    """An ImageFolder whose items are uint8 (3, size, size) tensors, resized as the trainer always did."""

    def __init__(self, root: Path, size: int):
        super().__init__(str(root))
        self.size = size

    def __getitem__(self, index):
        path, label = self.samples[index]
        image = images_functional.pil_to_tensor(self.loader(path))
        image = images_functional.resize(image, [self.size, self.size], InterpolationMode.BILINEAR, antialias=True)
        return image, label


class Split:
    """The images of train/ or val/ and how to walk through them in batches on `device`."""

    def __init__(self, root: Path, size: int, device: str):
        self.folder = DecodedImageFolder(root, size)
        self.classes = self.folder.classes
        self.device = torch.device(device)
        self.cached: tuple[torch.Tensor, torch.Tensor] | None = None
        if _bytes_needed(len(self.folder), size) <= settings.TRAINING_CACHE_MB * 1024 * 1024:
            images, labels = _load_or_decode(self.folder)
            self.cached = images.to(self.device), labels.to(self.device)
        self._loaders: dict[tuple[int, bool, bool], DataLoader] = {}

    def __len__(self) -> int:
        return len(self.folder)

    def batches(self, batch_size: int, *, shuffle: bool, drop_last: bool = False) -> Iterator[tuple]:
        """(uint8 images, labels) on the device."""
        if self.cached is not None:
            images, labels = self.cached
            order = torch.randperm(len(labels), device=self.device) if shuffle else None
            stop = len(labels) - len(labels) % batch_size if drop_last else len(labels)
            for start in range(0, stop, batch_size):
                if order is None:
                    yield images[start : start + batch_size], labels[start : start + batch_size]
                else:
                    chosen = order[start : start + batch_size]
                    yield images[chosen], labels[chosen]
            return
        for images, labels in self._loader(batch_size, shuffle, drop_last):
            yield images.to(self.device, non_blocking=True), labels.to(self.device, non_blocking=True)

    def _loader(self, batch_size: int, shuffle: bool, drop_last: bool) -> DataLoader:
        key = (batch_size, shuffle, drop_last)
        if key not in self._loaders:
            workers = loader_workers()
            self._loaders[key] = DataLoader(
                self.folder,
                batch_size=batch_size,
                shuffle=shuffle,
                drop_last=drop_last,
                num_workers=workers,
                pin_memory=self.device.type == "cuda",
                persistent_workers=workers > 0,
            )
        return self._loaders[key]


def loader_workers() -> int:
    """TRAINING_DATALOADER_WORKERS, or as many as suit the cores this process may use."""
    if settings.TRAINING_DATALOADER_WORKERS is not None:
        return settings.TRAINING_DATALOADER_WORKERS
    return workers_for_cores(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())


def workers_for_cores(cores: int | None) -> int:
    """None below 4 cores, where they would only compete with the training's own threads; otherwise all
    cores but two (the training and its monitor), at most 8."""
    cores = cores or 1
    return 0 if cores < 4 else min(8, cores - 2)


def to_model_input(images: torch.Tensor, augmentation: str | None, *, channels_last: bool) -> torch.Tensor:
    """uint8 (N, 3, H, W) on the device -> normalised float, augmented as the preset says."""
    batch = images.float().div_(255)
    if augmentation in (Augmentation.LIGHT, Augmentation.STANDARD):
        batch = augment(batch, augmentation)
    mean = torch.tensor(MEAN, device=batch.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=batch.device).view(1, 3, 1, 1)
    batch = (batch - mean) / std
    return batch.contiguous(memory_format=torch.channels_last) if channels_last else batch


def augment(batch: torch.Tensor, augmentation: str) -> torch.Tensor:
    """Each image its own random transform, all in one affine resampling of the batch:

    light: shifted by up to 1/16 of its size, brightness and contrast within 10%; never flipped.
    standard: a random crop of 50-100% of its area, flipped left-right half of the time,
    brightness and contrast within 20%.
    """
    count, device = batch.shape[0], batch.device

    def uniform(low, high):
        return torch.empty(count, device=device).uniform_(low, high)

    if augmentation == Augmentation.STANDARD:
        scale = uniform(0.5, 1.0).sqrt()  # the side of a crop of that area
        shift_x, shift_y = (uniform(-1, 1) * (1 - scale) for _ in range(2))
        flip = torch.where(torch.rand(count, device=device) < 0.5, -1.0, 1.0)
        jitter = 0.2
    else:
        scale = torch.ones(count, device=device)
        shift_x, shift_y = uniform(-0.125, 0.125), uniform(-0.125, 0.125)  # 1/16 of the side, in [-1, 1] units
        flip = torch.ones(count, device=device)
        jitter = 0.1
    theta = torch.zeros(count, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 0, 2] = scale * flip, shift_x
    theta[:, 1, 1], theta[:, 1, 2] = scale, shift_y
    grid = functional.affine_grid(theta, list(batch.shape), align_corners=False)
    batch = functional.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=False)
    brightness = uniform(1 - jitter, 1 + jitter).view(-1, 1, 1, 1)
    contrast = uniform(1 - jitter, 1 + jitter).view(-1, 1, 1, 1)
    means = batch.mean(dim=(1, 2, 3), keepdim=True)
    return ((batch - means) * contrast + means * brightness).clamp_(0, 1)


def _bytes_needed(count: int, size: int) -> int:
    return count * 3 * size * size


def _load_or_decode(folder: DecodedImageFolder) -> tuple[torch.Tensor, torch.Tensor]:
    """The folder's images and labels, from the cache file when one matches its files and the size."""
    path = _cache_path(folder)
    if path.exists():
        try:
            cached = torch.load(path, weights_only=True)
            return cached["images"], cached["labels"]
        except Exception:
            logger.warning("Decoding %s again: its cache %s could not be read", folder.root, path, exc_info=True)
    workers = loader_workers()
    loader = DataLoader(folder, batch_size=DECODE_BATCH, num_workers=workers)
    images = torch.empty(len(folder), 3, folder.size, folder.size, dtype=torch.uint8)
    labels = torch.tensor(folder.targets, dtype=torch.long)
    done = 0
    for batch, _labels in loader:
        images[done : done + len(batch)] = batch
        done += len(batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    torch.save({"images": images, "labels": labels}, partial)
    partial.replace(path)  # atomic: another worker reading it sees all of it or nothing
    return images, labels


def _cache_path(folder: DecodedImageFolder) -> Path:
    """Named by the folder's files (paths, sizes, modification times) and the image size, so that a
    changed folder is decoded again; a dataset version's folder never changes."""
    fingerprint = hashlib.sha256(f"{folder.root}\n{folder.size}\n".encode())
    for file_path, label in folder.samples:
        stat = os.stat(file_path)
        fingerprint.update(f"{file_path}\t{label}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return Path(settings.RUNS_DIR) / ".decoded" / f"{fingerprint.hexdigest()[:32]}.pt"
