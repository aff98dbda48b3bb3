"""Detection, segmentation (and -cls classification) with Ultralytics' own trainer, fully offline.

accuracy = box mAP50 (detection), mask mAP50 (segmentation) or top-1 (-cls),
from the validation after each epoch; at the end, from Ultralytics' final
validation of the best weights. loss = the sum of the validation losses
(box + cls + dfl, + seg for segmentation).

Ultralytics writes weights/last.pt and best.pt after every epoch; the last
checkpoint is stored at most every TRAINING_CHECKPOINT_SECONDS, and a resume
goes through Ultralytics' own `resume`. When the run ends both are copied
into the run folder as best.pt and last.pt.
"""

import os
import shutil
import time
from pathlib import Path

import torch
from django.conf import settings

from datasets.layouts import IMAGE_SUFFIXES
from experiments.models import TrainingJob
from experiments.training.hardware import Acceleration
from experiments.training.images import loader_workers
from experiments.training.types import Reporter, Result, Start, TrainingCancelled

Task = TrainingJob.TaskType
ACCURACY_KEYS = {
    Task.OBJECT_DETECTION: "metrics/mAP50(B)",
    Task.INSTANCE_SEGMENTATION: "metrics/mAP50(M)",
    Task.IMAGE_CLASSIFICATION: "metrics/accuracy_top1",
}
DEFAULT_IMAGE_SIZE = 128
Augmentation = TrainingJob.Augmentation
# Our presets in Ultralytics' terms; "standard" is Ultralytics' own defaults.
AUGMENTATION_ARGS = {
    Augmentation.NONE: {
        "fliplr": 0.0, "mosaic": 0.0, "translate": 0.0, "scale": 0.0, "hsv_h": 0.0, "hsv_s": 0.0, "hsv_v": 0.0,
        "erasing": 0.0, "auto_augment": None,
    },
    Augmentation.LIGHT: {
        "fliplr": 0.0, "mosaic": 0.0, "translate": 0.0625, "scale": 0.1, "hsv_h": 0.0, "hsv_s": 0.1, "hsv_v": 0.1,
        "erasing": 0.0, "auto_augment": None,
    },
}  # fmt: skip


def configure_offline() -> None:
    """Nothing may reach the network: no downloads, no installs, no telemetry, no logger integrations."""
    config_dir = Path(settings.RUNS_DIR) / ".ultralytics"
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    # Ultralytics checks for its plotting font on every train and val and
    # downloads it when missing; a local DejaVu font under its name will do.
    import matplotlib

    dejavu = Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if not (config_dir / name).exists():
            shutil.copy(dejavu, config_dir / name)
    from ultralytics import settings as yolo_settings

    yolo_settings.update(
        {
            "sync": False,
            "clearml": False,
            "comet": False,
            "dvc": False,
            "mlflow": False,
            "raytune": False,
            "tensorboard": False,
            "wandb": False,
            "runs_dir": str(Path(settings.RUNS_DIR)),
            "datasets_dir": str(Path(settings.DATASETS_ROOT)),
            "weights_dir": str(config_dir / "weights"),
        }
    )


