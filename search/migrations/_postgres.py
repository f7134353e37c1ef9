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


def words_compression(cursor, table: str) -> str:
    """The compression method set on `table`'s `words` column ("lz4", "pglz", or "" for
    the server's default): a new partition must be given it, as it does not take its
    table's setting."""
    cursor.execute("SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass "
                   "AND attname = 'words'", [table])
    return {"l": "lz4", "p": "pglz"}.get(cursor.fetchone()[0], "")
