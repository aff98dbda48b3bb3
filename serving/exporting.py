"""The worker's side of exports: write ONNX and TorchScript from an experiment's best weights, then check that
each computes what PyTorch does, on the experiment's own validation images (at most MAX_IMAGES of them).

The checks, per export (an export that misses one is marked failed, with its figures, and not offered):
- max_abs_diff: the largest difference between the export's raw outputs and PyTorch's on the same input
  (classifier logits; YOLO's output tensor), at most MAX_ABS_DIFF;
- agreement: the fraction of images on which the export and PyTorch agree, at least MIN_AGREEMENT: the same
  top-1 class (classification), or the same detections (detection, segmentation: each detection scored at
  least CONFIDENCE by one has one of the same class scored at least CONFIDENCE - SCORE_SLACK by the other,
  with IoU at least MIN_IOU and a score within SCORE_SLACK);
- the validation metric (top-1 accuracy, or mAP50) recomputed with the export, within METRIC_SLACK of
  PyTorch's on the same images.
Also recorded: the file's size and the CPU latency per image (median of LATENCY_RUNS runs on one image;
for YOLO, with Ultralytics' pre- and post-processing).
"""

import logging
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import translation
from PIL import Image

from experiments import run_files
from experiments.models import TrainingJob
from experiments.training import runner
from serving import lifecycle, loading
from serving.models import Export

logger = logging.getLogger(__name__)
Format = Export.Format
MAX_IMAGES = 200
MAX_ABS_DIFF = 1e-3
MIN_AGREEMENT = 0.99
METRIC_SLACK = 0.01
CONFIDENCE, SCORE_SLACK, MIN_IOU = 0.25, 0.05, 0.5
LATENCY_RUNS = 20


def run(job_id: int) -> str:
    with translation.override("en"):  # error messages are data
        job = TrainingJob.objects.get(pk=job_id)
        exports = list(job.exports.all())
        try:
            weights, _sha256 = loading.best_weights(job)
            dataset = runner.local_dataset(job)
            checker = (
                TimmChecker(job, weights, dataset)
                if job.framework == TrainingJob.Framework.TIMM
                else (YoloChecker(job, weights, dataset))
            )
        except Exception as error:
            logger.exception("Exports of experiment %s failed", job.id)
            for export in exports:
                lifecycle.export_update(export=export, status=Export.Status.FAILED, error=runner.human_reason(error))
            return "failed"
        folder = job.run_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        for export in exports:
            _export_one(job, export, checker, folder)
        return "done"


def _export_one(job: TrainingJob, export: Export, checker, folder: Path) -> None:
    lifecycle.export_update(export=export, status=Export.Status.RUNNING)
    try:
        path = checker.write(export.format, folder)
        figures = checker.verify(export.format, path)
        figures["size"] = path.stat().st_size
        problems = _problems(figures)
        logger.info("Export %s of experiment %s: %s%s", export.format, job.id, figures,
                    f"; failed: {'; '.join(problems)}" if problems else "")  # fmt: skip
        if problems:
            lifecycle.export_update(export=export, status=Export.Status.FAILED, error="; ".join(problems), **figures)
            return
        size, sha256 = run_files.file_digest(path)
        with path.open("rb") as local:
            name = default_storage.save(f"{run_files.storage_folder(job)}/exports/{path.name}", File(local))
        lifecycle.export_update(
            export=export, status=Export.Status.VERIFIED, storage_name=name, sha256=sha256, **figures
        )
    except Exception as error:
        logger.exception("Export %s of experiment %s failed", export.format, job.id)
        lifecycle.export_update(export=export, status=Export.Status.FAILED, error=runner.human_reason(error))


def _problems(figures: dict) -> list[str]:
    problems = []
    if figures["max_abs_diff"] > MAX_ABS_DIFF:
        problems.append(f"outputs differ by up to {figures['max_abs_diff']:.3g} (at most {MAX_ABS_DIFF} allowed)")
    if figures["agreement"] < MIN_AGREEMENT:
        problems.append(f"agrees with PyTorch on {figures['agreement']:.1%} of the images (at least "
                        f"{MIN_AGREEMENT:.0%} needed)")  # fmt: skip
    if abs(figures["metric_export"] - figures["metric_original"]) > METRIC_SLACK:
        problems.append(f"its metric is {figures['metric_export']:.4f}, PyTorch's {figures['metric_original']:.4f}")
    return problems


