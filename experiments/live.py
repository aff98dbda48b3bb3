"""The live events of experiments: one group per project, followed by its pages (see live.events)."""

from experiments.models import TrainingJob
from live import events
from live.models import Event


def project_group(project_id: int) -> str:
    return f"project_{project_id}"


def job_state(job: TrainingJob) -> dict:
    """The fields a live client needs to redraw an experiment."""
    return {
        "experiment_id": job.id,
        "status": job.status,
        "epoch": job.current_epoch,
        "epochs": job.epochs,
        "progress": round(job.progress, 4),
        "accuracy": job.accuracy,
        "loss": job.loss,
        "error_message": job.error_message,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
    }


def record_event(job: TrainingJob, event_type: str, payload: dict) -> Event:
    """Records an event of the job's project, in the transaction of the change it reports."""
    return events.record(project_group(job.project_id), event_type, {"experiment_id": job.id, **payload})
