"""What users do to experiments: create one (validated, then queued), cancel, name, annotate and delete one.

Views, API actions and the admin call these; what happens to a job while a
worker trains it is in lifecycle.py. Each change records a live event in the
same transaction, which is what the live pages show.
"""

import shutil

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from datasets.models import DatasetVersion
from experiments import catalog, datasets, run_files, selectors, weights
from experiments.lifecycle import CANCELLED_BY_USER, finish
from experiments.live import job_state, record_event
from experiments.models import WORKER_LOST, RunFile, TrainingJob
from experiments.tasks import run_training
from projects.models import parse_id

Status = TrainingJob.Status

LIMITS = {
    "epochs": (1, 1000),
    "batch_size": (1, 1024),
    "image_size": (32, 2048),
}
MAX_LEARNING_RATE = 1.0


class ExperimentConflict(Exception):
    """The experiment is not in a state that allows this (HTTP 409)."""


def validate_new_experiment(
    *,
    owner,
    framework: str,
    model_name: str,
    task_type: str,
    dataset: int | str | None = None,
    dataset_path: str = "",
    epochs: int,
    batch_size: int,
    learning_rate: float,
    image_size: int | None,
    augmentation: str = TrainingJob.Augmentation.STANDARD,
    device: str = TrainingJob.Device.ANY,
    initial_weights: str = TrainingJob.InitialWeights.SCRATCH,
    start_from: int | str | None = None,
) -> dict[str, str]:
    """Field -> message for everything wrong with a new experiment (empty when valid)."""
    errors = {}
    if framework not in TrainingJob.Framework.values:
        errors["framework"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(TrainingJob.Framework.values)}
    if task_type not in TrainingJob.TaskType.values:
        errors["task_type"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(TrainingJob.TaskType.values)}
    if "framework" not in errors:
        tasks = catalog.tasks_for(framework, model_name)
        if tasks is None:
            errors["model_name"] = _("%(framework)s has no model named %(model)r.") % {
                "framework": framework,
                "model": model_name,
            }
        elif "task_type" not in errors and task_type not in tasks:
            errors["task_type"] = _("%(model)s trains for %(tasks)s, not %(task)s.") % {
                "model": model_name,
                "tasks": ", ".join(sorted(tasks)),
                "task": task_type,
            }
    for field, value in (("epochs", epochs), ("batch_size", batch_size), ("image_size", image_size)):
        low, high = LIMITS[field]
        if value is not None and not low <= value <= high:
            errors[field] = _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high}
    for field, value, choices in (
        ("augmentation", augmentation, TrainingJob.Augmentation),
        ("device", device, TrainingJob.Device),
    ):
        if value not in choices.values:
            errors[field] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}
    if not {"framework", "model_name"} & errors.keys():
        errors.update(_starting_weights_errors(owner, framework, model_name, initial_weights, start_from))
    if not 0 < learning_rate <= MAX_LEARNING_RATE:
        errors["learning_rate"] = _("Must be greater than 0 and at most %(max)s.") % {"max": MAX_LEARNING_RATE}
    if dataset not in (None, ""):
        version = dataset_version_for(owner, dataset)
        if version is None:
            errors["dataset"] = _("You have no dataset version %(id)s.") % {"id": dataset}
        elif not version.is_ready:
            errors["dataset"] = _("%(dataset)s is not ready to train on: it is %(status)s.") % {
                "dataset": version.label,
                "status": version.get_status_display().lower(),
            }
        elif "task_type" not in errors and task_type not in version.task_types:
            errors["dataset"] = _("%(dataset)s has no labels for %(task)s.") % {
                "dataset": version.label,
                "task": task_type,
            }
    elif dataset_path:
        try:
            path = datasets.resolve(dataset_path)
            if "task_type" not in errors:
                datasets.check_layout(path, task_type)
        except datasets.DatasetError as error:
            errors["dataset_path"] = str(error)
    else:
        errors["dataset"] = _("Choose a dataset version (dataset) or a folder under the datasets root (dataset_path).")
    return errors


def _starting_weights_errors(owner, framework, model_name, initial_weights, start_from) -> dict[str, str]:
    Weights = TrainingJob.InitialWeights
    if initial_weights not in Weights.values:
        return {"initial_weights": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Weights.values)}}
    if initial_weights != Weights.EXPERIMENT:
        if start_from not in (None, ""):
            return {"start_from": _("Give start_from only with initial_weights %(value)s.") % {"value": "experiment"}}
        if initial_weights == Weights.PRETRAINED and weights.pretrained_file(framework, model_name) is None:
            return {
                "initial_weights": _(
                    "There are no pretrained weights for %(model)s: expected %(file)s in the weights folder "
                    "(WEIGHTS_DIR). Nothing is downloaded; an operator puts them there."
                )
                % {"model": model_name, "file": weights.expected_file(framework, model_name)}
            }
        return {}
    if start_from in (None, ""):
        return {"start_from": _("Choose the experiment whose best weights it starts from.")}
    source = start_from_for(owner, start_from)
    if source is None:
        return {"start_from": _("You have no experiment %(id)s.") % {"id": start_from}}
    if (source.framework, source.model_name) != (framework, model_name):
        return {
            "start_from": _("Experiment %(id)s trained %(source)s; it can start only another %(source)s.")
            % {"id": source.id, "source": source.model_name}
        }
    if not source.files.filter(name=RunFile.Name.BEST_WEIGHTS).exists() or source.status != Status.COMPLETED:
        return {
            "start_from": _("Experiment %(id)s has no best weights to start from: it is %(status)s.")
            % {"id": source.id, "status": source.get_status_display().lower()}
        }
    return {}


