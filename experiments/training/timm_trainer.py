"""Image classification with timm: a plain PyTorch loop over an ImageFolder.

accuracy = top-1 accuracy on val/; loss = cross-entropy on val/.
"""

import time
from pathlib import Path

import timm
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from experiments.models import TrainingJob
from experiments.training.types import Reporter, Result, TrainingError

DEFAULT_IMAGE_SIZE = 64
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def train(job: TrainingJob, dataset: Path, run_dir: Path, device: str, reporter: Reporter) -> Result:
    size = job.image_size or DEFAULT_IMAGE_SIZE
    train_set = datasets.ImageFolder(dataset / "train", _transform(size, augment=True))
    val_set = datasets.ImageFolder(dataset / "val", _transform(size, augment=False))
    if train_set.classes != val_set.classes:
        raise TrainingError("The val classes differ from the train classes")
    train_loader = DataLoader(
        train_set, batch_size=job.batch_size, shuffle=True, num_workers=0, drop_last=len(train_set) > job.batch_size
    )
    val_loader = DataLoader(val_set, batch_size=job.batch_size, num_workers=0)

    torch.manual_seed(job.id)
    model = timm.create_model(job.model_name, pretrained=False, num_classes=len(train_set.classes)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=job.learning_rate)
    criterion = nn.CrossEntropyLoss()
    accuracy = val_loss = None

    for epoch in range(1, job.epochs + 1):
        started = time.monotonic()
        model.train()
        train_loss_sum, train_seen = 0.0, 0
        for images, labels in train_loader:
            reporter.check_cancelled()
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            train_loss_sum += loss.item() * len(labels)
            train_seen += len(labels)

        model.eval()
        val_loss_sum, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for images, labels in val_loader:
                reporter.check_cancelled()
                images, labels = images.to(device), labels.to(device)
                logits = model(images)
                val_loss_sum += criterion(logits, labels).item() * len(labels)
                correct += (logits.argmax(dim=1) == labels).sum().item()
                seen += len(labels)
        accuracy, val_loss = correct / seen, val_loss_sum / seen
        torch.save({"model": model.state_dict(), "classes": train_set.classes, "epoch": epoch}, run_dir / "last.pt")
        reporter.epoch_end(
            epoch=epoch,
            train_loss=train_loss_sum / max(train_seen, 1),
            val_loss=val_loss,
            accuracy=accuracy,
            duration_seconds=time.monotonic() - started,
        )
    return Result(accuracy=accuracy, loss=val_loss)


def _transform(size: int, augment: bool):
    steps = [transforms.Resize((size, size))]
    if augment:
        steps.append(transforms.RandomHorizontalFlip())
    steps += [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    return transforms.Compose(steps)
