"""The inference worker's side of "try it": the model stays loaded between requests (a few per process)."""

import io
import logging
import time
from collections import OrderedDict

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import translation
from PIL import Image

from experiments.training import runner
from serving import lifecycle, loading
from serving.models import Prediction

logger = logging.getLogger(__name__)
KEPT_MODELS = 4
_models: OrderedDict = OrderedDict()  # (experiment id, weights SHA-256) -> loaded model, most recent last


def run(prediction_id: int) -> str:
    with translation.override("en"):  # error messages are data
        prediction = Prediction.objects.select_related("job").filter(pk=prediction_id).first()
        if prediction is None:
            return "gone"
        job = prediction.job
        try:
            model = _model_for(job)
            image = _input_image(prediction)
            started = time.perf_counter()
            result, drawn = model.predict(image)
            seconds = time.perf_counter() - started
            buffer = io.BytesIO()
            drawn.save(buffer, format="PNG")
            drawn_name = default_storage.save(
                lifecycle.prediction_image_name(job, ".png"), ContentFile(buffer.getvalue())
            )
            result.update(width=image.width, height=image.height, seconds=round(seconds, 4), image=drawn_name)
            lifecycle.prediction_finish(prediction=prediction, result=result)
            logger.info("Prediction %s of experiment %s: %.3f s", prediction.id, job.id, seconds)
            return "done"
        except Exception as error:
            logger.exception("Prediction %s of experiment %s failed", prediction.id, job.id)
            lifecycle.prediction_finish(prediction=prediction, error=runner.human_reason(error))
            return "failed"


def _model_for(job):
    weights, sha256 = loading.best_weights(job)
    key = (job.id, sha256)
    if key in _models:
        _models.move_to_end(key)
        return _models[key]
    model = loading.model_for(job, weights)
    _models[key] = model
    while len(_models) > KEPT_MODELS:
        _models.popitem(last=False)
    return model


def _input_image(prediction: Prediction) -> Image.Image:
    if prediction.image_name:
        with default_storage.open(prediction.image_name, "rb") as stored:
            image = Image.open(io.BytesIO(stored.read()))
            image.load()
            return image
    images = loading.val_images(prediction.job, runner.local_dataset(prediction.job))
    if not images:
        raise ValueError("The dataset has no validation images")
    image = Image.open(images[prediction.val_index % len(images)])
    image.load()
    return image
