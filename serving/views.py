"""The experiment page's "Get the model" and "Try it" forms; the page itself is the experiments app's, which
shows this app's part through serving_tags."""

import random

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from experiments import run_files
from experiments.selectors import get_owned_experiment_or_404
from platform_site.pages import refused
from serving import selectors, services
from serving.forms import PredictionForm


def _back(job) -> str:
    return reverse("experiment_detail", args=[job.project_id, job.id])


@login_required
@require_POST
def exports_request(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    try:
        services.exports_request(job=job)
    except services.ServingConflict as error:
        return refused(request, str(error), _back(job))
    return redirect(_back(job) + "#exports")


@login_required
@require_safe
def export_file(request, project_id, experiment_id, export_format):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    export = selectors.verified_export(job, export_format)
    return run_files.stored_response(export.storage_name, filename=f"experiment-{job.id}-model.{export.format}")


@login_required
@require_POST
def prediction_create(request, project_id, experiment_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    form = PredictionForm(request.POST, request.FILES)
    if not form.is_valid():
        return refused(request, form.errors.as_text(), _back(job), status=400)
    image = form.cleaned_data["image"]
    from_val = request.POST.get("source") == "val"
    if image is None and not from_val:
        return refused(request, _("Choose an image first."), _back(job), status=400)
    try:
        if from_val:
            services.prediction_create(job=job, val_image=random.randrange(1_000_000))
        else:
            services.prediction_create(job=job, image=image)
    except services.ServingConflict as error:
        return refused(request, str(error), _back(job))
    except ValidationError as error:
        return refused(request, error.message_dict["image"][0], _back(job), status=400)
    return redirect(_back(job) + "#try-it")


@login_required
@require_safe
def prediction_image(request, project_id, experiment_id, prediction_id):
    job = get_owned_experiment_or_404(request.user, project_id, experiment_id)
    name = (selectors.prediction_of(job, prediction_id).result or {}).get("image")
    if not name:
        raise Http404("No image yet")
    response = run_files.stored_response(name, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"  # a prediction's image never changes
    return response
