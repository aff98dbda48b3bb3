"""The experiments list's first page in hand-written SQL and JSON: a lower bound, not shipped.

bench_list.py measures this view beside the real one (served by a second
server with lower_bound_settings, and in instructions), to show what skipping
the ORM, django-filter and the paginator could buy at most: the same JWT
authentication, permission and renderer (a DRF view), the same two queries
written out by hand, the same JSON body and headers (checked byte for byte
against the real endpoint), and nothing else - no page, per_page or status
parameters, no deep pages. It is here to be measured, not copied.
"""

from datetime import UTC

from django.db import connection
from django.urls import include, path
from django.utils import timezone
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from experiments.api.serializers import DATETIME_FIELDS, SPEC_FIELDS, iso_datetime
from platform_site.pagination import DEFAULT_PER_PAGE
from projects.models import parse_id

PROJECT_COUNTS = (
    "SELECT s.count FROM projects p LEFT JOIN project_status_counts s ON s.project_id = p.id "
    "WHERE p.id = %s AND p.user_id = %s"
)
COLUMNS = ", ".join(SPEC_FIELDS)
FIRST_PAGE = (
    f"SELECT {COLUMNS} FROM training_jobs WHERE project_id = %s "  # noqa: S608 (constants, no input)
    "ORDER BY created_at DESC, id DESC LIMIT %s"
)


@api_view(["GET"])
def first_page(request, project_pk):
    pk = parse_id(project_pk)
    with connection.cursor() as cursor:
        cursor.execute(PROJECT_COUNTS, [pk, request.user.pk])
        counts = cursor.fetchall()
        if not counts:
            raise NotFound("Project not found")
        cursor.execute(FIRST_PAGE, [pk, DEFAULT_PER_PAGE])
        rows = cursor.fetchall()
    zone = timezone.get_current_timezone()
    jobs = []
    for row in rows:
        job = dict(zip(SPEC_FIELDS, row, strict=True))
        for name in DATETIME_FIELDS:
            value = job[name]
            if value is not None and value.tzinfo is None:  # SQLite's, stored in UTC
                value = value.replace(tzinfo=UTC)
            job[name] = iso_datetime(value, zone)
        jobs.append(job)
    total = sum(count or 0 for (count,) in counts)
    last = max(1, -(-total // DEFAULT_PER_PAGE))
    url = request.build_absolute_uri(f"/api/v1/projects/{pk}/experiments")
    links = [(1, "first"), *([(2, "next")] if last > 1 else []), (last, "last")]
    link = ", ".join(f'<{url}?page={n}&per_page={DEFAULT_PER_PAGE}>; rel="{rel}"' for n, rel in links)
    return Response(jobs, headers={"X-Total-Count": str(total), "Link": link})


urlpatterns = [
    path("lower-bound/projects/<str:project_pk>/experiments", first_page),
    path("", include("platform_site.urls")),
]
