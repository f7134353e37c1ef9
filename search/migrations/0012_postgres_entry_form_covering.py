"""PostgreSQL search_entry: the index on `form` also carries `accession`, `id` and
`length`, made only when the database is PostgreSQL.

A search filtered by form counts the form facet again without that filter (its other
values), and with no words that count covers every entry: it read the whole table's
heap (69 MB at 50k documents) for four narrow columns. Carried in the index, they are
read from it alone (an index-only scan) wherever the table's visibility map is current,
which `rebuild_index` (a VACUUM) and autovacuum keep it.

The new index is built beside the old one, which is dropped last: building reads the
table once, with writes to `search_entry` held and searches going on; only the drop at
the end makes searches wait, for the moment it takes.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
CREATE INDEX search_entry_form_new ON search_entry (form) INCLUDE (accession, id, length);
DROP INDEX IF EXISTS search_entry_form;
ALTER INDEX search_entry_form_new RENAME TO search_entry_form;
"""
DROP = """
CREATE INDEX search_entry_form_new ON search_entry (form);
DROP INDEX IF EXISTS search_entry_form;
ALTER INDEX search_entry_form_new RENAME TO search_entry_form;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0011_postgres_entry_grams"),
    ]

    operations = [postgres_sql(ADD, DROP)]
