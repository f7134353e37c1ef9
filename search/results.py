"""Result assembly: a search request in, a page of results out, the same for every engine.

`run()` parses the query (`search.query`), asks the configured engine
(`search.backends.get()`) for the totals, one page of hits or of filings, and the facet
counts, then finishes the page engine-neutrally: snippets cut from `Document.text`
(`search.snippets`), company names on the company facet, and "did you mean" from the
engine's document frequencies. `iter_results()` streams every result for CSV and feeds.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from django.db.models.functions import Substr
from django.urls import reverse

from filings import locations
from filings.items import ITEM_TITLES, LEGACY_ITEM_TITLES
from filings.models import Company, Document, Ticker
from search import backends, positions
from search.backends.base import FACET_SIZE, FACETS, SNIPPETS_PER_FILING  # noqa: F401 - re-exported
from search.filters import FILTER_LABELS
from search.query import ParsedQuery, parse, pattern_for
from search.snippets import head_snippet, snippet

# Reversed once, then filled in: reverse() per row costs a third of a CSV export. The
# samples only mark where each value goes (accession numbers need no URL quoting).
_SAMPLES = {"accession": "ACCESSION", "sequence": 987654321}
_TEMPLATES: dict[str, str] = {}


def _url(name: str, **kwargs) -> str:
    template = _TEMPLATES.get(name)
    if template is None:
        template = reverse(name, kwargs={k: _SAMPLES[k] for k in kwargs})
        for key in kwargs:
            template = template.replace(str(_SAMPLES[key]), "{" + key + "}", 1)
        _TEMPLATES[name] = template
    return template.format(**kwargs)


@dataclass
class Hit:
    """One matching document (or, with sequence 0, a filing indexed by its header)."""

    fields: dict  # id, pk, accession, sequence, form, doc_type, filename, description,
    # filed, period, cik, parties [(cik, name, located, incorporated)], sic, state_inc,
    # state_loc, item, file_number: as `search.index.entries_for` made them
    score: float = 0.0
    snippet: str = ""
    # For a search inside a section (section:1A ...): "&section=1a#item-1a", which the
    # document page opens at that section's heading.
    section_link: str = ""

    def __getattr__(self, name):
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def url(self) -> str:
        if not self.fields["sequence"]:  # a filing indexed by its header alone
            return self.filing_url
        return _url("filings:document", accession=self.fields["accession"],
                    sequence=self.fields["sequence"])

    @property
    def filing_url(self) -> str:
        return _url("filings:detail", accession=self.fields["accession"])


@dataclass
class Group:
    """One filing with its matching documents (best first)."""

    accession: str
    hits: list[Hit]
    count: int  # matching documents in this filing

    @property
    def first(self) -> Hit:
        return self.hits[0]

    @property
    def more(self) -> int:
        return self.count - len(self.hits)


@dataclass
class Facet:
    name: str  # the facet (search.backends.base.FACETS)
    label: str
    values: list[tuple[str, str, int]]  # (parameter value, label, count)
    param: str = ""  # the filter parameter its values select (several: OR)

    def __post_init__(self):
        self.param = self.param or FACET_PARAMS.get(self.name, self.name)


@dataclass
class Results:
    request: object
    parsed: ParsedQuery
    total: int = 0  # filings or documents, as the request's view counts them
    documents: int = 0
    filings: int = 0
    items: list = field(default_factory=list)  # Groups or Hits of this page
    facets: list[Facet] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    suggestion: str = ""
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def start_index(self) -> int:
        return (self.page - 1) * self.request.per_page + 1 if self.total else 0

    @property
    def end_index(self) -> int:
        return min(self.page * self.request.per_page, self.total)

    @property
    def milliseconds(self) -> int:
        return round(self.seconds * 1000)


class PageNotFound(Exception):
    """The requested page is past the last page of results."""

    def __init__(self, page: int, last: int = 1):
        super().__init__(page, last)
        self.page, self.last = page, last


TOO_BROAD = ("This proximity search is too broad to decide: its words are too common, or too "
             "many, for the distance asked. Use fewer or rarer words, or a smaller distance.")


def effective_sort(req, parsed: ParsedQuery) -> str:
    """Relevance needs words to rank by: a search of filters or field prefixes alone
    lists newest first."""
    return req.sort if req.sort != "relevance" or parsed.has_words else "newest"


def run(req, with_facets=True) -> Results:
    """Run a search request: exact totals, one page (with snippets), the facets.
    Raises PageNotFound for a page past the end."""
    started = time.perf_counter()
    parsed = parse(req.q)
    results = Results(request=req, parsed=parsed, messages=req.messages + parsed.messages)
    if parsed.no_terms:  # said in its messages; never "everything" for a query of noise
        if req.page > 1:
            raise PageNotFound(req.page, 1)
        results.seconds = time.perf_counter() - started
        return results
    backend = backends.get()
    try:
        with positions.budget():
            found = backend.search(
                parsed, req, sort=effective_sort(req, parsed), view=req.view, page=req.page,
                per_page=req.per_page, facets=with_facets,
                others=_other_values(req) if with_facets else None,
            )
    except positions.TooBroad:
        results.messages.append(TOO_BROAD)
        results.seconds = time.perf_counter() - started
        return results
    results.messages += found.messages + _unknown_tickers(parsed)
    results.documents, results.filings = found.documents, found.filings
    results.total = found.filings if req.grouped else found.documents
    if req.page > results.pages:
        raise PageNotFound(req.page, results.pages)
    results.items = found.items
    attach_snippets(results.items, parsed)
    if with_facets:  # after the snippets: an engine may still be counting them
        results.facets = facets(found.facets)
    if results.total < 5 and parsed.has_words:
        results.suggestion = suggest(backend, parsed)
    results.seconds = time.perf_counter() - started
    return results


def _unknown_tickers(parsed: ParsedQuery) -> list[str]:
    """Say which `ticker:` values no company here has (they match nothing)."""
    asked = {c.words[0] for g in parsed.groups for c in g if c.field == "ticker"}
    asked |= {c.words[0] for c in parsed.excluded if c.field == "ticker"}
    if not asked:
        return []
    known = set(Ticker.objects.filter(ticker__in=asked).values_list("ticker", flat=True))
    return [f"No company here has the ticker {t} (SEC's tickers are loaded with "
            f"manage.py load_tickers)." for t in sorted(asked - known)]


def iter_results(req):
    """Every result of a search (Groups or Hits), in the page's order, streamed."""
    parsed = parse(req.q)
    if parsed.no_terms:
        return
    try:
        with positions.budget():
            # The engines decide every match before the first result comes out.
            results = backends.get().iter_results(
                parsed, req, sort=effective_sort(req, parsed), view=req.view
            )
            first = next(results, None)
    except positions.TooBroad:
        return
    if first is not None:
        yield first
        yield from results


