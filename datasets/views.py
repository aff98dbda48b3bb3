from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from datasets import services
from datasets.models import (
    DATASET_NOT_FOUND,
    Dataset,
    DatasetVersion,
    FindingKind,
    get_owned_dataset_or_404,
    get_owned_version_or_404,
)
from platform_site.pages import refused
from platform_site.pagination import InvalidPageParameter, Paginator, page_params

FINDINGS_PER_PAGE = 50


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
@require_safe
def version_detail(request, version_id):
    """A version's check report: class balance, then its findings, filtered by kind and split, a page at a time."""
    version = get_owned_version_or_404(request.user, version_id)
    try:
        selected = version.findings_of(request.GET)
        number, _per_page = page_params(request.GET)
    except ValidationError as error:
        (param, messages), *_rest = error.message_dict.items()
        return render(request, "400.html", {"param": param, "message": messages[0]}, status=400)
    except InvalidPageParameter as error:
        return render(request, "400.html", {"param": error.param, "message": error.message}, status=400)
    findings = Paginator(selected, FINDINGS_PER_PAGE).page(number)
    counts = version.finding_counts
    context = {
        "version": version,
        "findings": findings,
        "kind": request.GET.get("kind", ""),
        "split": request.GET.get("split", ""),
        "kinds": [(value, label, counts[value]) for value, label in FindingKind.choices if value in counts],
        "balance": _class_balance(version),
        "checking": version.status == DatasetVersion.Status.PENDING,
    }
    return render(request, "datasets/version_detail.html", context)


def _class_balance(version: DatasetVersion) -> list[dict]:
    """Per class: its count in each split, and the largest count to draw the bars against."""
    counts = version.summary.get("class_counts", {})
    splits = [split for split in ("train", "val") if split in counts]
    rows = []
    for name in version.summary.get("classes", []):
        rows.append({"name": name, "splits": [(split, counts[split].get(name, 0)) for split in splits]})
    largest = max((count for row in rows for _split, count in row["splits"]), default=0)
    return [{**row, "max": largest} for row in rows]


@login_required
@require_safe
def version_preview(request, version_id, index):
    """One of a version's thumbnails, read from the storage for its owner (never a public URL)."""
    version = get_owned_version_or_404(request.user, version_id)
    previews = version.previews
    if not (index.isascii() and index.isdigit() and int(index) < len(previews)):
        raise Http404(DATASET_NOT_FOUND)
    try:
        file = default_storage.open(previews[int(index)]["name"], "rb")
    except OSError:
        raise Http404(DATASET_NOT_FOUND) from None
    response = FileResponse(file, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"  # a version never changes
    return response


@login_required
@require_POST
def version_fix(request, version_id):
    version = get_owned_version_or_404(request.user, version_id)
    try:
        fixed = services.fix_version(version, request.POST.get("fix", ""))
    except ValidationError as error:
        return refused(request, error.message_dict["fix"][0], reverse("version_detail", args=[version.id]))
    return redirect("version_detail", fixed.id)


@login_required
@require_POST
def dataset_delete(request, dataset_id):
    dataset = get_owned_dataset_or_404(request.user, dataset_id)
    try:
        services.delete_dataset(dataset)
    except services.DatasetInUse as error:
        return refused(request, str(error), reverse("dataset_detail", args=[dataset.id]))
    return redirect("dataset_list")


@login_required
@require_POST
def version_delete(request, version_id):
    version = get_owned_version_or_404(request.user, version_id)
    try:
        services.delete_version(version)
    except services.DatasetInUse as error:
        return refused(request, str(error), reverse("version_detail", args=[version.id]))
    if Dataset.objects.filter(pk=version.dataset_id).exists():
        return redirect("dataset_detail", version.dataset_id)
    return redirect("dataset_list")
