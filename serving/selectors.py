"""Reads of exports and predictions, always through one of the user's experiments."""

from django.http import Http404

from experiments.models import TrainingJob
from projects.models import parse_id
from serving.models import Export, Prediction


def exports_of(job: TrainingJob) -> list[Export]:
    exports = list(job.exports.all())
    for export in exports:
        export.job = job
    return exports


def verified_export(job: TrainingJob, format: str) -> Export:
    export = job.exports.filter(format=format, status=Export.Status.VERIFIED).first()
    if export is None:
        raise Http404("No verified export in that format")
    return export


def prediction_of(job: TrainingJob, raw_id) -> Prediction:
    prediction = job.predictions.filter(pk=parse_id(raw_id)).first()
    if prediction is None:
        raise Http404("Prediction not found")
    prediction.job = job
    return prediction


def latest_prediction(job: TrainingJob) -> Prediction | None:
    prediction = job.predictions.first()
    if prediction is not None:
        prediction.job = job
    return prediction
