from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from experiments import catalog, run_files, selectors, services, weights
from experiments.forms import DescribeExperimentForm, NewExperimentForm
from experiments.models import TrainingJob
from experiments.selectors import experiment_list, get_owned_experiment_or_404, status_counts
from platform_site.pages import refused
from platform_site.pagination import InvalidPageParameter, Paginator, page_params
from projects.forms import ProjectForm
from projects.models import Project, get_owned_project_or_404


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def dashboard(request):
    """The user's projects, and the form that creates one."""
    form = ProjectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        project = form.save(commit=False)
        project.owner = request.user
        project.save()
        return redirect("project_detail", project.id)
    projects = Project.objects.owned_by(request.user).newest_first().prefetch_related("status_count_rows")
    cards = [(project, status_counts(project)) for project in projects]
    context = {"cards": cards, "form": form}
    return render(request, "projects/dashboard.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def project_delete(request, project_id):
    project = get_owned_project_or_404(request.user, project_id)
    try:
        services.project_delete(project=project)
    except services.ExperimentConflict as error:
        return refused(request, str(error), reverse("project_detail", args=[project.id]))
    return redirect("dashboard")


@login_required
@require_safe
def project_detail(request, project_id):
    project = get_owned_project_or_404(request.user, project_id)
    return _experiments_page(request, project, "projects/project_detail.html")


@login_required
@require_safe
def project_section(request, project_id):
    """The experiments section alone: what the live page fetches to resynchronise."""
    project = get_owned_project_or_404(request.user, project_id)
    return _experiments_page(request, project, "projects/_experiments_section.html")


def _experiments_page(request, project, template):
    try:
        experiments = experiment_list(request.user, project.id, request.GET)
        number, per_page = page_params(request.GET)
    except ValidationError as error:
        return _bad_request_for(request, error.message_dict)
    except InvalidPageParameter as error:
        return _bad_request(request, error.param, error.message)

    jobs = experiments.jobs.with_metrics()
    page = Paginator(jobs, per_page, count=experiments.total).page(number)
    context = {
        "project": project,
        "page": page,
        "tabs": _status_tabs(experiments.counts, experiments.statuses),
        "status_param": ",".join(experiments.statuses),
        "sort_headers": _sort_headers(request.GET.get("ordering", "")),
        **_row_options(request),
        "orderings": ORDERINGS,
        "tasks": TrainingJob.TaskType.choices,
        "frameworks": TrainingJob.Framework.choices,
    }
    return render(request, template, context)


# The orderings the project page offers in its filter form; the column headers toggle three of them.
ORDERINGS = [
    ("", _("Newest first")),
    ("created_at", _("Oldest first")),
    ("-accuracy", _("Most accurate first")),
    ("accuracy", _("Least accurate first")),
    ("loss", _("Lowest loss first")),
    ("-duration", _("Longest first")),
    ("duration", _("Shortest first")),
    ("-epochs", _("Most epochs first")),
    ("model_name", _("Model name, A to Z")),
]
SORTABLE_COLUMNS = {"model_name": "model_name", "accuracy": "-accuracy", "created_at": "-created_at"}


def _sort_headers(ordering: str) -> dict[str, dict]:
    """For each sortable column: the ordering its header asks for, and its aria-sort when it sorts the list now."""
    current = ordering.split(",")[0] or "-created_at"
    headers = {}
    for column, first_click in SORTABLE_COLUMNS.items():
        if current.lstrip("-") == column:
            descending = current.startswith("-")
            headers[column] = {
                "next": column if descending else f"-{column}",
                "sort": "descending" if descending else "ascending",
            }
        else:
            headers[column] = {"next": first_click, "sort": ""}
    return headers


def _status_tabs(counts: dict[str, int], selected: list[str]) -> list[dict]:
    tabs = [{"value": "", "label": None, "count": sum(counts.values()), "active": not selected}]
    for status in TrainingJob.Status:
        tabs.append(
            {
                "value": status.value,
                "label": status.label,
                "count": counts[status.value],
                "active": selected == [status.value],
            }
        )
    return tabs


def _bad_request(request, param: str, message: str):
    return render(request, "400.html", {"param": param, "message": message}, status=400)


def _bad_request_for(request, errors: dict[str, list[str]]):
    """The 400 page for the first parameter that is wrong and its first message."""
    (param, messages), *_others = errors.items()
    return _bad_request(request, param, messages[0])


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def experiment_new(request, project_id):
    project = get_owned_project_or_404(request.user, project_id)
    form = NewExperimentForm(request.POST if request.method == "POST" else None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.experiment_create(project=project, **form.cleaned_data)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return redirect("project_detail", project.id)
    context = {
        "project": project,
        "form": form,
        "suggested_models": [
            (name, framework, sorted(catalog.tasks_for(framework, name))[0])
            for framework, names in catalog.SUGGESTED.items()
            for name in names
        ],
        "pretrained_models": " ".join(weights.available()),
    }
    return render(request, "experiments/experiment_new.html", context, status=400 if form.errors else 200)


@login_required
@require_safe
def experiment_detail(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    form = DescribeExperimentForm(initial={"name": job.name, "note": job.note})
    return render(request, "experiments/experiment_detail.html", {**_panel_context(job), "form": form})


@login_required
@require_safe
def experiment_panel(request, project_id, experiment_id):
    """The live part of the experiment page, refetched on every event."""
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    return render(request, "experiments/_experiment_panel.html", _panel_context(job))


def _panel_context(job: TrainingJob) -> dict:
    files = job.stored_files()
    downloads = [files[name] for name in run_files.DOWNLOADS if name in files]
    return {"job": job, "project": job.project, "downloads": downloads, "log_tail": run_files.log_tail(job)}


@login_required
@require_safe
def experiment_file(request, project_id, experiment_id, name):
    """One of the run's stored files, for its owner: streamed from the storage."""
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    return run_files.download(job, name)


@login_required
@require_POST
def experiment_resume(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    try:
        services.experiment_resume(job=job)
    except services.ExperimentConflict as error:
        return refused(request, str(error), reverse("experiment_detail", args=[job.project_id, job.id]))
    return redirect("experiment_detail", project_id=job.project_id, experiment_id=job.id)


@login_required
@require_safe
def experiment_row(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    return render(request, "experiments/_experiment_row.html", {"job": job, **_row_options(request)})


def _row_options(request) -> dict:
    """What the list's query says about each row: the compare selection (?selected=3,7), best or last accuracy."""
    raw = request.GET.get("selected", "").split(",")
    selected = list(dict.fromkeys(part for part in raw if part.isascii() and part.isdigit()))
    return {
        "selected": selected[: selectors.MAX_COMPARED],
        "selection_full": len(selected) >= selectors.MAX_COMPARED,
        "show_best": request.GET.get("show") == "best",
    }


@login_required
@require_POST
def experiment_cancel(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    try:
        services.experiment_cancel(job=job)
    except services.ExperimentConflict as error:
        return refused(request, str(error), reverse("experiment_detail", args=[job.project_id, job.id]))
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("experiment_detail", project_id=job.project_id, experiment_id=job.id)


@login_required
@require_POST
def experiment_describe(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    form = DescribeExperimentForm(request.POST)
    if not form.is_valid():
        return _bad_request_for(request, form.errors)
    services.experiment_describe(job=job, **form.cleaned_data)
    return redirect("experiment_detail", project_id=job.project_id, experiment_id=job.id)


@login_required
@require_POST
def experiment_delete(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    try:
        services.experiment_delete(job=job)
    except services.ExperimentConflict as error:
        return refused(request, str(error), reverse("experiment_detail", args=[job.project_id, job.id]))
    return redirect("project_detail", job.project_id)


PARAMETER_LABELS = {
    "model_name": _("Model"),
    "framework": _("Framework"),
    "task_type": _("Task"),
    "dataset_label": _("Dataset"),
    "epochs": _("Epochs"),
    "batch_size": _("Batch size"),
    "learning_rate": _("Learning rate"),
    "image_size": _("Image size (px)"),
    "augmentation": _("Augmentation"),
}


@login_required
@require_safe
def experiment_compare(request, project_id):
    """Several experiments side by side: their curves on shared axes, parameters and best epochs."""
    return _compare_page(request, project_id, "experiments/compare.html")


@login_required
@require_safe
def experiment_compare_section(request, project_id):
    """The compare page's live part, refetched when one of its experiments changes."""
    return _compare_page(request, project_id, "experiments/_compare_section.html")


def _compare_page(request, project_id, template):
    project = get_owned_project_or_404(request.user, project_id)
    try:
        comparison = selectors.compare(project, request.GET.get("ids", ""))
    except ValidationError as error:
        return _bad_request_for(request, error.message_dict)
    differing = set(comparison.differing)
    rows = [
        {
            "label": PARAMETER_LABELS[name],
            "values": [_shown(job, name) for job in comparison.jobs],
            "differs": name in differing,
        }
        for name in selectors.COMPARED_PARAMETERS
    ]
    context = {
        "project": project,
        "comparison": comparison,
        "parameter_rows": rows,
        "ids": ",".join(str(job.id) for job in comparison.jobs),
    }
    return render(request, template, context)


def _shown(job: TrainingJob, name: str):
    """A parameter's value as the pages show it (choices by their labels)."""
    if getattr(job, name) is None:
        return None
    display = getattr(job, f"get_{name}_display", None)
    return display() if display else getattr(job, name)
