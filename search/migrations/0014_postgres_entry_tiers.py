"""PostgreSQL search_entry: an index of where each word is dense
(`search_tiers(words, length)`), made only when the database is PostgreSQL.

Ranking a common word scored every entry that holds it: at 50k documents, the 13,690
entries that hold `revenue`, three index reads each, most of the search. But BM25 is
bounded by a word's density (its frequency over the entry's length): below a density
D, no entry scores above (k1 + 1) / (1 + k1(1 - b)/32 + k1 b / (A D)) times the word's
idf, whatever its frequency (A: the average length). So a page is settled among the
entries where some word of the search is dense, once its last result scores above
what every other entry can (`search.backends.postgres.PostgresBackend._tiered_page`):
`revenue`'s first page among 740 of its 13,690 entries.

`search_tiers` lists each word an entry holds twice or more with its density's tier:
`revenue^8` where its frequency (capped at 32, as ranking caps it) is at least 2^-8
times the entry's length, and not 2^-7; tiers 0 to 10, denser words only. It is read
from the `words` vector, whose positions count each word's frequency, so the index is
built from the rows already written (no rebuild) and kept by PostgreSQL as entries are
written. A plpgsql function, never inlined, so statements match the index's expression;
costed high, so the planner reads the index rather than calling it on rows (a filter
calling it on the 2,590 entries of a phrase took 28 s).

Building it reads every entry's `words` vector once, with writes to `search_entry` held
(searches go on): 29 s at 50k documents, for an index of 19 MB.
"""
from django.db import migrations

from search.migrations._postgres import postgres_sql

ADD = """
CREATE FUNCTION search_tiers(words tsvector, length integer) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000000 AS $$
BEGIN
    -- j = ceil(log2(length / n)) in float8, one less where that overshoots an exact
    -- power of two (numeric's exact log made building the index eight times slower).
    RETURN array_to_tsvector(ARRAY(
        SELECT u.lexeme || '^' || CASE WHEN j > 0 AND n::bigint << (j - 1) >= length
                                       THEN j - 1 ELSE j END
        FROM unnest(words) u, cardinality(u.positions) n,
            int4(ceil(log(length::float8 / n) / log(2::float8))) j
        WHERE n >= 2 AND n * 1024 >= length));
END $$;
CREATE INDEX search_entry_tiers ON search_entry USING gin (search_tiers(words, length))
    WITH (gin_pending_list_limit = 256);
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
