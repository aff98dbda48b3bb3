from django_tasks import task

from experiments.training.runner import run


@task(takes_context=True)
def run_training(context, job_id: int) -> str:
    """Trains one experiment; enqueued by services.experiment_create, run by a db_worker."""
    worker_ids = context.task_result.worker_ids
    return run(job_id, worker_id=worker_ids[-1] if worker_ids else "unknown")
