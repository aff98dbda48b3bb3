"""The worker's side of a trained model: its best weights fetched from the storage and loaded to predict, and
the validation images of its dataset. Imported by workers only (torch)."""

from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as images_functional

from datasets.layouts import IMAGE_SUFFIXES
from experiments import run_files
from experiments.datasets import read_yolo_yaml
from experiments.models import RunFile, TrainingJob
from experiments.training.images import to_model_input
from experiments.training.types import TrainingError

Task = TrainingJob.TaskType


def best_weights(job: TrainingJob) -> tuple[Path, str]:
    """The experiment's best.pt on this worker's disk, and its SHA-256."""
    stored = job.files.filter(name=RunFile.Name.BEST_WEIGHTS).first()
    if stored is None:
        raise TrainingError("The experiment has no stored best weights")
    return run_files.fetch(stored, job.run_dir / "serving" / "best.pt"), stored.sha256


def val_images(job: TrainingJob, dataset: Path) -> list[Path]:
    """The dataset's validation images, in a fixed order."""
    if job.task_type == Task.IMAGE_CLASSIFICATION:
        folder = dataset / "val"
    else:
        data = read_yolo_yaml(dataset)
        base = Path(str(data.get("path") or dataset))
        folder = (base if base.is_absolute() else dataset / base) / str(data["val"])
    return sorted(path for path in folder.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES)


def val_label(image: Path) -> str:
    """The class folder of a classification validation image."""
    return image.parent.name


class TimmClassifier:
    """A timm classifier from one of our best.pt files, preparing images as its training did."""

    def __init__(self, job: TrainingJob, weights: Path):
        import timm

        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
        self.classes = checkpoint["classes"]
        self.size = checkpoint["image_size"]
        self.model = timm.create_model(job.model_name, pretrained=False, num_classes=len(self.classes))
        self.model.load_state_dict(checkpoint["model"])
        self.model.eval()

    def model_input(self, images: list[Image.Image]) -> torch.Tensor:
        """A float batch, as the trainer fed the model (resized, scaled and normalised)."""
        batch = torch.stack([self._resized(image) for image in images])
        return to_model_input(batch, None, channels_last=False)

    def _resized(self, image: Image.Image) -> torch.Tensor:
        tensor = images_functional.pil_to_tensor(image.convert("RGB"))
        return images_functional.resize(tensor, [self.size, self.size], InterpolationMode.BILINEAR, antialias=True)

    def predict(self, image: Image.Image) -> tuple[dict, Image.Image]:
        with torch.no_grad():
            probabilities = self.model(self.model_input([image])).softmax(dim=1)[0]
        top = probabilities.topk(min(5, len(self.classes)))
        classes = [
            {"name": self.classes[index], "probability": round(float(value), 4)}
            for value, index in zip(top.values, top.indices, strict=True)
        ]
        shown = image.convert("RGB")
        shown.thumbnail((512, 512))
        return {"classes": classes}, shown


class YoloModel:
    """An Ultralytics model from its best.pt: detection, segmentation or classification."""

    CONFIDENCE = 0.25

    def __init__(self, job: TrainingJob, weights: Path):
        from experiments.training.ultralytics_trainer import configure_offline

        configure_offline()
        from ultralytics import YOLO

        self.model = YOLO(str(weights))
        self.size = int(self.model.ckpt.get("train_args", {}).get("imgsz") or 640)

    def predict(self, image: Image.Image) -> tuple[dict, Image.Image]:
        result = self.model.predict(image.convert("RGB"), imgsz=self.size, conf=self.CONFIDENCE, device="cpu",
                                    verbose=False)[0]  # fmt: skip
        drawn = Image.fromarray(result.plot()[..., ::-1])  # boxes, masks, labels and scores; BGR to RGB
        if result.probs is not None:
            top = result.probs.top5
            classes = [{"name": result.names[i], "probability": round(float(result.probs.data[i]), 4)} for i in top]
            return {"classes": classes}, drawn
        detections = [
            {"name": result.names[int(cls)], "score": round(float(score), 4),
             "box": [round(float(v), 1) for v in box]}
            for box, score, cls in zip(result.boxes.xyxy, result.boxes.conf, result.boxes.cls, strict=True)
        ]  # fmt: skip
        return {"detections": detections, "masks": result.masks is not None}, drawn


def model_for(job: TrainingJob, weights: Path):
    if job.framework == TrainingJob.Framework.TIMM:
        return TimmClassifier(job, weights)
    return YoloModel(job, weights)


def warm_up() -> None:
    """Imports what a first prediction would otherwise wait for (seconds of it on a CPU)."""
    import timm  # noqa: F401

    from experiments.training.ultralytics_trainer import configure_offline

    configure_offline()
    import ultralytics  # noqa: F401
