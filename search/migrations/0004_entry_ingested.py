"""PostgreSQL search_entry: the filing's ingest time (issue 9, part 3), made only when the
database is PostgreSQL.

`ingested` is `search.index.ingested_value` of when the filing's latest bytes were stored
(UTC text that sorts in time order): saved searches count and feed matches by it, and the
"recently ingested" sort orders by it. Entries already written get it here from the
filings' ingestions, so no `rebuild_index` is needed.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
ALTER TABLE search_entry ADD COLUMN ingested text COLLATE "C" NOT NULL DEFAULT '';
UPDATE search_entry e SET ingested = x.ingested FROM (
    SELECT f.accession_number,
           to_char(coalesce(max(i.created_at), f.ingested_at) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ingested
    FROM filings_filing f LEFT JOIN filings_ingestion i ON i.filing_id = f.id
    GROUP BY f.id
) x WHERE x.accession_number = e.accession;
CREATE INDEX search_entry_ingested ON search_entry (ingested, accession, sequence);
"""
DROP = """
DROP INDEX IF EXISTS search_entry_ingested;
ALTER TABLE search_entry DROP COLUMN IF EXISTS ingested;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0003_saved_searches"),
        ("filings", "0001_initial"),
    ]

    operations = [postgres_sql(ADD, DROP)]
