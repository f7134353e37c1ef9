from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Full-text search"

    def ready(self):
        from filings import signals
        from search import checks, index  # noqa: F401 - checks register themselves

        signals.filing_changed.connect(_apply_in_transaction, dispatch_uid="search-apply")
        signals.index_work_recorded.connect(_drain, dispatch_uid="search-drain")
        post_migrate.connect(_remove_orphans, sender=self, dispatch_uid="search-orphans")


def _apply_in_transaction(sender, accession_number, **kwargs):
    from search import index

    index.apply_in_transaction(accession_number)


def _drain(sender, **kwargs):
    from search import index

    index.drain()


def _remove_orphans(sender, using="default", **kwargs):
    # `flush` empties the filings and then sends post_migrate: an index in the database
    # must not keep their entries.
    from search.backends import postgres

    postgres.remove_orphans(using)
