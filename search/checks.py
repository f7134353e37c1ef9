"""System checks of the search index: recorded work that no drain has applied yet."""
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
