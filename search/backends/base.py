"""The interface every search engine implements.

Write side: the engine receives whole filings, as the database holds them now
(`search.index.entries_for` builds the engine-neutral entries), and replaces or removes
their entries. It never decides *what* to index; `search.index` does, and it is the only
caller of the write side. Every write is idempotent: applying the same filing twice
leaves the same index.

Read side: see the methods below the write side; they take the parsed query
(`search.query`'s AST) and plain filters, and return plain domain objects.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable


class SearchBackend:
    #: True when the index lives in the application database, so index writes can
    #: share the transaction that stores a filing (the work is then applied at once and
    #: never left pending). False for a separate store such as a Whoosh directory.
    transactional = False

    # --- Write side ----------------------------------------------------------------------

    def update_filings(self, accessions: Iterable[str]) -> None:
        """Replace these filings' entries with what the database holds now; a filing
        that is gone loses its entries. Durable when it returns."""
        raise NotImplementedError

    def remove_filings(self, accessions: Iterable[str]) -> None:
        """Remove every entry of these filings. Durable when it returns."""
        raise NotImplementedError

    def rebuild(self, workers: int = 1, batch: int = 200,
                progress: Callable[[int], None] | None = None) -> dict:
        """Index every stored filing afresh; searches keep answering from the old index
        until the new one is complete. Returns figures: filings, documents, bytes
        (of indexed text), seconds."""
        raise NotImplementedError

    def document_count(self) -> int:
        """How many entries the index holds."""
        raise NotImplementedError

    def entry_ids(self) -> Iterable[str]:
        """Every entry's id ("<accession>/<sequence>"), for comparing with the database."""
        raise NotImplementedError

    def clean_up(self) -> None:
        """Remove what an interrupted write or rebuild left behind. Called before writes."""

    def warm(self) -> None:
        """Open what the first search needs (called when a web worker starts)."""
