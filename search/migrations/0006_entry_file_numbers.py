"""PostgreSQL search_entry: file numbers searchable (issue 9, part 4), made only when the
database is PostgreSQL.

`file:001-04482` and the `file_number` filter compare an entry's file numbers as Whoosh's
KEYWORD field holds them: the space-separated `file_number` column split into words,
lower-cased (`search.backends.postgres.FILE_NUMBERS`). This GIN index on that expression
answers them without reading every entry. Tickers need nothing here: `ticker:` is read
as the CIKs of `filings.Ticker`.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

CREATE = """
CREATE INDEX IF NOT EXISTS search_entry_file_numbers ON search_entry
USING gin (string_to_array(lower(file_number), ' '));
"""
DROP = "DROP INDEX IF EXISTS search_entry_file_numbers;"


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0005_entry_sections"),
    ]

    operations = [postgres_sql(CREATE, DROP)]
