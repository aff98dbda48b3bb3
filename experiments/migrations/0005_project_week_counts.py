"""project_week_counts: experiments per project, status and week of creation (UTC), kept exact by triggers."""

import django.db.models.deletion
from django.db import migrations, models


def sqlite_week(column: str) -> str:
    # created_at is UTC text, "YYYY-MM-DD HH:MM:SS.ffffff": take its day as written, then go back to
    # its Monday. (date() of the whole text would round .999999 up into the next day.)
    return f"date(substr({column}, 1, 10), '-6 days', 'weekday 1')"


def postgresql_week(column: str) -> str:
    return f"date_trunc('week', {column} AT TIME ZONE 'UTC')::date"


SQLITE = [
    f"""
    CREATE TRIGGER training_jobs_week_count_insert AFTER INSERT ON training_jobs BEGIN
        INSERT OR IGNORE INTO project_week_counts (project_id, status, week, count)
        VALUES (NEW.project_id, NEW.status, {sqlite_week("NEW.created_at")}, 0);
        UPDATE project_week_counts SET count = count + 1
        WHERE project_id = NEW.project_id AND status = NEW.status AND week = {sqlite_week("NEW.created_at")};
    END
    """,
    f"""
    CREATE TRIGGER training_jobs_week_count_delete AFTER DELETE ON training_jobs BEGIN
        UPDATE project_week_counts SET count = count - 1
        WHERE project_id = OLD.project_id AND status = OLD.status AND week = {sqlite_week("OLD.created_at")};
    END
    """,
    f"""
    CREATE TRIGGER training_jobs_week_count_update AFTER UPDATE OF status, project_id, created_at ON training_jobs
    WHEN OLD.status IS NOT NEW.status OR OLD.project_id IS NOT NEW.project_id
        OR {sqlite_week("OLD.created_at")} IS NOT {sqlite_week("NEW.created_at")} BEGIN
        UPDATE project_week_counts SET count = count - 1
        WHERE project_id = OLD.project_id AND status = OLD.status AND week = {sqlite_week("OLD.created_at")};
        INSERT OR IGNORE INTO project_week_counts (project_id, status, week, count)
        VALUES (NEW.project_id, NEW.status, {sqlite_week("NEW.created_at")}, 0);
        UPDATE project_week_counts SET count = count + 1
        WHERE project_id = NEW.project_id AND status = NEW.status AND week = {sqlite_week("NEW.created_at")};
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS training_jobs_week_count_insert",
    "DROP TRIGGER IF EXISTS training_jobs_week_count_delete",
    "DROP TRIGGER IF EXISTS training_jobs_week_count_update",
]

# Statement-level, like the status counts: a bulk insert updates each week's count once.
POSTGRESQL = [
    f"""
    CREATE FUNCTION training_jobs_week_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO project_week_counts (project_id, status, week, count)
        SELECT project_id, status, {postgresql_week("created_at")}, count(*) FROM new_rows GROUP BY 1, 2, 3
        ON CONFLICT (project_id, week, status) DO UPDATE SET count = project_week_counts.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION training_jobs_week_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE project_week_counts c SET count = c.count - d.n
        FROM (
            SELECT project_id, status, {postgresql_week("created_at")} AS week, count(*) AS n
            FROM old_rows GROUP BY 1, 2, 3
        ) d
        WHERE c.project_id = d.project_id AND c.status = d.status AND c.week = d.week;
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION training_jobs_week_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        -- Most updates (progress, heartbeats) move nothing: the join finds no changed row.
        INSERT INTO project_week_counts (project_id, status, week, count)
        SELECT project_id, status, week, sum(n) FROM (
            SELECT o.project_id, o.status, {postgresql_week("o.created_at")} AS week, -1 AS n
            FROM old_rows o JOIN new_rows w ON w.id = o.id
            WHERE o.status IS DISTINCT FROM w.status OR o.project_id IS DISTINCT FROM w.project_id
                OR o.created_at IS DISTINCT FROM w.created_at
            UNION ALL
            SELECT w.project_id, w.status, {postgresql_week("w.created_at")} AS week, 1 AS n
            FROM old_rows o JOIN new_rows w ON w.id = o.id
            WHERE o.status IS DISTINCT FROM w.status OR o.project_id IS DISTINCT FROM w.project_id
                OR o.created_at IS DISTINCT FROM w.created_at
        ) moves
        GROUP BY project_id, status, week
        ON CONFLICT (project_id, week, status) DO UPDATE SET count = project_week_counts.count + EXCLUDED.count;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER training_jobs_week_count_insert AFTER INSERT ON training_jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION training_jobs_week_count_insert()
    """,
    """
    CREATE TRIGGER training_jobs_week_count_delete AFTER DELETE ON training_jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION training_jobs_week_count_delete()
    """,
    """
    CREATE TRIGGER training_jobs_week_count_update AFTER UPDATE ON training_jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION training_jobs_week_count_update()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS training_jobs_week_count_insert ON training_jobs",
    "DROP TRIGGER IF EXISTS training_jobs_week_count_delete ON training_jobs",
    "DROP TRIGGER IF EXISTS training_jobs_week_count_update ON training_jobs",
    "DROP FUNCTION IF EXISTS training_jobs_week_count_insert()",
    "DROP FUNCTION IF EXISTS training_jobs_week_count_delete()",
    "DROP FUNCTION IF EXISTS training_jobs_week_count_update()",
]

BACKFILL = """
    INSERT INTO project_week_counts (project_id, status, week, count)
    SELECT project_id, status, {week}, count(*) FROM training_jobs GROUP BY 1, 2, 3
"""


def run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"No week-count triggers for {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0004_status_count_triggers"),
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectWeekCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=20)),
                ("week", models.DateField(help_text="The Monday the week starts on (UTC).")),
                ("count", models.BigIntegerField(default=0)),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="week_count_rows",
                        to="projects.project",
                    ),
                ),
            ],
            options={
                "db_table": "project_week_counts",
                "constraints": [models.UniqueConstraint(fields=("project", "week", "status"), name="week_count_unique")],
            },
        ),
        migrations.RunPython(
            run(
                {
                    "sqlite": [*SQLITE, BACKFILL.format(week=sqlite_week("created_at"))],
                    "postgresql": [*POSTGRESQL, BACKFILL.format(week=postgresql_week("created_at"))],
                }
            ),
            run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}),
        ),
    ]
