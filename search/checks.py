"""System checks of the search index: recorded work that no drain has applied yet, a Whoosh
index built without fields this version indexes, and PostgreSQL chunks without the RUM
index the server could give them or without this version's common grams."""
from django.core import checks
from django.db import DatabaseError


@checks.register()
def pending_index_work(app_configs, **kwargs):
    """Warn when filings wait to be indexed (an ingest or upload was interrupted, or an
    index write failed): they are stored but not yet searchable. Not tagged `database`,
    so that `check`, `runserver` and every command show it: one cheap COUNT."""
    from search import index

    try:
        count = index.pending()
    except DatabaseError:  # not migrated yet: nothing can be pending
        return []
    if not count:
        return []
    return [
        checks.Warning(
            f"{count} filing change(s) are recorded but not yet in the search index.",
            hint="Run `manage.py check_index --repair` (or any ingest) to apply them.",
            id="search.W001",
        )
    ]


@checks.register()
def index_schema(app_configs, **kwargs):
    """Warn when the Whoosh index was built by an older version, without fields this one
    indexes (such as the ingest times saved searches count by, or the common grams that
    make phrases fast), or with word positions pickled as Whoosh's own format keeps them
    (not packed): it keeps working, and what needs the missing fields says so (or, for
    grams and positions, is slower), until `rebuild_index` builds it afresh."""
    from django.conf import settings

    if getattr(settings, "SEARCH_BACKEND", "whoosh") != "whoosh":
        return []
    from whoosh import formats

    from search.backends import whoosh
    from search.backends.whoosh_positions import PackedPositions

    link = whoosh.index_root() / "current"
    if not link.exists():  # never created yet: the first write makes it with every field
        return []
    try:
        schema = whoosh.open_index().schema
    except Exception:  # noqa: BLE001 - an unreadable index is for check_index to report
        return []
    current = whoosh.make_schema()
    missing = [name for name in current.names() if name not in schema]
    # Positions pickled by Whoosh's own format, where this version packs them.
    pickled = [name for name in current.names() if name in schema
               and isinstance(current[name].format, PackedPositions)
               and type(schema[name].format) is formats.Positions]
    said = []
    if missing:
        said.append(f"without the field(s) {', '.join(missing)}")
    if pickled:
        said.append(f"with the word positions of {', '.join(pickled)} in Whoosh's older, "
                    "slower encoding")
    if not said:
        return []
    return [
        checks.Warning(
            f"The search index was built {' and '.join(said)}.",
            hint="Run `manage.py rebuild_index` to use them: to search, sort and filter by "
                 "new fields, for faster ranking (body_counts), and for faster phrases and "
                 "proximity (grams, positions).",
            id="search.W002",
        )
    ]


def _postgres_engine() -> bool:
    """Whether the PostgreSQL engine runs on a PostgreSQL database (on another,
    search.backends.get() refuses the pairing with its own message)."""
    from django.conf import settings
    from django.db import connection

    return (getattr(settings, "SEARCH_BACKEND", "whoosh") == "postgres"
            and connection.vendor == "postgresql")


@checks.register()
def postgres_rum_index(app_configs, **kwargs):
    """Say when the PostgreSQL engine could find phrases in a RUM index and has none: the
    server gained the extension after migration 0010 ran, or was not allowed to create
    it then. Searches find the same entries without it, more slowly."""
    if not _postgres_engine():
        return []
    from django.db import connection

    from search.backends.postgres import RUM_READY

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_regclass('search_chunk') IS NOT NULL, EXISTS (SELECT 1 FROM "
                f"pg_available_extensions WHERE name = 'rum'), {RUM_READY}")
            migrated, offered, indexed = cursor.fetchone()
    except DatabaseError:  # no server to ask: the command will say so itself
        return []
    if not migrated or not offered or indexed:
        return []
    return [
        checks.Info(
            "PostgreSQL offers the RUM extension, but the search chunks have no RUM index: "
            "phrase and proximity searches read each candidate's text instead.",
            hint="Run `manage.py migrate search 0009`, then `manage.py migrate`, as a user "
                 "allowed to create the extension (migration 0010 builds the index).",
            id="search.I003",
        )
    ]


@checks.register()
def postgres_grams(app_configs, **kwargs):
    """Warn when PostgreSQL entries were written without this version's common grams
    (before migration 0011, or with another set of common words): phrases through common
    words are then asked word by word, the same entries more slowly, until
    `rebuild_index` writes every entry afresh."""
    if not _postgres_engine():
        return []
    from django.db import connection

    from search.backends.postgres import GRAMS_READY

    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {GRAMS_READY}")
            ready = cursor.fetchone()[0]
    except DatabaseError:  # not migrated, or no server: migrate or the command says so
        return []
    if ready is not False:  # all written with them, or no entries yet
        return []
    return [
        checks.Warning(
            "Some search entries were written without this version's common grams: "
            "phrases through common words (\"results of operations\") are slower.",
            hint="Run `manage.py rebuild_index` to write them afresh.",
            id="search.W003",
        )
    ]


@checks.register()
def postgres_old_buckets(app_configs, **kwargs):
    """Warn when PostgreSQL entries still have the 16 frequency buckets written before
    migration 0013: they rank as before, the same figures more slowly, until
    `rebuild_index` writes them afresh."""
    if not _postgres_engine():
        return []
    from django.db import connection

    from search.backends.postgres import FIRST_BUCKET

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM search_tf WHERE bucket < %s)",
                           [FIRST_BUCKET])
            old = cursor.fetchone()[0]
    except DatabaseError:  # not migrated, or no server: migrate or the command says so
        return []
    if not old:
        return []
    return [
        checks.Warning(
            "Some search entries keep the word frequencies written before migration "
            "search.0013: ranking them reads larger rows, and common words rank slower.",
            hint="Run `manage.py rebuild_index` to write them afresh.",
            id="search.W004",
        )
    ]