def _median_ms(call) -> float:
    call()  # warm-up
    times = []
    for _ in range(LATENCY_RUNS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


class TimmChecker:
    """A timm classifier: exported with torch.onnx.export and torch.jit.trace, checked on its logits."""

    def __init__(self, job: TrainingJob, weights: Path, dataset: Path):
        self.classifier = loading.TimmClassifier(job, weights)
        images = loading.val_images(job, dataset)[:MAX_IMAGES]
        if not images:
            raise ValueError("The dataset has no validation images")
        classes = self.classifier.classes
        self.labels = np.array([classes.index(loading.val_label(path)) for path in images])
        self.inputs = self.classifier.model_input([Image.open(path) for path in images])
        with torch.no_grad():
            self.reference = self.classifier.model(self.inputs).numpy()

    def write(self, format: str, folder: Path) -> Path:
        model, example = self.classifier.model, self.inputs[:1]
        if format == Format.ONNX:
            path = folder / "model.onnx"
            # The TorchScript-based exporter: the dynamo one needs onnxscript, and gives the same graph here.
            torch.onnx.export(model, (example,), str(path), input_names=["images"], output_names=["logits"],
                              dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                              dynamo=False)  # fmt: skip
            return path
        path = folder / "model.torchscript"
        with torch.no_grad():
            torch.jit.trace(model, example).save(str(path))
        return path

    def verify(self, format: str, path: Path) -> dict:
        run = self._onnx_runner(path) if format == Format.ONNX else self._torchscript_runner(path)
        outputs = np.concatenate([run(self.inputs[i : i + 32]) for i in range(0, len(self.inputs), 32)])
        predicted, reference = outputs.argmax(axis=1), self.reference.argmax(axis=1)
        return {
            "images_checked": len(self.labels),
            "max_abs_diff": float(np.abs(outputs - self.reference).max()),
            "agreement": float((predicted == reference).mean()),
            "metric_original": float((reference == self.labels).mean()),
            "metric_export": float((predicted == self.labels).mean()),
            "latency_ms": _median_ms(lambda: run(self.inputs[:1])),
        }

    @staticmethod
    def _onnx_runner(path: Path):
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda batch: session.run(None, {"images": batch.numpy()})[0]

    @staticmethod
    def _torchscript_runner(path: Path):
        module = torch.jit.load(str(path), map_location="cpu").eval()

        def run(batch):
            with torch.no_grad():
                return module(batch).numpy()

        return run


class YoloChecker:
    """An Ultralytics model: exported by its own model.export(), checked through Ultralytics' predict and val
    (which run ONNX with onnxruntime and TorchScript with torch)."""

    def __init__(self, job: TrainingJob, weights: Path, dataset: Path):
        self.job = job
        self.original = loading.YoloModel(job, weights)
        self.size = self.original.size
        self.images = [
            np.array(Image.open(path).convert("RGB"))[..., ::-1]
            for path in loading.val_images(job, dataset)[:MAX_IMAGES]
        ]  # fmt: skip (BGR, as Ultralytics reads)
        if not self.images:
            raise ValueError("The dataset has no validation images")
        self.data = str(
            dataset if job.task_type == TrainingJob.TaskType.IMAGE_CLASSIFICATION else dataset / "data.yaml"
        )
        self.reference = [self._predict(self.original.model, image) for image in self.images]

    def write(self, format: str, folder: Path) -> Path:
        options = {"simplify": False} if format == Format.ONNX else {}
        written = Path(self.original.model.export(format=format, imgsz=self.size, device="cpu", verbose=False,
                                                  **options))  # fmt: skip
        return written.rename(folder / f"model{written.suffix}")

    def verify(self, format: str, path: Path) -> dict:
        from ultralytics import YOLO

        exported = YOLO(str(path), task=self.original.model.task)
        predictions = [self._predict(exported, image) for image in self.images]
        agreement = np.mean([_agree(a, b) for a, b in zip(self.reference, predictions, strict=True)])
        return {
            "images_checked": len(self.images),
            "max_abs_diff": self._raw_difference(format, path),
            "agreement": float(agreement),
            "metric_original": self._metric(self.original.model),
            "metric_export": self._metric(exported),
            "latency_ms": _median_ms(lambda: self._predict(exported, self.images[0])),
        }

    def _predict(self, model, image):
        result = model.predict(image, imgsz=self.size, conf=CONFIDENCE - SCORE_SLACK, device="cpu", verbose=False)[0]
        if result.probs is not None:
            return int(result.probs.top1)
        return [(int(c), float(s), b.tolist()) for b, s, c in
                zip(result.boxes.xyxy, result.boxes.conf, result.boxes.cls, strict=True)]  # fmt: skip

    def _metric(self, model) -> float:
        metrics = model.val(data=self.data, imgsz=self.size, batch=1, device="cpu", plots=False, verbose=False)
        if self.job.task_type == TrainingJob.TaskType.IMAGE_CLASSIFICATION:
            return float(metrics.top1)
        if self.job.task_type == TrainingJob.TaskType.INSTANCE_SEGMENTATION:
            return float(metrics.seg.map50)
        return float(metrics.box.map50)

    def _raw_difference(self, format: str, path: Path) -> float:
        """The largest difference of the first output tensor, on the first validation image letterboxed."""
        from ultralytics.data.augment import LetterBox

        image = LetterBox(new_shape=(self.size, self.size), auto=False)(image=self.images[0])
        batch = torch.from_numpy(np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1))).float()[None] / 255
        model = self.original.model.model.float().eval()
        with torch.no_grad():
            reference = _first(model(batch)).numpy()
            if format == Format.ONNX:
                import onnxruntime

                session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                output = session.run(None, {session.get_inputs()[0].name: batch.numpy()})[0]
            else:
                output = _first(torch.jit.load(str(path), map_location="cpu")(batch)).numpy()
        return float(np.abs(output - reference).max())


def _first(output):
    while isinstance(output, (list, tuple)):
        output = output[0]
    return output


def _agree(reference, exported) -> bool:
    """Whether an export's predictions on one image match PyTorch's (see the module's docstring)."""
    if isinstance(reference, int):
        return reference == exported
    return _covered(reference, exported) and _covered(exported, reference)


def _covered(ours, theirs) -> bool:
    for cls, score, box in ours:
        if score < CONFIDENCE:
            continue
        if not any(c == cls and abs(s - score) <= SCORE_SLACK and _iou(box, b) >= MIN_IOU for c, s, b in theirs):
            return False
    return True


def _iou(a, b) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
