"""PostgreSQL search_entry: an index of each entry's frequent words by how frequent
(`search_tiers(words)`), made only when the database is PostgreSQL.

Ranking a common word scored every entry that holds it: at 50k documents, 13,690
entries for `revenue`, three index reads each, most of the search. But BM25 saturates:
an entry holding the word fewer than T times scores at most idf * (k1 + 1)(T - 1) /
((T - 1) + k1(1 - b)), whatever its length. So the first page is found among the
entries holding the word at least T times, once the page's last result scores above
that bound (`search.backends.postgres.PostgresBackend._tiered_page`): for `revenue`'s
first page at 50k, a fraction of the entries.

`search_tiers` lists each word an entry holds four times or more once, with its tier:
`revenue^8` for 8 to 15 times (tiers 4, 8, 16, 32: frequencies are capped at 32). It is
read from the `words` vector, whose positions count each word's frequency, so the
index is built from the rows already written (no rebuild) and kept by PostgreSQL as
entries are written. A plpgsql function: never inlined into a statement, so statements
match the index's expression.

Building it reads every entry's `words` vector once, with writes to `search_entry` held
(searches go on): a few minutes at 50k documents.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
CREATE FUNCTION search_tiers(words tsvector, length integer) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN array_to_tsvector(ARRAY(
        SELECT u.lexeme || '^' || j FROM unnest(words) u,
            cardinality(u.positions) n, ceil(log(2, length::numeric / n)) j
        WHERE n >= 2 AND j <= 10));
END $$;
CREATE INDEX search_entry_tiers ON search_entry USING gin (search_tiers(words, length));
"""
DROP = """
DROP INDEX IF EXISTS search_entry_tiers;
DROP FUNCTION IF EXISTS search_tiers(tsvector, integer);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0013_postgres_tf_64_buckets"),
    ]

    operations = [postgres_sql(ADD, DROP)]
