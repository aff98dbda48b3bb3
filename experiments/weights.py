"""Pretrained weights in WEIGHTS_DIR, filled once by an operator: nothing is ever downloaded.

timm:        <model>.safetensors, <model>.pth or <model>.bin, or Hugging Face's
             cache of the timm/<model>.* repository under huggingface/hub/
Ultralytics: <model>.pt (the files Ultralytics publishes)

The web service checks that the file is there when an experiment asks for it,
the worker loads it; both read the same WEIGHTS_DIR (see the README).
"""

from pathlib import Path

from django.conf import settings

from experiments.models import TrainingJob

Framework = TrainingJob.Framework
SUFFIXES = {Framework.TIMM: (".safetensors", ".pth", ".bin"), Framework.ULTRALYTICS: (".pt",)}


def pretrained_file(framework: str, model_name: str) -> Path | None:
    """The pretrained weights for a model of the catalog, when the weights folder has them."""
    root = Path(settings.WEIGHTS_DIR)
    if not model_name or "/" in model_name or "\\" in model_name or model_name.startswith("."):
        return None
    for suffix in SUFFIXES.get(framework, ()):
        if (root / f"{model_name}{suffix}").is_file():
            return root / f"{model_name}{suffix}"
    if framework == Framework.TIMM:
        cached = sorted(root.glob(f"huggingface/hub/models--timm--{model_name}.*/snapshots/*/model.safetensors"))
        cached += sorted(root.glob(f"huggingface/hub/models--timm--{model_name}/snapshots/*/model.safetensors"))
        if cached:
            return cached[-1]
    return None


def expected_file(framework: str, model_name: str) -> str:
    """Where an operator puts a model's pretrained weights, relative to WEIGHTS_DIR (for messages)."""
    return f"{model_name}{SUFFIXES.get(framework, ('.pt',))[0]}"


def available() -> list[str]:
    """ "framework:model" for every model WEIGHTS_DIR has pretrained weights for (what the form offers)."""
    root = Path(settings.WEIGHTS_DIR)
    if not root.is_dir():
        return []
    found = set()
    for framework, suffixes in SUFFIXES.items():
        found.update(f"{framework}:{path.stem}" for path in root.iterdir() if path.suffix in suffixes)
    for folder in root.glob("huggingface/hub/models--timm--*"):
        name = folder.name.removeprefix("models--timm--").split(".")[0]
        if pretrained_file(Framework.TIMM, name):
            found.add(f"{Framework.TIMM}:{name}")
    return sorted(found)
