"""What most of the search app's migrations are: SQL for the PostgreSQL engine's tables,
run only when the database is PostgreSQL (SQLite deployments have none of them). Not a
migration itself: Django's loader skips modules whose names start with "_"."""
from django.db import migrations


def postgres_sql(forward: str, backward: str) -> migrations.RunPython:
    """An operation that runs `forward` (and, unapplied, `backward`) on PostgreSQL, and
    nothing elsewhere."""

    def run(sql):
        def operation(apps, schema_editor):
            if schema_editor.connection.vendor == "postgresql":
                with schema_editor.connection.cursor() as cursor:
                    cursor.execute(sql)
        return operation

    return migrations.RunPython(run(forward), run(backward), elidable=False)
