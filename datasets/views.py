from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from datasets import services
from datasets.models import Dataset, DatasetVersion, get_owned_dataset_or_404, get_owned_version_or_404


class UploadForm(forms.Form):
    name = forms.CharField(label=_("Dataset name"), max_length=200)
    file = forms.FileField(label=_("Archive (zip or tar)"))


@login_required
@require_safe
def dataset_list(request):
    datasets = Dataset.objects.owned_by(request.user).prefetch_related("versions")
    return render(request, "datasets/dataset_list.html", {"datasets": datasets, "form": UploadForm()})


@login_required
@require_POST
def dataset_upload(request):
    """The Datasets page's upload: JSON for its script (which shows progress), a redirect without it."""
    form = UploadForm(request.POST, request.FILES)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if form.is_valid():
        try:
            version, _created = services.upload_version(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            url = reverse("dataset_detail", args=[version.dataset_id])
            return JsonResponse({"id": version.id, "url": url}) if wants_json else redirect(url)
    if wants_json:
        field, messages = next(iter(form.errors.items()))
        return JsonResponse({"detail": f"{field}: {messages[0]}", "errors": form.errors}, status=400)
    datasets = Dataset.objects.owned_by(request.user).prefetch_related("versions")
    return render(request, "datasets/dataset_list.html", {"datasets": datasets, "form": form}, status=400)


@login_required
@require_safe
def dataset_detail(request, dataset_id):
    dataset = get_owned_dataset_or_404(request.user, dataset_id)
    versions = list(dataset.versions.all())
    context = {
        "dataset": dataset,
        "versions": versions,
        "checking": any(v.status == DatasetVersion.Status.PENDING for v in versions),
    }
    return render(request, "datasets/dataset_detail.html", context)


@login_required
@require_POST
def dataset_delete(request, dataset_id):
    dataset = get_owned_dataset_or_404(request.user, dataset_id)
    try:
        services.delete_dataset(dataset)
    except services.DatasetInUse as error:
        return render(request, "400.html", {"message": str(error)}, status=409)
    return redirect("dataset_list")


@login_required
@require_POST
def version_delete(request, version_id):
    version = get_owned_version_or_404(request.user, version_id)
    try:
        services.delete_version(version)
    except services.DatasetInUse as error:
        return render(request, "400.html", {"message": str(error)}, status=409)
    if Dataset.objects.filter(pk=version.dataset_id).exists():
        return redirect("dataset_detail", version.dataset_id)
    return redirect("dataset_list")