def start_from_for(owner, raw_id) -> TrainingJob | None:
    """One of the owner's experiments, by id; None when it is missing, someone else's or malformed."""
    return selectors.owned_by(owner).filter(pk=parse_id(raw_id)).first()


def dataset_version_for(owner, raw_id) -> DatasetVersion | None:
    """One of the owner's dataset versions, by id; None when it is missing, someone else's or malformed."""
    return DatasetVersion.objects.owned_by(owner).select_related("dataset").filter(pk=parse_id(raw_id)).first()


def experiment_create(
    *,
    project,
    framework: str,
    model_name: str,
    task_type: str,
    dataset: int | str | None = None,
    dataset_path: str = "",
    epochs: int,
    batch_size: int,
    learning_rate: float,
    image_size: int | None = None,
    augmentation: str = TrainingJob.Augmentation.STANDARD,
    device: str = TrainingJob.Device.ANY,
    initial_weights: str = TrainingJob.InitialWeights.SCRATCH,
    start_from: int | str | None = None,
) -> TrainingJob:
    """Validates and stores a pending experiment, and queues its training once committed."""
    errors = validate_new_experiment(
        owner=project.owner,
        framework=framework,
        model_name=model_name,
        task_type=task_type,
        dataset=dataset,
        dataset_path=dataset_path,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        image_size=image_size,
        augmentation=augmentation,
        device=device,
        initial_weights=initial_weights,
        start_from=start_from,
    )
    if errors:
        raise ValidationError({field: [message] for field, message in errors.items()})
    version = dataset_version_for(project.owner, dataset) if dataset not in (None, "") else None
    with transaction.atomic():
        job = TrainingJob.objects.create(
            project=project,
            framework=framework,
            model_name=model_name,
            task_type=task_type,
            dataset_version=version,
            dataset_path="" if version else str(datasets.resolve(dataset_path)),
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            image_size=image_size,
            augmentation=augmentation,
            device=device,
            initial_weights=initial_weights,
            start_from=start_from_for(project.owner, start_from) if start_from not in (None, "") else None,
        )
        record_event(job, "experiment_created", job_state(job))
        transaction.on_commit(lambda: run_training.using(queue_name=job.queue_name).enqueue(job.id))
    return job


def experiment_cancel(*, job: TrainingJob) -> TrainingJob:
    """Cancels a pending job at once; asks the worker of a running one to stop."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        if job.is_terminal:
            raise ExperimentConflict(
                _("This experiment is already %(status)s; only pending or running experiments can be cancelled.")
                % {"status": job.get_status_display()}
            )
        if job.status == Status.PENDING:
            finish(job, Status.CANCELLED, error_message=CANCELLED_BY_USER)
        elif job.cancel_requested_at is None:
            job.cancel_requested_at = timezone.now()
            job.save(update_fields=["cancel_requested_at", "updated_at"])
            record_event(job, "cancel_requested", job_state(job))
    return job


def experiment_resume(*, job: TrainingJob) -> TrainingJob:
    """Queues a cancelled run, or one whose worker was lost, again: it goes on from its last stored checkpoint,
    in the same experiment, with its epochs and curves so far."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        if not (job.status == Status.CANCELLED or (job.status == Status.FAILED and job.error_message == WORKER_LOST)):
            raise ExperimentConflict(
                _("Only a cancelled experiment, or one whose worker was lost, can be resumed; this one is %(status)s.")
                % {"status": _status_words(job)}
            )
        if not job.files.filter(name=RunFile.Name.LAST_WEIGHTS).exists():
            raise ExperimentConflict(
                _("This experiment has no checkpoint to resume from: it stopped before one was stored.")
            )
        job.status = Status.PENDING
        job.error_message = job.completed_at = job.cancel_requested_at = job.heartbeat_at = None
        job.worker_id = ""
        job.save()
        record_event(job, "status_changed", job_state(job))
        transaction.on_commit(lambda: run_training.using(queue_name=job.queue_name).enqueue(job.id))
    return job


def _status_words(job: TrainingJob) -> str:
    status = job.get_status_display().lower()
    return f"{status} ({job.error_message})" if job.error_message else status


def experiment_describe(*, job: TrainingJob, **words: str | None) -> TrainingJob:
    """Sets the owner's `name` and/or `note` of an experiment; blank text clears it."""
    for field, text in words.items():
        setattr(job, field, (text or "").strip() or None)
    with transaction.atomic():
        job.save(update_fields=[*words, "updated_at"])
        record_event(job, "experiment_described", {"name": job.name, "note": job.note})
    return job


def experiment_delete(*, job: TrainingJob) -> None:
    """Deletes a finished experiment with its metrics and its run folder; a pending or running one is refused."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().filter(pk=job.pk).first()
        if job is None:  # deleted meanwhile, by another request
            return
        if not job.is_terminal:
            raise ExperimentConflict(
                _("This experiment is %(status)s; cancel it before deleting it.") % {"status": job.get_status_display()}
            )
        record_event(job, "experiment_deleted", {})
        run_dir = job.run_dir
        folders = run_files.stored_folders(TrainingJob.objects.filter(pk=job.pk))
        job.delete()
    run_files.delete_folders(folders)  # its files, and what other apps keep beside them
    # The folder is there when the web process shares its disk with the worker (the embedded default).
    shutil.rmtree(run_dir, ignore_errors=True)


def project_delete(*, project) -> None:
    """Deletes a project and its experiments, unless some are pending or running (cancel those first)."""
    active = project.jobs.filter(status__in=[Status.PENDING, Status.RUNNING]).count()
    if active:
        raise ExperimentConflict(
            _("%(count)d experiments of this project are pending or running; cancel them before deleting it.")
            % {"count": active}
        )
    folders = run_files.stored_folders(project.jobs.all())
    project.delete()
    run_files.delete_folders(folders)