def train(job: TrainingJob, dataset: Path, run_dir: Path, device: str, reporter: Reporter, start: Start) -> Result:
    configure_offline()
    from ultralytics import YOLO

    weights = run_dir / "ultralytics" / "weights"
    if start.checkpoint:
        weights.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(start.checkpoint, weights / "last.pt")
        if start.best:
            shutil.copyfile(start.best, weights / "best.pt")
        model = YOLO(str(weights / "last.pt"))
    else:
        model = YOLO(f"{job.model_name}.yaml", task=_yolo_task(job.task_type))
    accuracy_key = ACCURACY_KEYS[job.task_type]
    image_size = job.image_size or DEFAULT_IMAGE_SIZE
    acceleration = Acceleration.for_device(device)
    state = {"reported": 0, "accuracy": None, "loss": None, "epoch_started": 0.0, "images_per_second": None,
             "checkpointed": time.monotonic()}  # fmt: skip

    def stop_if_cancelled(trainer_or_validator):
        if reporter.should_stop():
            raise TrainingCancelled

    def on_pretrain_routine_end(trainer):
        if trainer.start_epoch:  # resumed by Ultralytics after this many epochs
            state["reported"] = trainer.start_epoch
            reporter.resumed(epoch=trainer.start_epoch)

    def on_train_epoch_start(trainer):
        reporter.epoch_start()
        state["epoch_started"] = time.monotonic()

    def on_train_epoch_end(trainer):
        images = len(trainer.train_loader.dataset)
        state["images_per_second"] = images / (time.monotonic() - state["epoch_started"])
        reporter.train_end()

    def on_fit_epoch_end(trainer):
        epoch = trainer.epoch + 1
        metrics = trainer.metrics or {}
        accuracy = metrics.get(accuracy_key)
        if epoch > job.epochs or epoch <= state["reported"]:
            # Ultralytics' final validation of the best weights: the final accuracy.
            state["accuracy"] = accuracy if accuracy is not None else state["accuracy"]
            return
        val_losses = [float(v) for k, v in metrics.items() if k.startswith("val/")]
        val_loss = sum(val_losses) if val_losses else None
        train_loss = _total(getattr(trainer, "tloss", None))
        state.update(reported=epoch, accuracy=accuracy, loss=val_loss)
        reporter.epoch_end(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            accuracy=None if accuracy is None else float(accuracy),
            duration_seconds=time.monotonic() - state["epoch_started"],
            images_per_second=state["images_per_second"],
        )
        # After the epoch is recorded: a stored checkpoint is never ahead of the recorded epochs.
        if trainer.last.is_file() and time.monotonic() - state["checkpointed"] >= settings.TRAINING_CHECKPOINT_SECONDS:
            reporter.checkpoint_saved(trainer.last, trainer.best)
            state["checkpointed"] = time.monotonic()

    model.add_callback("on_train_batch_end", stop_if_cancelled)
    model.add_callback("on_val_batch_end", stop_if_cancelled)
    model.add_callback("on_pretrain_routine_end", on_pretrain_routine_end)
    model.add_callback("on_train_epoch_start", on_train_epoch_start)
    model.add_callback("on_train_epoch_end", on_train_epoch_end)
    model.add_callback("on_fit_epoch_end", on_fit_epoch_end)
    data = dataset if job.task_type == Task.IMAGE_CLASSIFICATION else dataset / "data.yaml"
    # What a resume may change (the machine's side); the rest comes from the checkpoint.
    where = {
        "data": str(data),
        "device": device,
        "workers": loader_workers(),
        "cache": "ram" if _fits_cache(dataset, image_size) else False,
    }
    try:
        if start.checkpoint:
            model.train(resume=True, save_dir=str(run_dir / "ultralytics"), **where)
        else:
            model.train(
                epochs=job.epochs,
                batch=job.batch_size,
                imgsz=image_size,
                lr0=job.learning_rate,
                project=str(run_dir),
                name="ultralytics",
                exist_ok=True,
                pretrained=str(start.weights) if start.weights else False,
                # bf16 where the GPU has it; fp16 ("amp=True") would run Ultralytics' AMP check, which downloads
                # weights.
                amp="bf16" if acceleration.amp_dtype == torch.bfloat16 else False,
                plots=False,
                verbose=False,
                seed=job.id,
                deterministic=False,
                **where,
                **AUGMENTATION_ARGS.get(job.augmentation, {}),
            )
    finally:
        for name in ("best.pt", "last.pt"):
            if (weights / name).is_file():
                shutil.copyfile(weights / name, run_dir / name)
    accuracy = state["accuracy"]
    return Result(accuracy=None if accuracy is None else float(accuracy), loss=state["loss"])


def _fits_cache(dataset: Path, image_size: int) -> bool:
    """Whether the training images, decoded at the training size, fit TRAINING_CACHE_MB (Ultralytics' "ram"
    cache; it checks the machine's free memory too)."""
    images = sum(1 for path in dataset.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES)
    return images * 3 * image_size * image_size <= settings.TRAINING_CACHE_MB * 1024 * 1024


def _total(losses) -> float | None:
    """The trainer's running loss: a tensor of loss items, or a dict of them in newer releases."""
    if losses is None:
        return None
    if isinstance(losses, dict):
        return float(sum(float(v) for v in losses.values()))
    return float(losses.sum())


def _yolo_task(task_type: str) -> str:
    return {Task.OBJECT_DETECTION: "detect", Task.INSTANCE_SEGMENTATION: "segment"}.get(task_type, "classify")
