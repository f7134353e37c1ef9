"""The PostgreSQL engine's ranking table, `search_tf` (search.backends.postgres), made only
when the database is PostgreSQL.

Each indexed entry's word frequencies, split by a hash of the word into BUCKETS small
vectors: ranking a word reads its one bucket (about a sixteenth of the entry's `words`)
instead of the whole vector. Entries written before this table existed have no rows and
are ranked from `words` as before, until `manage.py rebuild_index` fills it.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

CREATE = """
CREATE TABLE search_tf (
    entry_id bigint NOT NULL REFERENCES search_entry (id) ON DELETE CASCADE,
    bucket smallint NOT NULL,
    words tsvector NOT NULL,
    PRIMARY KEY (entry_id, bucket)
);
"""
DROP = "DROP TABLE IF EXISTS search_tf;"


class Migration(migrations.Migration):
    dependencies = [("search", "0001_postgres_index")]
    operations = [postgres_sql(CREATE, DROP)]
