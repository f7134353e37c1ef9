"""PostgreSQL search_chunk: a RUM index over the chunks' words, made only when the database
is PostgreSQL and the server offers the `rum` extension (Debian: `postgresql-15-rum`).
Optional: without it the engine finds the same entries, more slowly.

A phrase or a proximity (`"results of operations"`, `"stock option"~5`) is decided in
the chunks, which hold the words' real positions. A GIN index keeps no positions, so
each candidate entry's chunks were read and tested: about 120 kB per entry of a long
filing, most of such a search's time. RUM keeps the positions in the index and answers
the tsquery (`<->`, `<N>`) from it: the engine asks it for the matching chunks once.

Building it reads every chunk with writes to `search_chunk` held (searches go on): a few
minutes at 50k documents. A server that gains the extension later gets the index by
running this migration again: `manage.py migrate search 0009`, then `manage.py migrate`
(system check search.I003 says so). Creating an extension may need a superuser; without
the right, the migration leaves the index out and says why.
"""
import sys

from django.db import DatabaseError, migrations, transaction

INDEX = "search_chunk_rum"
CREATE = f"CREATE INDEX IF NOT EXISTS {INDEX} ON search_chunk USING rum (words rum_tsvector_ops)"


def available(cursor) -> bool:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum')")
    return cursor.fetchone()[0]


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not available(cursor):
            return
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS rum")
            cursor.execute(CREATE)
    except DatabaseError as error:  # e.g. not allowed to create the extension
        print(f"\n  search_chunk's RUM index left out: {error}".rstrip(), file=sys.stderr)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0009_postgres_entry_facets"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
