"""experiment_list_versions: a new number for a project on every change to what its experiment list shows.

Triggers on training_jobs and training_metrics set it, so every write path
(services, the admin, bulk writes, raw SQL) moves it. Heartbeats (heartbeat_at,
worker_id) show nowhere, so they leave it as it is: a running experiment does
not empty the cache every few seconds.
"""

import django.db.models.deletion
from django.db import migrations, models

# Every column of training_jobs but heartbeat_at and worker_id.
SHOWN_COLUMNS = [
    "id", "project_id", "model_name", "framework", "task_type", "status", "dataset_path", "epochs", "batch_size",
    "learning_rate", "accuracy", "loss", "created_at", "updated_at", "started_at", "completed_at", "error_message",
    "image_size", "current_epoch", "cancel_requested_at",
]  # fmt: skip


def columns_of(row: str) -> str:
    return "(" + ", ".join(f"{row}.{column}" for column in SHOWN_COLUMNS) + ")"


SQLITE_NUMBER = "random()"
POSTGRESQL_NUMBER = "(random() * 9e18)::bigint"


def renew_or_create(project_ids: str, number: str) -> str:
    """A new number for each project listed by `project_ids` (a SELECT), creating its row if needed."""
    return f"""
        INSERT INTO experiment_list_versions (project_id, number)
        SELECT project_id, {number} FROM ({project_ids}) AS changed WHERE true
        ON CONFLICT (project_id) DO UPDATE SET number = excluded.number
    """  # "WHERE true": SQLite needs it to read ON CONFLICT after a SELECT


def renew(project_ids: str, number: str) -> str:
    """A new number for each project listed that has a row. Deletes only renew: a project being
    deleted has its row deleted too, and must not get one back."""
    return f"UPDATE experiment_list_versions SET number = {number} WHERE project_id IN ({project_ids})"


def sqlite_job_of(metric_row: str) -> str:
    return f"SELECT project_id FROM training_jobs WHERE id = {metric_row}.training_job_id"


SQLITE = [
    f"""
    CREATE TRIGGER training_jobs_list_version_insert AFTER INSERT ON training_jobs BEGIN
        {renew_or_create("SELECT NEW.project_id AS project_id", SQLITE_NUMBER)};
    END
    """,
    f"""
    CREATE TRIGGER training_jobs_list_version_delete AFTER DELETE ON training_jobs BEGIN
        {renew("SELECT OLD.project_id", SQLITE_NUMBER)};
    END
    """,
    f"""
    CREATE TRIGGER training_jobs_list_version_update AFTER UPDATE ON training_jobs
    WHEN {columns_of("OLD")} IS NOT {columns_of("NEW")} BEGIN
        {renew_or_create("SELECT OLD.project_id AS project_id UNION SELECT NEW.project_id", SQLITE_NUMBER)};
    END
    """,
    f"""
    CREATE TRIGGER training_metrics_list_version_insert AFTER INSERT ON training_metrics BEGIN
        {renew(sqlite_job_of("NEW"), SQLITE_NUMBER)};
    END
    """,
    f"""
    CREATE TRIGGER training_metrics_list_version_delete AFTER DELETE ON training_metrics BEGIN
        {renew(sqlite_job_of("OLD"), SQLITE_NUMBER)};
    END
    """,
    f"""
    CREATE TRIGGER training_metrics_list_version_update AFTER UPDATE ON training_metrics BEGIN
        {renew(sqlite_job_of("OLD") + " UNION " + sqlite_job_of("NEW"), SQLITE_NUMBER)};
    END
    """,
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_list_version_{event}"
    for table in ("training_jobs", "training_metrics")
    for event in ("insert", "delete", "update")
]

# Statement-level with transition tables, like the counts: a bulk write renews each project once.
CHANGED_JOBS = f"old_rows o JOIN new_rows w ON w.id = o.id WHERE {columns_of('o')} IS DISTINCT FROM {columns_of('w')}"


def postgresql_jobs_of(metric_rows: str) -> str:
    return f"SELECT j.project_id FROM training_jobs j JOIN {metric_rows} m ON m.training_job_id = j.id"


def postgresql_function(name: str, body: str) -> str:
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {body};
        RETURN NULL;
    END $$
    """


def postgresql_trigger(table: str, event: str, tables: str) -> str:
    name = f"{table}_list_version_{event.lower()}"
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON {table}
    REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {name}()
    """


POSTGRESQL = [
    postgresql_function(
        "training_jobs_list_version_insert",
        renew_or_create("SELECT DISTINCT project_id FROM new_rows", POSTGRESQL_NUMBER),
    ),
    postgresql_function(
        "training_jobs_list_version_delete",
        renew("SELECT project_id FROM old_rows", POSTGRESQL_NUMBER),
    ),
    postgresql_function(
        "training_jobs_list_version_update",
        # Most updates of a running experiment are heartbeats: no row qualifies, nothing is written.
        renew_or_create(
            f"SELECT o.project_id FROM {CHANGED_JOBS} UNION SELECT w.project_id FROM {CHANGED_JOBS}",
            POSTGRESQL_NUMBER,
        ),
    ),
    postgresql_function(
        "training_metrics_list_version_insert",
        renew(postgresql_jobs_of("new_rows"), POSTGRESQL_NUMBER),
    ),
    postgresql_function(
        "training_metrics_list_version_delete",
        renew(postgresql_jobs_of("old_rows"), POSTGRESQL_NUMBER),
    ),
    postgresql_function(
        "training_metrics_list_version_update",
        renew(postgresql_jobs_of("old_rows") + " UNION " + postgresql_jobs_of("new_rows"), POSTGRESQL_NUMBER),
    ),
    postgresql_trigger("training_jobs", "INSERT", "NEW TABLE AS new_rows"),
    postgresql_trigger("training_jobs", "DELETE", "OLD TABLE AS old_rows"),
    postgresql_trigger("training_jobs", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    postgresql_trigger("training_metrics", "INSERT", "NEW TABLE AS new_rows"),
    postgresql_trigger("training_metrics", "DELETE", "OLD TABLE AS old_rows"),
    postgresql_trigger("training_metrics", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
]
POSTGRESQL_DROP = [
    statement
    for table in ("training_jobs", "training_metrics")
    for event in ("insert", "delete", "update")
    for statement in (
        f"DROP TRIGGER IF EXISTS {table}_list_version_{event} ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_list_version_{event}()",
    )
]


def backfill(number: str) -> str:
    return f"INSERT INTO experiment_list_versions (project_id, number) SELECT id, {number} FROM projects"


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"No list-version triggers for {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0005_project_week_counts"),
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ExperimentListVersion",
            fields=[
                (
                    "project",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="experiment_list_version",
                        serialize=False,
                        to="projects.project",
                    ),
                ),
                ("number", models.BigIntegerField()),
            ],
            options={"db_table": "experiment_list_versions"},
        ),
        migrations.RunPython(
            run(
                {
                    "sqlite": [*SQLITE, backfill(SQLITE_NUMBER)],
                    "postgresql": [*POSTGRESQL, backfill(POSTGRESQL_NUMBER)],
                }
            ),
            run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