# The facets, in the page's order. Each is labelled as the filter its values select
# (search.filters.FILTER_LABELS): a count and its chip read alike.
FACET_NAMES = FACETS
# The filter parameter each facet's values select (search.filters).
FACET_PARAMS = {"company": "cik"}


def _other_values(req) -> dict:
    """A facet whose filter is in force counts its values as if that filter were not:
    the values beside the chosen ones can then be added (OR within a facet, AND across
    facets), and each count is what that value alone, with every other filter, finds.
    {facet: the filters it counts under}, for the engine (`search(others=...)`)."""
    return {name: req.without(FACET_PARAMS.get(name, name)) for name in FACET_NAMES
            if req.applied.get(FACET_PARAMS.get(name, name))}


def facets(counts: dict[str, list[tuple[str, int]]]) -> list[Facet]:
    """The engine's counts with the labels people read: companies by name (CIKs are the
    values), states and countries by name (EDGAR codes are the values), SIC codes and
    8-K items with their titles."""
    names, sic_names = _names(ciks=[v for v, _ in counts.get("company", [])],
                              sic_codes=[v for v, _ in counts.get("sic", [])])
    result = []
    for name in FACET_NAMES:
        values = counts.get(name) or []
        if name == "section":  # equal counts in the form's order: 1, 1A, 2... not 1, 10
            values = sorted(values, key=lambda pair: (-pair[1], _item_order(pair[0])))
        labelled = [(v, value_label(name, v, names=names, sic_names=sic_names), n)
                    for v, n in values]
        if labelled:
            result.append(Facet(name, FILTER_LABELS[FACET_PARAMS.get(name, name)], labelled))
    return result


def _item_order(item: str) -> tuple:
    """"1a" → (1, 0, "a"), "2.02" → (2, 2, ""): items in the order of the forms."""
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?([a-z]?)", item)
    if match is None:
        return (999, 0, item)
    return (int(match[1]), int(match[2] or 0), match[3])


