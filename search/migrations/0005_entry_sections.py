"""PostgreSQL search_entry: sections of 10-K, 10-Q and 8-K documents (issue 9, part 1),
made only when the database is PostgreSQL.

`section` holds the items of the filing's main document's sections ("1a", "7"), for the
section filter, facet and a lone `section:1A`; `section_words` the frequencies of the
section-tagged words ("1a:risk", search.index.section_words), whose positions are in
`search_chunk` rows of field 's'. Entries written before are empty there: filings get
sections when re-derived, and `manage.py rebuild_index` rewrites their entries.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
ALTER TABLE search_entry ADD COLUMN section text[] NOT NULL DEFAULT '{}';
ALTER TABLE search_entry ADD COLUMN section_words tsvector NOT NULL DEFAULT '';
CREATE INDEX search_entry_section_words ON search_entry USING gin (section_words)
    WITH (gin_pending_list_limit = 256);
"""
DROP = """
DROP INDEX IF EXISTS search_entry_section_words;
ALTER TABLE search_entry DROP COLUMN IF EXISTS section_words;
ALTER TABLE search_entry DROP COLUMN IF EXISTS section;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0004_entry_ingested"),
    ]

    operations = [postgres_sql(ADD, DROP)]
