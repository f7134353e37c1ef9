"""PostgreSQL search_entry: the index on `form` also carries `accession`, `id` and
`length`, made only when the database is PostgreSQL.

A search filtered by form counts the form facet again without that filter (its other
values), and with no words that count covers every entry: it read the whole table's
heap (69 MB at 50k documents) for four narrow columns. Carried in the index, they are
read from it alone (an index-only scan) wherever the table's visibility map is current,
which `rebuild_index` (a VACUUM) and autovacuum keep it.

Rebuilding the index reads the table once (a few seconds at 50k documents); writes to
`search_entry` wait meanwhile, searches go on.
"""
from django.db import migrations

ADD = """
DROP INDEX IF EXISTS search_entry_form;
CREATE INDEX search_entry_form ON search_entry (form) INCLUDE (accession, id, length);
"""
DROP = """
DROP INDEX IF EXISTS search_entry_form;
CREATE INDEX search_entry_form ON search_entry (form);
"""


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(ADD)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0011_postgres_entry_grams"),
    ]

    operations = [migrations.RunPython(add, drop, elidable=False)]