def _names(ciks=(), sic_codes=()) -> tuple[dict[int, str], dict[str, str]]:
    """Company names by CIK and SIC titles by code, for many values in one query each."""
    numbers = {int(c) for c in ciks if c.isascii() and c.isdigit() and len(c) <= 10}
    names = (dict(Company.objects.filter(cik__in=numbers).values_list("cik", "name"))
             if numbers else {})
    sic_names: dict[str, str] = {}
    if sic_codes:
        rows = (Company.objects.filter(sic_code__in=set(sic_codes))
                .exclude(sic_description="").values_list("sic_code", "sic_description"))
        for code, description in rows:
            sic_names.setdefault(code, description)
    return names, sic_names


def value_labels(name: str, values) -> dict[str, str]:
    """`value_label` of many values of one facet or filter, their names read in bulk."""
    values = list(dict.fromkeys(values))
    names, sic_names = _names(ciks=values if name in ("company", "cik") else (),
                              sic_codes=values if name == "sic" else ())
    return {v: value_label(name, v, names=names, sic_names=sic_names) for v in values}


def value_label(name: str, value: str, names: dict[int, str], sic_names: dict[str, str]) -> str:
    """How a facet or filter value reads on the page (`name`: a facet or a filter
    parameter), with company names and SIC titles read beforehand (`_names`)."""
    if name in ("company", "cik"):
        if not (value.isascii() and value.isdigit() and len(value) <= 18):
            return value  # a name the company filter searches for
        return names.get(int(value), f"CIK {value}")
    if name in ("state_loc", "state_inc"):
        return locations.name(value)
    if name == "sic":
        description = sic_names.get(value)
        return f"{value} · {description}" if description else value
    if name in ("ingested_after", "ingested_to"):  # "2026-12-01T12:05:27.123456Z"
        return f"{value[:10]} {value[11:19]} UTC"
    if name == "item":
        title = ITEM_TITLES.get(value) or LEGACY_ITEM_TITLES.get(value)
        return f"{value} · {title}" if title else value
    if name == "section":
        return f"Item {value.upper()}"
    return value


# Each result's text is read in parts: its first FIRST_READ characters, which decide the
# snippet when they hold three settled passages (`search.snippets.head_snippet`); then
# SNIPPET_HEAD characters of the others; then the whole text of those few whose hits lie
# further in. At 50,000 documents on PostgreSQL, reading 100,000 characters of each of a
# page's results cost 10-14 ms, and a page whose hits lie early now reads a tenth of that;
# a page whose hits lie later pays for the first read too (4,000 characters: 1-4 ms; at
# 8,000 it was 5).
FIRST_READ = 4_000
SNIPPET_HEAD = 100_000


class Head(Substr):
    """The first `size` characters of a text column, or more: on PostgreSQL a text of up
    to four bytes a character (UTF-8's most) is read whole, not cut (the caller cuts
    it). To cut a text PostgreSQL decompresses that many bytes of it anyway, then counts
    its characters, which cost more than reading it whole: 20 texts of 128,412
    characters, cut at 100,000: 22 ms, whole: 13 (at 85,746 characters: 14.4 and 5.2);
    at the edge, 20 texts of 340-400 KB cut at 100,000 or read whole: 34 ms either way."""

    def __init__(self, column: str, size: int):
        super().__init__(column, 1, size)
        self.size = int(size)

    def as_postgresql(self, compiler, connection, **extra_context):
        cut, params = self.as_sql(compiler, connection, **extra_context)
        column, column_params = compiler.compile(self.source_expressions[0])
        return (f"CASE WHEN octet_length({column}) <= {4 * self.size} THEN {column} "
                f"ELSE {cut} END", [*column_params, *column_params, *params])


