from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from experiments import catalog, services
from experiments.forms import NewExperimentForm
from experiments.models import TrainingJob
from projects.views import owned_project_or_404


def owned_job_or_404(request, project_id, experiment_id) -> TrainingJob:
    project = owned_project_or_404(request, project_id)
    jobs = TrainingJob.objects.for_project(project).select_related("project").with_metrics()
    try:
        return jobs.get_by_raw_id(experiment_id)
    except TrainingJob.DoesNotExist:
        raise Http404("Experiment not found") from None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def experiment_new(request, project_id):
    project = owned_project_or_404(request, project_id)
    form = NewExperimentForm(request.POST if request.method == "POST" else None)
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
    job = owned_job_or_404(request, project_id, experiment_id)
    return render(request, "experiments/experiment_detail.html", {"job": job, "project": job.project})


@login_required
@require_safe
def experiment_panel(request, project_id, experiment_id):
    """The live part of the experiment page, refetched on every event."""
    job = owned_job_or_404(request, project_id, experiment_id)
    return render(request, "experiments/_experiment_panel.html", {"job": job, "project": job.project})


@login_required
@require_safe
def experiment_row(request, project_id, experiment_id):
    job = owned_job_or_404(request, project_id, experiment_id)
    return render(request, "experiments/_experiment_row.html", {"job": job})


@login_required
@require_POST
def experiment_cancel(request, project_id, experiment_id):
    job = owned_job_or_404(request, project_id, experiment_id)
    try:
        services.experiment_cancel(job=job)
    except services.ExperimentConflict as error:
        return render(request, "400.html", {"message": str(error)}, status=409)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("experiment_detail", project_id=job.project_id, experiment_id=job.id)
