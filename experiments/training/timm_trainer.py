"""Image classification with timm: a plain PyTorch loop over train/ and val/ class folders.

accuracy = top-1 accuracy on val/; loss = cross-entropy on val/. Images come
as uint8 batches on the device (see images.py); on CUDA the model runs in
bf16 autocast and channels-last.
"""

import time
from pathlib import Path

import timm
import torch
from torch import nn

from experiments.models import TrainingJob
from experiments.training.hardware import Acceleration
from experiments.training.images import Split, to_model_input
from experiments.training.types import Reporter, Result, TrainingError

DEFAULT_IMAGE_SIZE = 64
# The checkpoint is written when the run ends and at most this often meanwhile: after every epoch it took
# about 1% of a resnet18 epoch on our 2-core CPU (49 ms of 5 s).
CHECKPOINT_EVERY_SECONDS = 60


def train(job: TrainingJob, dataset: Path, run_dir: Path, device: str, reporter: Reporter) -> Result:
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
    accuracy = val_loss = None
    checkpointed = time.monotonic()

    def model_input(images, augmentation=None):
        return to_model_input(images, augmentation, channels_last=acceleration.channels_last)

    for epoch in range(1, job.epochs + 1):
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
        if epoch == job.epochs or time.monotonic() - checkpointed >= CHECKPOINT_EVERY_SECONDS:
            checkpoint = {"model": model.state_dict(), "classes": train_set.classes, "epoch": epoch}
            torch.save(checkpoint, run_dir / "last.pt")
            checkpointed = time.monotonic()
        reporter.epoch_end(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            accuracy=accuracy,
            duration_seconds=time.monotonic() - started,
            images_per_second=images_per_second,
        )
    return Result(accuracy=accuracy, loss=val_loss)
