from datetime import timedelta

import pytest

from experiments.models import TrainingJob
from platform_site.pagination import PageRequest, paginate
from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("statuses", [[], ["failed"], ["completed", "failed"]])
def test_pages_read_from_a_boundary_key_equal_offset_pages(demo, statuses):
    project = Project.objects.get(pk=1)
    base = project.created_at
    # Many ties on created_at, so the id tie-break matters.
    TrainingJob.objects.bulk_create(
        TrainingJob(
            project=project, model_name=f"m{i}", framework="timm", task_type="image_classification",
            status=["completed", "failed", "pending"][i % 3], dataset_path="/d", epochs=1, batch_size=1,
            learning_rate=0.1, created_at=base + timedelta(minutes=i // 4),
        )
        for i in range(137)
    )  # fmt: skip
    jobs = TrainingJob.objects.for_project(project).newest_first()
    if statuses:
        jobs = jobs.with_status(statuses)
    expected = list(jobs.values_list("id", flat=True))
    for per_page in (1, 7, 20):
        seen = []
        for number in range(1, len(expected) // per_page + 3):
            page = paginate(jobs, PageRequest(number, per_page), keyset=TrainingJob.NEWEST_FIRST_KEYSET)
            assert [j.id for j in page.items] == expected[(number - 1) * per_page : number * per_page]
            seen += [j.id for j in page.items]
        assert seen == expected
