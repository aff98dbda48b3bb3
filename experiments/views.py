from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from experiments import catalog, services
from experiments.forms import NewExperimentForm
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
        experiments = experiment_list(project, request.GET)
        number, per_page = page_params(request.GET)
    except ValidationError as error:
        (param, messages), *_ = error.message_dict.items()
        return _bad_request(request, param, messages[0])
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
    }
    return render(request, "experiments/experiment_new.html", context, status=400 if form.errors else 200)


@login_required
@require_safe
def experiment_detail(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    return render(request, "experiments/experiment_detail.html", {"job": job, "project": job.project})


@login_required
@require_safe
def experiment_panel(request, project_id, experiment_id):
    """The live part of the experiment page, refetched on every event."""
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    return render(request, "experiments/_experiment_panel.html", {"job": job, "project": job.project})


@login_required
@require_safe
def experiment_row(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    return render(request, "experiments/_experiment_row.html", {"job": job})


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
