from django_tasks import task


@task(takes_context=True)
def run_training(context, job_id: int) -> str:
    """Trains one experiment; enqueued by experiment_create, run by a db_worker."""
    from experiments.training.runner import run

    worker_ids = context.task_result.worker_ids
    return run(job_id, worker_id=worker_ids[-1] if worker_ids else "unknown")
