"""PostgreSQL search_tf: its vectors compressed with LZ4 where the server has it (as
search_entry's and search_chunk's are, migration 0001), made only when the database is
PostgreSQL.

Ranking a word reads one `search_tf` row per match; a fifth of the rows are long enough
to be compressed, and pglz (the default) took a tenth of a common word's search at 50k
documents to decompress them. The method applies to rows written from now on:
`manage.py rebuild_index` rewrites the old ones. A server built without LZ4 keeps pglz.
"""
from django.db import migrations, transaction

LZ4 = "ALTER TABLE search_tf ALTER COLUMN words SET COMPRESSION lz4;"
PGLZ = "ALTER TABLE search_tf ALTER COLUMN words SET COMPRESSION pglz;"


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(LZ4)
    except Exception:  # noqa: BLE001 - no LZ4 in this server: pglz it is
        pass


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(PGLZ)


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0006_entry_file_numbers"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
