"""The live events of datasets: one group per owner, which a version's page follows while a worker checks it."""

from datasets.models import DatasetVersion
from live import events


def owner_group(user_id: int) -> str:
    return f"datasets_of_user_{user_id}"


def record_check_progress(version: DatasetVersion, fraction: float) -> None:
    events.record(
        owner_group(version.dataset.owner_id),
        "check_progress",
        {"version_id": version.pk, "progress": round(fraction, 4)},
    )


def record_checked(version: DatasetVersion) -> None:
    """The check is over: the version is ready or invalid, with its findings."""
    events.record(
        owner_group(version.dataset.owner_id),
        "version_checked",
        {"version_id": version.pk, "status": version.status, "findings": len(version.findings)},
    )
