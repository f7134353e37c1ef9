"""The interface every search engine implements.

Write side: the engine receives whole filings, as the database holds them now
(`search.index.entries_for` builds the engine-neutral entries), and replaces or removes
their entries. It never decides *what* to index; `search.index` does, and it is the only
caller of the write side. Every write is idempotent: applying the same filing twice
leaves the same index.

Read side: `search()` answers one results page, `iter_results()` streams every result
(CSV, feeds), `doc_frequency()` serves "did you mean". They take the parsed query
(`search.query.ParsedQuery`, never a string: each engine translates the AST itself) and
the filters (`search.filters.SearchRequest`), and return plain domain objects
(`search.results.Hit` and `Group`, and `ResultPage` below, whose facets an engine may
still be counting), never an engine's own types.
What every engine must agree on: the set of matching entries, hence every total and
facet count, is the same whichever engine runs; only the order of equally relevant
results, and scores, may differ. `search.results` assembles pages (snippets, facet
labels, suggestions) on top, the same way for every engine.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.filters import SearchRequest
    from search.query import ParsedQuery
    from search.results import Group, Hit

# Sort orders an engine implements. "relevance" is asked for only when the query has
# words to rank by (`search.results` asks for "newest" otherwise).
SORTS = ("relevance", "newest", "oldest", "ingested")
VIEWS = ("filings", "documents")
SNIPPETS_PER_FILING = 4  # a Group's best documents, listed on its result
FACET_SIZE = 30  # values per facet, commonest first (pages show the first few, then "more")
YEAR_FACET_SIZE = 30  # the year facet lists years newest first
# The facets every engine counts: filings per value in the filings view, documents in the
# documents view. Document types count families (`doc_type_family`: what the document
# type filter matches); in the filings view, the filings with a matching document of
# the family. Multi-valued fields (every party's CIK, state, SIC code; a filing's 8-K
# items) count each value once per filing or document.
FACETS = ("form", "company", "year", "doc_type", "state_loc", "state_inc", "sic", "item",
          "section")


def facet_names(facets: bool | Collection[str]) -> list[str]:
    """The facets a `search(facets=...)` asks for, in FACETS order."""
    if facets is True:
        return list(FACETS)
    return [name for name in FACETS if facets and name in facets]


def doc_type_family(doc_type: str) -> str:
    """The document type filter's unit: EX-10.1 and EX-10.2 are EX-10 (the filter for
    EX-10 matches EX-10 and EX-10.*), 10-K is itself."""
    return doc_type.split(".", 1)[0]


@dataclass
class ResultPage:
    """What an engine answers for one page of a search. Its facets may still be being
    counted when it is returned (`count_later`); they are not among the fields a
    ResultPage compares or prints."""

    documents: int  # every matching entry
    filings: int  # the distinct filings among them
    # The page: Hits (documents view) or Groups (filings view, each with its best
    # SNIPPETS_PER_FILING documents, best first, and its count of matching documents).
    # Empty when the page is past the last one.
    items: list = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # e.g. a company filter that found none

    def __post_init__(self):
        self._facets: dict[str, list[tuple[str, int]]] = {}
        self._later: Callable[[], dict] | None = None

    @property
    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """{facet: [(value, count)]}: FACET_SIZE commonest values (years: every year,
        newest first, YEAR_FACET_SIZE of them); "company" values are CIKs. Empty values
        left out. Those still being counted (`count_later`) are waited for here."""
        if self._later is not None:
            self._facets = {**self._later(), **self._facets}  # raises again if it failed
            self._later = None
        return self._facets

    @facets.setter
    def facets(self, value: dict[str, list[tuple[str, int]]]):
        self._facets, self._later = value, None

    def count_later(self, counted: Callable[[], dict]):
        """Facets an engine is still counting (beside the page, while the caller cuts
        its snippets): `counted()` gives them when `facets` is first read."""
        self._later = counted


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
        """Index every stored filing afresh while searches and ingests go on: every
        filing stays searchable throughout (Whoosh answers from the old index until the
        new one is swapped in; PostgreSQL replaces a batch of filings' entries at a
        time). Returns figures: filings, documents, bytes (of indexed text), seconds."""
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

    # --- Read side -------------------------------------------------------------------------

    def search(self, parsed: ParsedQuery, filters: SearchRequest, *, sort: str, view: str,
               page: int, per_page: int, facets: bool | Collection[str] = True,
               others: Mapping[str, SearchRequest] | None = None) -> ResultPage:
        """One page of the entries matching `parsed` and `filters`, ordered by `sort`
        (relevance: best first; newest/oldest: by filing date, then accession, then
        sequence; ingested: by ingest time, latest first, then as newest), as documents
        or as filings (`view`); exact totals, and the facets when asked (True: all of
        FACETS; or just the named ones). A filing ranks where its best document ranks.
        `others`, {facet: filters}: each of those facets counted under its own filters
        instead (a filtered facet's other values, `SearchRequest.without`), alone as
        `facet_counts` counts it, and as of the same moment as the page."""
        raise NotImplementedError

    def facet_counts(self, parsed: ParsedQuery, filters: SearchRequest, *, view: str,
                     names: Collection[str]) -> dict[str, list[tuple[str, int]]]:
        """The named facets of the search alone (no page, no ranking), as `search()`
        counts them. An engine may do it for less than a whole search."""
        return self.search(parsed, filters, sort="newest", view=view, page=1, per_page=1,
                           facets=names).facets

    def iter_results(self, parsed: ParsedQuery, filters: SearchRequest, *, sort: str,
                     view: str, batch: int = 500) -> Iterator[Hit | Group]:
        """Every result of the search, in `search()`'s order, a batch at a time so that
        memory stays flat. A Group's hits hold at least its best document."""
        raise NotImplementedError

    def doc_frequency(self, words: Iterable[str]) -> dict[str, int]:
        """How many entries hold each of these (analysed) words in their text."""
        raise NotImplementedError


def company_ciks(text: str, messages: list[str]) -> list[str]:
    """The `company` filter as CIKs: the number itself, or every company whose current
    or former name contains `text` (none: a message says so, and nothing matches)."""
    from filings.models import Company

    text = text.strip()
    if "\x00" in text:  # no name holds one (and PostgreSQL cannot compare it)
        messages.append(f"No company name contains {text!r}.")
        return []
    if text.isdigit():
        return [text.lstrip("0") or "0"]
    ciks = list(Company.objects.matching(text).values_list("cik", flat=True)[:1000])
    if not ciks:
        messages.append(f"No company name contains {text!r}.")
    return [str(c) for c in ciks]


def ticker_ciks(ticker: str) -> list[str]:
    """`ticker:AAPL` as the CIKs SEC lists that ticker for (`filings.Ticker`, loaded by
    `manage.py load_tickers`); none when no company here has it."""
    from filings.models import Ticker

    ticker = ticker.strip().upper()
    if not ticker or "\x00" in ticker:
        return []
    return [str(c) for c in Ticker.objects.filter(ticker=ticker).values_list("cik", flat=True)]
