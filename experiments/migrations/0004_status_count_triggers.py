"""Triggers that keep project_status_counts exact on every write to training_jobs."""

from django.db import migrations

SQLITE = [
    """
    CREATE TRIGGER training_jobs_count_insert AFTER INSERT ON training_jobs BEGIN
        INSERT OR IGNORE INTO project_status_counts (project_id, status, count) VALUES (NEW.project_id, NEW.status, 0);
        UPDATE project_status_counts SET count = count + 1 WHERE project_id = NEW.project_id AND status = NEW.status;
    END
    """,
    """
    CREATE TRIGGER training_jobs_count_delete AFTER DELETE ON training_jobs BEGIN
        UPDATE project_status_counts SET count = count - 1 WHERE project_id = OLD.project_id AND status = OLD.status;
    END
    """,
    """
    CREATE TRIGGER training_jobs_count_update AFTER UPDATE OF status, project_id ON training_jobs
    WHEN OLD.status IS NOT NEW.status OR OLD.project_id IS NOT NEW.project_id BEGIN
        UPDATE project_status_counts SET count = count - 1 WHERE project_id = OLD.project_id AND status = OLD.status;
        INSERT OR IGNORE INTO project_status_counts (project_id, status, count) VALUES (NEW.project_id, NEW.status, 0);
        UPDATE project_status_counts SET count = count + 1 WHERE project_id = NEW.project_id AND status = NEW.status;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS training_jobs_count_insert",
    "DROP TRIGGER IF EXISTS training_jobs_count_delete",
    "DROP TRIGGER IF EXISTS training_jobs_count_update",
]

# Statement-level triggers with transition tables: a bulk insert of a million
# rows updates each count once, not once per row.
POSTGRESQL = [
    """
    CREATE FUNCTION training_jobs_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO project_status_counts (project_id, status, count)
        SELECT project_id, status, count(*) FROM new_rows GROUP BY project_id, status
        ON CONFLICT (project_id, status) DO UPDATE SET count = project_status_counts.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION training_jobs_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE project_status_counts c SET count = c.count - d.n
        FROM (SELECT project_id, status, count(*) AS n FROM old_rows GROUP BY project_id, status) d
        WHERE c.project_id = d.project_id AND c.status = d.status;
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION training_jobs_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Most updates (progress, heartbeats) move nothing: the join finds no changed row.
        INSERT INTO project_status_counts (project_id, status, count)
        SELECT project_id, status, sum(n) FROM (
            SELECT o.project_id, o.status, -1 AS n FROM old_rows o JOIN new_rows w ON w.id = o.id
            WHERE o.status IS DISTINCT FROM w.status OR o.project_id IS DISTINCT FROM w.project_id
            UNION ALL
            SELECT w.project_id, w.status, 1 AS n FROM old_rows o JOIN new_rows w ON w.id = o.id
            WHERE o.status IS DISTINCT FROM w.status OR o.project_id IS DISTINCT FROM w.project_id
        ) moves
        GROUP BY project_id, status
        ON CONFLICT (project_id, status) DO UPDATE SET count = project_status_counts.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER training_jobs_count_insert AFTER INSERT ON training_jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION training_jobs_count_insert()
    """,
    """
    CREATE TRIGGER training_jobs_count_delete AFTER DELETE ON training_jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION training_jobs_count_delete()
    """,
    """
    CREATE TRIGGER training_jobs_count_update AFTER UPDATE ON training_jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION training_jobs_count_update()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS training_jobs_count_insert ON training_jobs",
    "DROP TRIGGER IF EXISTS training_jobs_count_delete ON training_jobs",
    "DROP TRIGGER IF EXISTS training_jobs_count_update ON training_jobs",
    "DROP FUNCTION IF EXISTS training_jobs_count_insert()",
    "DROP FUNCTION IF EXISTS training_jobs_count_delete()",
    "DROP FUNCTION IF EXISTS training_jobs_count_update()",
]

BACKFILL = """
    INSERT INTO project_status_counts (project_id, status, count)
    SELECT project_id, status, count(*) FROM training_jobs GROUP BY project_id, status
"""


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"No status-count triggers for {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("experiments", "0003_status_counts")]

    operations = [
        migrations.RunPython(
            run({"sqlite": [*SQLITE, BACKFILL], "postgresql": [*POSTGRESQL, BACKFILL]}),
            run(
                {
                    "sqlite": [*SQLITE_DROP, "DELETE FROM project_status_counts"],
                    "postgresql": [*POSTGRESQL_DROP, "DELETE FROM project_status_counts"],
                }
            ),
        ),
    ]
