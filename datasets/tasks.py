from django_tasks import task

from datasets.checks import build_fixed_version, check_version


@task()
def check_dataset_version(version_id: int) -> str:
    """Checks a new dataset version on a worker; enqueued by services.upload_version and register_folder."""
    version = check_version(version_id)
    return version.status if version else "missing"


@task()
def fix_dataset_version(version_id: int) -> str:
    """Builds and checks a version made by a one-click fix; enqueued by services.fix_version."""
    version = build_fixed_version(version_id)
    return version.status if version else "failed"
