"""PostgreSQL search_entry: `grams`, which set of common words the entry's body chunks
carry the common grams of (`search.backends.postgres.GRAMS`; '' for none), made only when
the database is PostgreSQL.

A phrase through a very common word ("results of operations") was found in the chunks'
RUM index by reading the positions of "of" in nearly every chunk: 160 ms of such a
search at 50k documents. Chunks written by this version also hold each common word's
pair with the next word ("of~operations", `search.index.common_grams`) at the common
word's position, and the phrase is asked as `'results' <-> 'of~operations'`: two short
position lists. The engine asks that only when every entry's `grams` is this version's
set (its btree index gives the smallest and largest at once); until `rebuild_index` has
rewritten older entries, phrases are asked word by word, as before: the same entries.

Adding a column with a constant default rewrites nothing; the index reads the table once.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
ALTER TABLE search_entry ADD COLUMN grams text NOT NULL DEFAULT '';
CREATE INDEX search_entry_grams ON search_entry (grams);
"""
DROP = """
DROP INDEX IF EXISTS search_entry_grams;
ALTER TABLE search_entry DROP COLUMN IF EXISTS grams;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0010_postgres_chunk_rum"),
    ]

    operations = [postgres_sql(ADD, DROP)]
