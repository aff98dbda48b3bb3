"""Image classification with timm: a plain PyTorch loop over train/ and val/ class folders.

accuracy = top-1 accuracy on val/; loss = cross-entropy on val/. Images come
as uint8 batches on the device (see images.py); on CUDA the model runs in
bf16 autocast and channels-last.

Files in the run folder: best.pt (the weights of the most accurate epoch,
written when an epoch beats the best so far) and last.pt (model, optimizer
and epoch: what a resume restores), written when the run ends and at most
every TRAINING_CHECKPOINT_SECONDS meanwhile. After every epoch it took about
1% of a resnet18 epoch on our 2-core CPU (49 ms of 5 s).
"""

import logging
import shutil
import time
from pathlib import Path

import timm
import torch
from django.conf import settings
from torch import nn

from experiments.models import TrainingJob
from experiments.training.hardware import Acceleration
from experiments.training.images import Split, to_model_input
from experiments.training.types import Reporter, Result, Start, TrainingError

logger = logging.getLogger(__name__)
DEFAULT_IMAGE_SIZE = 64


def train(job: TrainingJob, dataset: Path, run_dir: Path, device: str, reporter: Reporter, start: Start) -> Result:
    size = job.image_size or DEFAULT_IMAGE_SIZE
    torch.manual_seed(job.id)
    acceleration = Acceleration.for_device(device)
    train_set = Split(dataset / "train", size, device)
    val_set = Split(dataset / "val", size, device)
    if train_set.classes != val_set.classes:
        raise TrainingError("The val classes differ from the train classes")

    model = timm.create_model(job.model_name, pretrained=False, num_classes=len(train_set.classes)).to(device)
    if acceleration.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=job.learning_rate)
    criterion = nn.CrossEntropyLoss()
    accuracy = val_loss = best_accuracy = None
    first_epoch = 1
    if start.checkpoint:
        checkpoint = torch.load(start.checkpoint, map_location=device, weights_only=True)
        if checkpoint.get("classes") != train_set.classes:
            raise TrainingError("The dataset's classes changed since the checkpoint: it cannot be resumed")
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        first_epoch, best_accuracy = checkpoint["epoch"] + 1, checkpoint.get("best_accuracy")
        accuracy, val_loss = checkpoint.get("accuracy"), checkpoint.get("val_loss")
        if start.best:
            shutil.copyfile(start.best, run_dir / "best.pt")
        reporter.resumed(epoch=checkpoint["epoch"])
    elif start.weights:
        load_fitting_weights(model, start.weights)
    checkpointed = time.monotonic()

    def model_input(images, augmentation=None):
        return to_model_input(images, augmentation, channels_last=acceleration.channels_last)

    for epoch in range(first_epoch, job.epochs + 1):
        reporter.epoch_start()
        started = time.monotonic()
        model.train()
        # Sums stay on the device: reading a loss every batch would make the CPU wait for the GPU.
        train_loss_sum, train_seen = torch.zeros((), device=device), 0
        drop_last = len(train_set) > job.batch_size
        for images, labels in train_set.batches(job.batch_size, shuffle=True, drop_last=drop_last):
            reporter.check_cancelled()
            optimizer.zero_grad(set_to_none=True)
            with acceleration.autocast():
                loss = criterion(model(model_input(images, job.augmentation)), labels)
            loss.backward()
            optimizer.step()
            train_loss_sum += loss.detach() * len(labels)
            train_seen += len(labels)
        train_loss = train_loss_sum.item() / max(train_seen, 1)  # waits for the last batch
        images_per_second = train_seen / (time.monotonic() - started)
        reporter.train_end()

        model.eval()
        val_loss_sum, correct, seen = torch.zeros((), device=device), torch.zeros((), device=device), 0
        with torch.no_grad(), acceleration.autocast():
            for images, labels in val_set.batches(job.batch_size, shuffle=False):
                reporter.check_cancelled()
                logits = model(model_input(images)).float()
                val_loss_sum += criterion(logits, labels) * len(labels)
                correct += (logits.argmax(dim=1) == labels).sum()
                seen += len(labels)
        accuracy, val_loss = correct.item() / seen, val_loss_sum.item() / seen
        # Recorded before the checkpoint is written: a checkpoint is never ahead of the recorded epochs.
        reporter.epoch_end(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            accuracy=accuracy,
            duration_seconds=time.monotonic() - started,
            images_per_second=images_per_second,
        )
        about = {"model_name": job.model_name, "classes": train_set.classes, "image_size": size, "epoch": epoch}
        if best_accuracy is None or accuracy > best_accuracy:
            best_accuracy = accuracy
            torch.save({"model": model.state_dict(), "accuracy": accuracy, **about}, run_dir / "best.pt")
        if epoch == job.epochs or time.monotonic() - checkpointed >= settings.TRAINING_CHECKPOINT_SECONDS:
            checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), **about,
                          "accuracy": accuracy, "val_loss": val_loss, "best_accuracy": best_accuracy}  # fmt: skip
            torch.save(checkpoint, run_dir / "last.pt")
            reporter.checkpoint_saved(run_dir / "last.pt", run_dir / "best.pt")
            checkpointed = time.monotonic()
    return Result(accuracy=accuracy, loss=val_loss)


def load_fitting_weights(model: nn.Module, path: Path) -> None:
    """Loads the tensors of a weights file that fit the model; the others (a classifier for other classes)
    keep their fresh values. Refused when most do not fit: those are another model's weights."""
    state = read_state_dict(path)
    own = model.state_dict()
    fitting = {key: value for key, value in state.items() if key in own and own[key].shape == value.shape}
    if len(fitting) < len(own) / 2:
        raise TrainingError(f"The weights in {path.name} do not fit this model: {len(fitting)} of {len(own)} match")
    model.load_state_dict(fitting, strict=False)
    fresh = [key for key in own if key not in fitting]
    logger.info(
        "Started from %s: %d of %d tensors loaded%s", path.name, len(fitting), len(own),
        f"; new: {', '.join(fresh)}" if fresh else "",
    )  # fmt: skip


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from safetensors, a plain .pth/.bin, or one of our best.pt files."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise TrainingError(f"{path.name} is not a weights file torch can read safely") from error
    for key in ("model", "state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            return data[key]
    return data
