"""The PostgreSQL search engine's tables (search.backends.postgres), made only when the
database is PostgreSQL: an SQLite deployment is untouched."""
from django.db import migrations, transaction

CREATE = """
CREATE TABLE search_entry (
    id bigserial PRIMARY KEY,
    accession varchar(20) COLLATE "C" NOT NULL,
    sequence integer NOT NULL,
    document_id bigint,
    form text COLLATE "C" NOT NULL,
    doc_type text COLLATE "C" NOT NULL,
    filename text NOT NULL,
    description text NOT NULL,
    filed text COLLATE "C" NOT NULL,
    year text COLLATE "C" NOT NULL,
    period text NOT NULL,
    cik text[] COLLATE "C" NOT NULL,
    sic text[] NOT NULL,
    state_inc text[] NOT NULL,
    state_loc text[] COLLATE "C" NOT NULL,
    item text[] NOT NULL,
    file_number text NOT NULL,
    parties jsonb NOT NULL,
    company_names text NOT NULL,
    length integer NOT NULL,
    words tsvector NOT NULL,
    company tsvector NOT NULL,
    complete boolean NOT NULL,
    span integer NOT NULL,
    CONSTRAINT search_entry_accession_sequence UNIQUE (accession, sequence)
);
CREATE INDEX search_entry_words ON search_entry USING gin (words) WITH (gin_pending_list_limit = 256);
CREATE INDEX search_entry_company ON search_entry USING gin (company) WITH (gin_pending_list_limit = 256);
CREATE INDEX search_entry_cik ON search_entry USING gin (cik) WITH (gin_pending_list_limit = 256);
CREATE INDEX search_entry_filed ON search_entry (filed, accession, sequence);
CREATE INDEX search_entry_form ON search_entry (form);
CREATE INDEX search_entry_doc_type ON search_entry (doc_type);
CREATE INDEX search_entry_incomplete ON search_entry (id) WHERE NOT complete;
CREATE INDEX search_entry_short_span ON search_entry (span) WHERE span < 512;
CREATE TABLE search_chunk (
    entry_id bigint NOT NULL REFERENCES search_entry (id) ON DELETE CASCADE,
    field "char" NOT NULL,
    start integer NOT NULL,
    words tsvector NOT NULL,
    PRIMARY KEY (entry_id, field, start)
);
"""
# The GIN indexes keep a short pending list (256 kB, not 4 MB): every search scans it
# whole, and the planner, seeing a long one, prefers reading every row's words instead.
# Ranking reads every match's `words`: LZ4 decompresses several times faster than the
# default pglz. Used where the server was built with it; never required.
LZ4 = """
ALTER TABLE search_entry ALTER COLUMN words SET COMPRESSION lz4;
ALTER TABLE search_chunk ALTER COLUMN words SET COMPRESSION lz4;
"""
DROP = "DROP TABLE IF EXISTS search_chunk; DROP TABLE IF EXISTS search_entry;"


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(CREATE)
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(LZ4)
        except Exception:  # noqa: BLE001 - no LZ4 in this server: pglz it is
            pass


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunPython(create, drop, elidable=False)]
