from functools import partial

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from experiments.filters import requested_statuses
from experiments.models import TrainingJob
from platform_site.pagination import InvalidQueryParameter, PageRequest, paginate
from projects.models import Project


@login_required
@require_safe
def dashboard(request):
    projects = Project.objects.owned_by(request.user).newest_first().with_status_counts()
    return render(request, "projects/dashboard.html", {"projects": projects})


def owned_project_or_404(request, project_id) -> Project:
    try:
        return Project.objects.get_owned(project_id, owner=request.user)
    except Project.DoesNotExist:
        raise Http404("Project not found") from None


@login_required
@require_safe
def project_detail(request, project_id):
    project = owned_project_or_404(request, project_id)
    return _experiments_page(request, project, "projects/project_detail.html")


@login_required
@require_safe
def project_section(request, project_id):
    """The experiments section alone: what the live page fetches to resynchronise."""
    project = owned_project_or_404(request, project_id)
    return _experiments_page(request, project, "projects/_experiments_section.html")


def _experiments_page(request, project, template):
    try:
        selected = requested_statuses(request.GET)
        page_request = PageRequest.from_query(request.GET)
    except InvalidQueryParameter as error:
        return _bad_request(request, error.param, error.message)

    page = paginate(
        lambda: TrainingJob.objects.for_project(project).newest_first().with_status(selected).with_metrics(),
        page_request,
        total=project.count_jobs(selected),
        keyset=TrainingJob.NEWEST_FIRST_KEYSET,
        seek=partial(project.seek_newest_first, statuses=selected),
    )

    # The section (tabs, rows, paging) is read and rendered once per version of the project's
    # experiments (see Project.experiments_cache_key), in each language and time zone: {% cache %}.
    status_param = ",".join(selected)
    section_cache_key = project.experiments_cache_key(
        "section", status_param, page.number, page.per_page, get_language(), timezone.get_current_timezone_name()
    )
    context = {
        "project": project,
        "page": page,
        "section_cache_key": section_cache_key,
        "tabs": _status_tabs(project.status_counts(), selected),
        "status_param": status_param,
    }
    return render(request, template, context)


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
