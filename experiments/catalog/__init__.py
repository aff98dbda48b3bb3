"""Which models each framework can train, known without importing torch.

The web service validates new experiments against this catalog; the worker's
tests check it against the installed timm and Ultralytics.
"""

from functools import cache
from pathlib import Path

from experiments.models import TrainingJob

Framework = TrainingJob.Framework
Task = TrainingJob.TaskType

# Ultralytics builds a model from scratch from "<family><scale><suffix>.yaml".
ULTRALYTICS_FAMILIES = ["yolov8", "yolo11", "yolo12", "yolo26"]
ULTRALYTICS_SCALES = "nsmlx"
ULTRALYTICS_TASK_SUFFIXES = {
    "": Task.OBJECT_DETECTION,
    "-seg": Task.INSTANCE_SEGMENTATION,
    "-cls": Task.IMAGE_CLASSIFICATION,
}

# Offered first in the form; any catalogued name is accepted.
SUGGESTED = {
    Framework.TIMM: ["resnet18", "mobilenetv3_small_100", "efficientnet_b0", "resnet50", "efficientnetv2_s"],
    Framework.ULTRALYTICS: ["yolo11n", "yolo11n-seg", "yolov8n", "yolov8n-seg", "yolo11n-cls"],
}


@cache
def timm_models() -> frozenset[str]:
    lines = (Path(__file__).parent / "timm_models.txt").read_text().splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def ultralytics_models() -> dict[str, str]:
    """{"yolo11n-seg": "instance_segmentation", ...}"""
    return {
        f"{family}{scale}{suffix}": task
        for family in ULTRALYTICS_FAMILIES
        for scale in ULTRALYTICS_SCALES
        for suffix, task in ULTRALYTICS_TASK_SUFFIXES.items()
    }


def tasks_for(framework: str, model_name: str) -> set[str] | None:
    """The tasks a model can be trained for, or None when the framework has no such model."""
    if framework == Framework.TIMM:
        return {Task.IMAGE_CLASSIFICATION} if model_name in timm_models() else None
    if framework == Framework.ULTRALYTICS:
        task = ultralytics_models().get(model_name)
        return {task} if task else None
    return None
