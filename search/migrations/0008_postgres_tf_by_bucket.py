"""PostgreSQL search_tf partitioned by bucket, made only when the database is PostgreSQL.

Ranking a word reads its one bucket's `search_tf` row of each match. Stored in the order
entries were written, an entry's sixteen rows lie together, so a word's rows for 13,690
matches (a common word at 50k documents) lay on as many pages of the whole table. One
partition per bucket keeps each bucket's rows together, on a sixteenth of the pages: at
50k documents the common word's whole search took 158 ms instead of 216. The rows are
moved once, here (826k rows at 50k documents: 9 s); entries written later go to their
partitions as they come, at no measurable cost to writing.
"""
from django.db import migrations

from search.migrations._postgres import words_compression

PARTITIONS = 16  # search.backends.postgres.BUCKETS

COLUMNS = """
    entry_id bigint NOT NULL REFERENCES search_entry (id) ON DELETE CASCADE,
    bucket smallint NOT NULL,
    words tsvector NOT NULL,
    PRIMARY KEY (entry_id, bucket)
"""


def _replace(cursor, create_new: list[str]):
    """Move search_tf's rows into the table `create_new` makes (as search_tf_new), then
    put it in search_tf's place, with the same names for its constraints, and the same
    compression (LZ4 where migration 0007 set it)."""
    # No ingest may write a row between the copy and the swap (searches read on). Both
    # tables are locked first, in the order an ingest writes them: the new table's
    # foreign key needs search_entry's lock, and taking it after search_tf's could
    # deadlock with an ingest that wrote its entry and waits to write its frequencies.
    cursor.execute("LOCK TABLE search_entry IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute("LOCK TABLE search_tf IN SHARE MODE")
    method = words_compression(cursor, "search_tf")
    for statement in create_new:
        cursor.execute(statement)
    if method:  # on the table and on each partition (the setting is not passed down)
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = "
                       "'search_tf_new'::regclass")
        for table in ["search_tf_new", *(row[0] for row in cursor.fetchall())]:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN words SET COMPRESSION {method}")
    cursor.execute("INSERT INTO search_tf_new (entry_id, bucket, words) "
                   "SELECT entry_id, bucket, words FROM search_tf")
    cursor.execute("DROP TABLE search_tf")
    cursor.execute("ALTER TABLE search_tf_new RENAME TO search_tf")
    cursor.execute("SELECT conname, contype FROM pg_constraint WHERE conrelid = "
                   "'search_tf'::regclass")
    for name, kind in cursor.fetchall():
        wanted = {"p": "search_tf_pkey", "f": "search_tf_entry_id_fkey"}.get(kind)
        if wanted and name != wanted:
            cursor.execute(f'ALTER TABLE search_tf RENAME CONSTRAINT "{name}" TO {wanted}')
    cursor.execute("ANALYZE search_tf")


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        _replace(cursor, [f"CREATE TABLE search_tf_new ({COLUMNS}) PARTITION BY LIST (bucket)"] + [
            f"CREATE TABLE search_tf_{n} PARTITION OF search_tf_new FOR VALUES IN ({n})"
            for n in range(PARTITIONS)
        ])


def unpartition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        _replace(cursor, [f"CREATE TABLE search_tf_new ({COLUMNS})"])


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0007_postgres_tf_lz4"),
    ]

    operations = [migrations.RunPython(partition, unpartition, elidable=False)]