def attach_snippets(items, parsed: ParsedQuery):
    # One snippet per result: the best document of a filing (its other matching
    # documents are listed by name), so a page reads a bounded amount of text.
    # The items searched inside, in the query's order (section:6 x OR section:2 y).
    scoped = list(dict.fromkeys(c.section for g in parsed.groups for c in g if c.section))
    if scoped:  # a search inside a section: its hits open at the section's heading
        for item in items:
            for hit in item.hits if isinstance(item, Group) else [item]:
                if hit.fields.get("sequence"):
                    hit.section_link = _section_link(scoped[0])
    hits = [item.first if isinstance(item, Group) else item for item in items]
    # A filing indexed by its header alone has no document text to cut a snippet from.
    hits = [hit for hit in hits if hit.fields.get("pk")]
    pattern = pattern_for(parsed)
    if scoped:
        hits = _section_snippets(hits, scoped, pattern)
    heads = _heads(hits, FIRST_READ)
    rest = []
    for hit in hits:
        head = heads.get(hit.pk) or ""
        html = snippet(head, pattern) if len(head) < FIRST_READ else head_snippet(head, pattern)
        if html is None:
            rest.append(hit)
        else:
            hit.snippet = html
    heads = _heads(rest, SNIPPET_HEAD) if rest else {}
    deeper = []
    for hit in rest:
        head = heads.get(hit.pk) or ""
        complete = len(head) < SNIPPET_HEAD
        hit.snippet = snippet(head, pattern, complete=complete)
        if not hit.snippet:
            deeper.append(hit)
    if deeper:
        # Hits further into a long document: read the whole text of those few.
        texts = dict(
            Document.objects.filter(pk__in=[h.pk for h in deeper])
            .values_list("pk", "text")
        )
        for hit in deeper:
            hit.snippet = snippet(texts.get(hit.pk, ""), pattern)


def _heads(hits: list[Hit], size: int) -> dict[int, str]:
    """The first `size` characters of each hit's text, by document pk."""
    return {pk: head[:size] for pk, head in
            Document.objects.filter(pk__in=[h.pk for h in hits])
            .annotate(head=Head("text", size)).values_list("pk", "head")}


def _section_link(item: str) -> str:
    return f"&section={item}#item-{item.replace('.', '-')}"


def _section_snippets(hits: list[Hit], items: list[str], pattern) -> list[Hit]:
    """A section search's snippets come from inside the sections searched (the first of
    those sections holding a hit, in the query's order of items, for a 10-Q's two Items
    2 in the text's order): each span is read alone, and the hit opens at the section its
    snippet came from. Returns the hits left without one, for the whole text."""
    rows = Document.objects.filter(pk__in=[h.pk for h in hits]).values_list("pk", "sections")
    spans = {pk: [(item, s["start"], s["end"]) for item in items for s in sections or []
                  if str(s.get("item", "")).lower() == item] for pk, sections in rows}
    rest = []
    for hit in hits:
        for item, start, end in spans.get(hit.pk, []):
            part = (Document.objects.filter(pk=hit.pk)
                    .annotate(part=Substr("text", start + 1, max(0, end - start)))
                    .values_list("part", flat=True).first()) or ""
            hit.snippet = snippet(part, pattern, complete=False)
            if hit.snippet:
                hit.section_link = _section_link(item)
                break
        else:
            rest.append(hit)
    return rest


# "Did you mean" looks up every word one edit away: 54 lookups a letter. Longer words are
# codes, hashes or noise, never a misspelling worth the lookups, and a query's first few
# rare words are enough to suggest something.
MAX_SUGGESTED_LENGTH = 40
MAX_SUGGESTED_WORDS = 4


def suggest(backend, parsed: ParsedQuery) -> str:
    """"Did you mean": the query with each rare word replaced by the commonest word one
    edit away. The engine looks a word's few hundred candidates up in one call, which
    stays fast on a large index where an automaton-based corrector is not. Bounded: at
    most MAX_SUGGESTED_WORDS words of up to MAX_SUGGESTED_LENGTH letters."""
    words = [w for w in dict.fromkeys(parsed.body_words())
             if 3 <= len(w) <= MAX_SUGGESTED_LENGTH and w.isalpha()]
    if not words:
        return ""
    frequency = backend.doc_frequency(words)
    rare = [w for w in words if frequency.get(w, 0) <= 2][:MAX_SUGGESTED_WORDS]
    corrected = parsed.text()
    changed = False
    for word in rare:
        candidates = sorted(_edits(word))  # sorted: ties go the same way every time
        counts = backend.doc_frequency(candidates)
        best, best_count = None, 2
        for candidate in candidates:
            count = counts.get(candidate, 0)
            if count > best_count:
                best, best_count = candidate, count
        if best:
            corrected = re.sub(rf"(?<![\w*]){re.escape(word)}(?![\w*])", best, corrected)
            changed = True
    return corrected if changed else ""


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _edits(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts) - {word}
