from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Full-text search"

    def ready(self):
        from filings import signals
        from search import checks, index  # noqa: F401 - checks register themselves

        signals.filing_changed.connect(_apply_in_transaction, dispatch_uid="search-apply")
        signals.index_work_recorded.connect(_drain, dispatch_uid="search-drain")


def _apply_in_transaction(sender, accession_number, **kwargs):
    from search import index

    index.apply_in_transaction(accession_number)


def _drain(sender, **kwargs):
    from search import index

    index.drain()
