"""PostgreSQL search_entry: an entry's facet values in one array, `facets`, made only when
the database is PostgreSQL.

The facets of a search (form, company, year, states, SIC code, 8-K item, section) are
counted over one matching entry per filing. Read from eight columns, each entry became
eight rows of a UNION per search, and that per-row work was most of the facets' cost: a
common word's 8,000 filings at 50k documents are 75,000 values. `facets` holds the same
values as "name:value" text (`form:10-K`, `company:0000320193`, a value per element of an
array column, empty values left out), so counting them is one `unnest` of one array.

A generated column: PostgreSQL computes it from the other columns on every insert and
update, so the engine's writes stay as they are and it can never disagree with them.
Adding it rewrites `search_entry` (not its chunks or frequencies) with the table locked:
about 100 s at 50k documents.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
CREATE FUNCTION search_entry_facets(form text, cik text[], year text, state_loc text[],
                                    state_inc text[], sic text[], item text[],
                                    section text[])
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(name || ':' || value), '{}') FROM (
        SELECT 'form', form UNION ALL SELECT 'company', unnest(cik)
        UNION ALL SELECT 'year', year UNION ALL SELECT 'state_loc', unnest(state_loc)
        UNION ALL SELECT 'state_inc', unnest(state_inc) UNION ALL SELECT 'sic', unnest(sic)
        UNION ALL SELECT 'item', unnest(item) UNION ALL SELECT 'section', unnest(section)
    ) AS v(name, value) WHERE value <> ''
$$;
ALTER TABLE search_entry ADD COLUMN facets text[] GENERATED ALWAYS AS (
    search_entry_facets(form, cik, year, state_loc, state_inc, sic, item, section)) STORED;
"""
DROP = """
ALTER TABLE search_entry DROP COLUMN IF EXISTS facets;
DROP FUNCTION IF EXISTS search_entry_facets(text, text[], text, text[], text[], text[], text[],
                                            text[]);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0008_postgres_tf_by_bucket"),
    ]

    operations = [postgres_sql(ADD, DROP)]
