"""project_status_counts by framework, task and model as well as status.

A list narrowed to one model (or framework, task, or part of a model's name)
then finds its total and its tabs in these rows, as the status filter
always did, instead of counting tens of thousands of rows per request. The
three triggers of migration 0004 are replaced by the same three with the
wider key, and the index that served those counts (migration 0012) goes.
"""

from importlib import import_module

from django.db import migrations, models

previous = import_module("experiments.migrations.0004_status_count_triggers")

KEY = "project_id, status, framework, task_type, model_name"
NEW_KEY = "NEW.project_id, NEW.status, NEW.framework, NEW.task_type, NEW.model_name"
OLD_MATCHES = (
    "project_id = OLD.project_id AND status = OLD.status AND framework = OLD.framework "
    "AND task_type = OLD.task_type AND model_name = OLD.model_name"
)
NEW_MATCHES = OLD_MATCHES.replace("OLD.", "NEW.")

SQLITE = [
    f"""
    CREATE TRIGGER training_jobs_count_insert AFTER INSERT ON training_jobs BEGIN
        INSERT OR IGNORE INTO project_status_counts ({KEY}, count) VALUES ({NEW_KEY}, 0);
        UPDATE project_status_counts SET count = count + 1 WHERE {NEW_MATCHES};
    END
    """,
    f"""
    CREATE TRIGGER training_jobs_count_delete AFTER DELETE ON training_jobs BEGIN
        UPDATE project_status_counts SET count = count - 1 WHERE {OLD_MATCHES};
    END
    """,
    f"""
    CREATE TRIGGER training_jobs_count_update
    AFTER UPDATE OF project_id, status, framework, task_type, model_name ON training_jobs
    WHEN OLD.project_id IS NOT NEW.project_id OR OLD.status IS NOT NEW.status OR OLD.framework IS NOT NEW.framework
        OR OLD.task_type IS NOT NEW.task_type OR OLD.model_name IS NOT NEW.model_name
    BEGIN
        UPDATE project_status_counts SET count = count - 1 WHERE {OLD_MATCHES};
        INSERT OR IGNORE INTO project_status_counts ({KEY}, count) VALUES ({NEW_KEY}, 0);
        UPDATE project_status_counts SET count = count + 1 WHERE {NEW_MATCHES};
    END
    """,
]

# Statement-level triggers with transition tables: a bulk insert of a million
# rows updates each count once, not once per row.
MOVED = (
    "o.project_id IS DISTINCT FROM w.project_id OR o.status IS DISTINCT FROM w.status "
    "OR o.framework IS DISTINCT FROM w.framework OR o.task_type IS DISTINCT FROM w.task_type "
    "OR o.model_name IS DISTINCT FROM w.model_name"
)
POSTGRESQL = [
    f"""
    CREATE FUNCTION training_jobs_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO project_status_counts ({KEY}, count)
        SELECT {KEY}, count(*) FROM new_rows GROUP BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET count = project_status_counts.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION training_jobs_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE project_status_counts c SET count = c.count - d.n
        FROM (SELECT {KEY}, count(*) AS n FROM old_rows GROUP BY {KEY}) d
        WHERE c.project_id = d.project_id AND c.status = d.status AND c.framework = d.framework
            AND c.task_type = d.task_type AND c.model_name = d.model_name;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION training_jobs_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Most updates (progress, heartbeats) move nothing: the join finds no changed row.
        INSERT INTO project_status_counts ({KEY}, count)
        SELECT {KEY}, sum(n) FROM (
            SELECT o.project_id, o.status, o.framework, o.task_type, o.model_name, -1 AS n
            FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE {MOVED}
            UNION ALL
            SELECT w.project_id, w.status, w.framework, w.task_type, w.model_name, 1 AS n
            FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE {MOVED}
        ) moves
        GROUP BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET count = project_status_counts.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    *previous.POSTGRESQL[3:],  # the CREATE TRIGGER statements: unchanged, they call the functions above
]

BACKFILL = f"INSERT INTO project_status_counts ({KEY}, count) SELECT {KEY}, count(*) FROM training_jobs GROUP BY {KEY}"
EMPTY = "DELETE FROM project_status_counts"
DROP = {"sqlite": [*previous.SQLITE_DROP, EMPTY], "postgresql": [*previous.POSTGRESQL_DROP, EMPTY]}


class Migration(migrations.Migration):
    dependencies = [("experiments", "0014_run_files_initial_weights")]

    operations = [
        migrations.RunPython(
            previous.run(DROP),
            previous.run(
                {
                    "sqlite": [*previous.SQLITE, previous.BACKFILL],
                    "postgresql": [*previous.POSTGRESQL, previous.BACKFILL],
                }
            ),
        ),
        migrations.RemoveConstraint(model_name="projectstatuscount", name="status_count_unique"),
        migrations.AddField(
            model_name="projectstatuscount",
            name="framework",
            field=models.CharField(default="", max_length=20),
        ),
        migrations.AddField(
            model_name="projectstatuscount",
            name="task_type",
            field=models.CharField(default="", max_length=40),
        ),
        migrations.AddField(
            model_name="projectstatuscount",
            name="model_name",
            field=models.CharField(default="", max_length=200),
        ),
        migrations.AddConstraint(
            model_name="projectstatuscount",
            constraint=models.UniqueConstraint(
                fields=("project", "status", "framework", "task_type", "model_name"), name="status_count_unique"
            ),
        ),
        migrations.RunPython(
            previous.run({"sqlite": [*SQLITE, BACKFILL], "postgresql": [*POSTGRESQL, BACKFILL]}),
            previous.run(DROP),
        ),
        # It counted a list narrowed by model without reading the rows; the counts above do it without the index.
        migrations.RemoveIndex(model_name="trainingjob", name="job_project_status_model_idx"),
    ]
