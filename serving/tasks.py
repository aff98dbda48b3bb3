from django_tasks import task


@task()
def export_model(job_id: int) -> str:
    """Writes and verifies the exports of an experiment; enqueued by services.exports_request."""
    from serving import exporting  # torch, onnx: in the worker only

    return exporting.run(job_id)


@task()
def predict(prediction_id: int) -> str:
    """Answers one "try it" request; runs on the "inference" queue (services.prediction_create)."""
    from serving import predicting  # torch: in the worker only

    return predicting.run(prediction_id)
