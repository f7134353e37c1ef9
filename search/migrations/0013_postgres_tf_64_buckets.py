"""PostgreSQL search_tf: 64 buckets per entry instead of 16 (bucket values 16..79, one
partition each), made only when the database is PostgreSQL.

Ranking reads one bucket row per match and word. With 16 buckets, the entries that a
common word matches (long documents, mostly) had bucket rows of about 2 kB, often over
PostgreSQL's inline limit: each lookup decompressed them, and read their TOAST pages when
`shared_buffers` did not hold them. A sixty-fourth of an entry's words is a row of a few
hundred bytes, stored inline and uncompressed: at 50k documents, the lookups that rank
the 13,690 matches of a common word took 27 ms from 16 buckets and 13 ms from 64.

Rows already written stay in partitions 0..15 and are read as before
(`search.backends.postgres.old_bucket`); `rebuild_index` rewrites them into the new
ones (`search.W004` until then). Unapplied, the new partitions are dropped, and the
entries written into them are ranked from their whole `words` vectors: the same figures.
"""
from django.db import migrations

from search.migrations._postgres import words_compression

FIRST, COUNT = 16, 64  # search.backends.postgres.FIRST_BUCKET, BUCKETS


def add_partitions(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # The compression of the existing partitions (LZ4 where migration 0007 set it).
        method = words_compression(cursor, "search_tf_0")
        for n in range(FIRST, FIRST + COUNT):
            cursor.execute(f"CREATE TABLE search_tf_{n} PARTITION OF search_tf "
                           f"FOR VALUES IN ({n})")
            if method:
                cursor.execute(f"ALTER TABLE search_tf_{n} ALTER COLUMN words "
                               f"SET COMPRESSION {method}")


def drop_partitions(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for n in range(FIRST, FIRST + COUNT):
            cursor.execute(f"DROP TABLE IF EXISTS search_tf_{n}")


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0012_postgres_entry_form_covering"),
    ]

    operations = [migrations.RunPython(add_partitions, drop_partitions, elidable=False)]
