"""Every migration of ours applies backward and forward, on a database that holds data, keeping its rows."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from experiments.models import TrainingJob
from experiments.selectors import status_counts as counts_of
from projects.models import Project

pytestmark = pytest.mark.django_db(transaction=True)

OUR_APPS = ("projects", "experiments", "serving")
# Columns that every state of the schema has (0001_initial); later migrations add the others.
JOB_COLUMNS = ["id", "project_id", "model_name", "status", "accuracy", "loss", "created_at", "error_message"]


def migrations_of(app: str) -> list[str]:
    graph = MigrationExecutor(connection).loader.graph
    return [name for label, name in graph.forwards_plan(graph.leaf_nodes(app)[0]) if label == app]


def migrate(app: str, name: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([(app, name)])


def migrate_all_to_latest() -> None:
    """Every app's latest migration, those of the apps built on ours (serving) too."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def table_rows(table: str, columns: list[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")  # noqa: S608 (our own names)
        return cursor.fetchall()


def status_counts() -> dict[tuple[int, str], int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT project_id, status, SUM(count) FROM project_status_counts GROUP BY project_id, status"
            " HAVING SUM(count) > 0"
        )
        return {(project, status): count for project, status, count in cursor.fetchall()}


def test_our_migrations_go_back_and_forth_keeping_the_rows(demo):
    call_command("seed_demo", "--force", stdout=io.StringIO())  # with the larger demo project
    projects_before = table_rows("projects", ["id", "name", "description", "user_id", "created_at"])
    jobs_before = table_rows("training_jobs", JOB_COLUMNS)
    counts_before = status_counts()
    assert len(jobs_before) > 100 and counts_before

    names = migrations_of("experiments")
    try:
        # Step down one migration at a time to the first, then up again: at every state the rows are all there.
        for name in [*reversed(names[:-1]), *names[1:]]:
            migrate("experiments", name)
            assert table_rows("training_jobs", JOB_COLUMNS) == jobs_before, f"rows changed at {name}"
            assert table_rows("projects", ["id", "name", "description", "user_id", "created_at"]) == projects_before
    finally:
        migrate_all_to_latest()

    # The maintained counts were rebuilt from the rows, and the triggers work again.
    assert status_counts() == counts_before
    project = Project.objects.get(pk=1)
    TrainingJob.objects.filter(project=project, status="completed").update(status="failed")
    assert counts_of(project)["completed"] == 0
    assert counts_of(project)["failed"] == TrainingJob.objects.filter(project=project, status="failed").count()


def test_every_migration_of_ours_unapplies_to_zero_and_applies_again(db):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([(app, None) for app in OUR_APPS])
        tables = connection.introspection.table_names()
        assert "training_jobs" not in tables and "projects" not in tables
    finally:
        migrate_all_to_latest()
    tables = connection.introspection.table_names()
    assert {"projects", "training_jobs", "training_metrics", "project_status_counts", "run_files", "exports"} <= set(
        tables
    )
    assert not {"project_week_counts", "experiment_list_versions"} & set(tables)
