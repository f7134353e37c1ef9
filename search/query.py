"""The query language (EDGAR-compatible, then more) and reading the index with it.

    revenue growth            words are ANDed
    "going concern"           exact phrase
    merger OR acquisition     either word (OR binds tighter than the AND around it)
    -lawsuit  -"class action" exclude a word or a phrase (NOT word works too)
    semicond*                 trailing wildcard (at least two letters before the *)
    "stock option"~5          the words within five words of each other, any order
    form:10-K cik:320193 company:apple type:EX-10   field prefixes

Parsing never fails: unbalanced quotes are closed, lone operators and leading wildcards
dropped, over-long input cut, each with a message the page shows. Words are analysed
exactly as the index analysed them (`search.index.words`, no stemming), so
`highlight_pattern` marks in plain text exactly the words that made a document match.
"""
from __future__ import annotations

import functools
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, compress

from django.urls import reverse
from whoosh import query as wq
from whoosh.query import spans

from search.index import words

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 32
MIN_PREFIX = 2
MAX_SLOP = 100
FIELDS = {"form", "cik", "company", "type"}

TOKEN = re.compile(
    r"""
    (?P<neg>-)?
    (?:(?P<field>[A-Za-z_]+):)?
    (?:
        "(?P<phrase>[^"]*)(?P<close>"?)(?:~(?P<slop>\d+))?
      | (?P<word>[^\s"]+)
    )
    """,
    re.X,
)


@dataclass
class Clause:
    kind: str  # word, phrase, prefix, near
    field: str  # body, form, cik, company, type
    words: list[str]
    slop: int = 1
    negated: bool = False

    def text(self) -> str:
        """The clause written back in the query language."""
        prefix = "" if self.field == "body" else f"{self.field}:"
        if self.kind == "prefix":
            body = f"{self.words[0]}*"
        elif self.kind == "word":
            body = self.words[0]
        else:
            body = '"' + " ".join(self.words) + '"'
            if self.kind == "near":
                body += f"~{self.slop}"
        return ("-" if self.negated else "") + prefix + body

    def to_whoosh(self):
        if self.field == "form":
            value = " ".join(self.words).upper()
            if self.kind == "prefix":
                return wq.Prefix("form", value)
            return wq.Term("form", value)
        if self.field == "type":
            return doc_type_query(" ".join(self.words))
        if self.field == "cik":
            return wq.Term("cik", self.words[0])
        name = "company" if self.field == "company" else "body"
        if self.kind == "prefix":
            return wq.Prefix(name, self.words[0])
        if self.kind == "word":
            return wq.Term(name, self.words[0])
        terms = [wq.Term(name, w) for w in self.words]
        if self.kind == "near" and len(terms) > 1:
            return spans.SpanNear2(terms, slop=self.slop, ordered=False)
        if len(terms) == 1:
            return terms[0]
        return wq.Phrase(name, self.words)


def doc_type_query(value: str):
    """`EX-10` matches EX-10 and EX-10.1, EX-10.2...; never EX-100."""
    value = value.strip().upper()
    return wq.Or([wq.Term("doc_type", value), wq.Prefix("doc_type", value + ".")])


@dataclass
class ParsedQuery:
    groups: list[list[Clause]] = field(default_factory=list)  # AND of ORs
    excluded: list[Clause] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    @property
    def has_words(self) -> bool:
        return any(c.field == "body" for g in self.groups for c in g)

    def text(self) -> str:
        parts = [" OR ".join(c.text() for c in g) for g in self.groups]
        parts += [c.text() for c in self.excluded]
        return " ".join(parts)

    def body_words(self) -> list[str]:
        return [w for g in self.groups for c in g if c.field == "body" for w in c.words]

    def to_whoosh(self):
        """The Whoosh query, or None for an empty query."""
        if self.is_empty:
            return None
        positive = [
            g[0].to_whoosh() if len(g) == 1 else wq.Or([c.to_whoosh() for c in g])
            for g in self.groups
        ]
        query = (positive[0] if len(positive) == 1 else wq.And(positive)) if positive else None
        if self.excluded:
            excluded = wq.Or([c.to_whoosh() for c in self.excluded])
            query = wq.AndNot(query if query is not None else wq.Every(), excluded)
        return query


def parse(text: str) -> ParsedQuery:
    """Parse the query language; malformed input is repaired, with messages saying how."""
    parsed = ParsedQuery()
    text = (text or "").replace("\x00", " ")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        parsed.messages.append(
            f"The query was cut to its first {MAX_QUERY_CHARS} characters."
        )
    if text.count('"') % 2:
        parsed.messages.append("An unbalanced quote was closed at the end of the query.")

    pending_or = False
    negate_next = False
    dropped = set()
    for match in TOKEN.finditer(text):
        word = match["word"]
        if word is not None and match["field"] is None and not match["neg"]:
            if word == "OR":
                if parsed.groups and not pending_or:
                    pending_or = True
                else:
                    dropped.add("OR")
                continue
            if word == "AND":
                continue
            if word == "NOT":
                negate_next = True
                continue
        clause = _clause(match, parsed.messages)
        if clause is None:
            continue
        clause.negated = bool(match["neg"]) or negate_next
        negate_next = False
        if len(parsed.groups) + len(parsed.excluded) >= MAX_CLAUSES and not pending_or:
            if "limit" not in dropped:
                parsed.messages.append(
                    f"Only the first {MAX_CLAUSES} terms of the query were used."
                )
            dropped.add("limit")
            break
        if clause.negated:
            if pending_or:
                dropped.add("OR")
                pending_or = False
            parsed.excluded.append(clause)
        elif pending_or:
            parsed.groups[-1].append(clause)
            pending_or = False
        else:
            parsed.groups.append([clause])
    if pending_or:
        dropped.add("OR")
    if negate_next:
        dropped.add("NOT")
    for op in sorted(dropped - {"limit"}):
        parsed.messages.append(f"A lone {op} was ignored: put it between two terms.")
    return parsed


def _clause(match, messages) -> Clause | None:
    field_name = (match["field"] or "").lower()
    word = match["word"]
    if match["field"] and field_name not in FIELDS:
        # "http://..." or "note:": not a field, just words
        word = f"{match['field']}:{word or match['phrase'] or ''}"
        field_name = ""
    field_name = field_name or "body"

    if word is None:  # a quoted phrase
        raw = match["phrase"] or ""
        if field_name in ("form", "type", "cik"):
            return _field_value(field_name, raw.strip(), messages)
        words = _analyze(raw.replace("*", " "))
        if not words:
            return None
        slop = match["slop"]
        if slop is not None and len(words) > 1:
            return Clause("near", field_name, words, slop=max(1, min(int(slop), MAX_SLOP)))
        return Clause("word" if len(words) == 1 else "phrase", field_name, words)

    word = word.strip("()[]{}")
    if field_name in ("form", "type", "cik"):
        return _field_value(field_name, word, messages)
    prefix = False
    if "*" in word or "?" in word:
        core = word.rstrip("*")
        if "*" in core or "?" in core or not word.endswith("*"):
            messages.append(
                f"Wildcards work only at the end of a word: {word} was read as "
                f"{word.replace('*', '').replace('?', '')}."
            )
            core = core.replace("*", "").replace("?", "")
            prefix = word.endswith("*") and not word.startswith("*")
        else:
            prefix = True
        word = core
    words = _analyze(word)
    if not words:
        return None
    if prefix and len(words) == 1:
        if len(words[0]) < MIN_PREFIX:
            messages.append(
                f"A wildcard needs at least {MIN_PREFIX} letters before the *: "
                f"{words[0]}* was left out."
            )
            return None
        return Clause("prefix", field_name, words)
    if len(words) == 1:
        return Clause("word", field_name, words)
    # "10-K" and "e-mail" are indexed as consecutive words: search them as a phrase.
    return Clause("phrase", field_name, words)


def _field_value(field_name: str, value: str, messages) -> Clause | None:
    value = value.strip()
    if not value:
        return None
    if field_name == "cik":
        if not value.isdigit():
            messages.append(f"cik: takes a number; {value} was left out.")
            return None
        return Clause("word", "cik", [str(int(value))])
    if field_name == "form" and value.endswith("*") and len(value) > 1:
        return Clause("prefix", "form", [value.rstrip("*").upper()])
    value = value.replace("*", "")
    return Clause("word", field_name, [value.upper()]) if value else None


def _analyze(text: str) -> list[str]:
    return words(text)


# --- Highlighting: the same words, found in plain text ---------------------------------------

# A token starts where no word character (or word character plus dot) precedes it and
# ends where none follows: the index tokenizer's `\w+(\.?\w+)*` rule, as lookarounds.
# The start test is written after the word (a lookbehind over the word itself) so the
# regex begins with a literal, which `re` finds with a fast scan: ten times faster on a
# long document than a leading lookbehind tried at every position.
_END = r"(?!\.?\w)"


def _starting(word: str) -> str:
    w = re.escape(word)
    return rf"{w}(?<!\w{w})(?<!\w\.{w})"


def clause_regexes(clause: Clause) -> list[str]:
    if clause.field != "body" or clause.negated:
        return []
    first = clause.words[0]
    if clause.kind == "prefix":
        return [_starting(first) + r"(?:\.?\w)*"]
    if clause.kind == "word":
        return [_starting(first) + _END]
    if clause.kind == "near":
        return [_starting(w) + _END for w in clause.words]
    rest = "".join(r"\W+" + re.escape(w) + _END for w in clause.words[1:])
    return [_starting(first) + _END + rest]


@functools.lru_cache(maxsize=512)
def highlight_pattern(q: str) -> re.Pattern | None:
    """A case-insensitive regex matching in plain text exactly the hits `q` highlights:
    its words, phrases (any whitespace or punctuation between the words) and wildcard
    prefixes; not excluded terms, not field prefixes. None when there is nothing to mark."""
    return pattern_for(parse(q))


def pattern_for(parsed: ParsedQuery, flags=re.IGNORECASE) -> re.Pattern | None:
    """The highlight regex of a parsed query. With flags=0 it matches lower-cased text
    (the query's words are lower case already): snippets search `text.lower()`, which
    is several times faster than a case-insensitive scan."""
    regexes = [r for g in parsed.groups for c in g for r in clause_regexes(c)]
    if not regexes:
        return None
    # Longest first, so a phrase wins over a word it contains.
    regexes = sorted(set(regexes), key=len, reverse=True)
    # No (?:...) around the branches (none holds a top-level |): re optimises a bare
    # alternation of literals, and wrapping each branch makes a scan ten times slower.
    return re.compile("|".join(regexes), flags)


# --- Running a search ---------------------------------------------------------------------

COLUMN_FIELDS = ("accession", "sequence", "filed", "form", "year", "doc_type", "cik", "state_loc")
_segment_columns: dict[str, dict[str, list]] = {}
_columns_lock = threading.Lock()


def columns(searcher) -> dict[str, list]:
    """Per-document values of the sortable fields, as lists indexed by docnum.

    Segments never change once written, so each segment's values are read once per
    process; a searcher only concatenates them. Sorting, grouping and facets then run
    over plain lists instead of Whoosh's per-document calls."""
    cached = getattr(searcher, "_edgar_columns", None)
    if cached is not None:
        return cached
    merged: dict[str, list] = {name: [] for name in COLUMN_FIELDS}
    for reader, _offset in searcher.reader().leaf_readers():
        # An empty index's reader has no segment (segment() is None): nothing to cache.
        segment = reader.segment() if hasattr(reader, "segment") else None
        key = segment.segment_id() if segment is not None else None
        values = _segment_columns.get(key) if key else None
        if values is None:
            values = {name: _read_column(reader, name) for name in COLUMN_FIELDS}
            if key:
                with _columns_lock:
                    if len(_segment_columns) > 256:
                        _segment_columns.clear()
                    _segment_columns[key] = values
        for name in COLUMN_FIELDS:
            merged[name].extend(values[name])
    searcher._edgar_columns = merged
    return merged


_DEFAULTS = {name: "" for name in COLUMN_FIELDS} | {"sequence": 0}
# Columns of space-separated words (every party's CIK, state): read as tuples of words.
WORD_COLUMNS = {"cik", "state_loc"}


def _read_column(reader, name) -> list:
    if not reader.has_column(name):
        default = () if name in WORD_COLUMNS else _DEFAULTS[name]
        return [default] * reader.doc_count_all()
    # One object per distinct value, not one per document: counting facets over
    # thousands of documents then hashes and compares a few shared objects, which is
    # three times faster than touching thousands of scattered equal strings.
    canonical: dict = {}
    values = [canonical.setdefault(v, v) for v in reader.column_reader(name)]
    if name in WORD_COLUMNS:
        split = {v: tuple(sys.intern(w) for w in v.split()) for v in canonical}
        values = list(map(split.__getitem__, values))
    return values


@dataclass
class Hit:
    """One matching document."""

    docnum: int
    fields: dict
    score: float = 0.0
    snippet: str = ""

    def __getattr__(self, name):
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def url(self) -> str:
        if not self.fields["sequence"]:  # a filing indexed by its header alone
            return self.filing_url
        return reverse(
            "filings:document",
            kwargs={"accession": self.fields["accession"], "sequence": self.fields["sequence"]},
        )

    @property
    def filing_url(self) -> str:
        return reverse("filings:detail", kwargs={"accession": self.fields["accession"]})


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
    name: str  # the filter parameter it refines
    label: str
    values: list[tuple[str, str, int]]  # (parameter value, label, count)


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
    ranked: list[int] = field(default_factory=list, repr=False)
    units: list = field(default_factory=list, repr=False)

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


def filter_queries(req, messages: list[str]) -> list:
    """Whoosh queries for the request's filters (ANDed with the words)."""
    queries = []
    forms = req.form_set()
    if forms:
        queries.append(wq.Or([wq.Term("form", f) for f in forms]))
    if req.doc_types:
        queries.append(wq.Or([doc_type_query(d) for d in req.doc_types]))
    if req.company:
        queries.append(company_query(req.company, messages))
    if req.filed_from or req.filed_to:
        start = req.filed_from.isoformat() if req.filed_from else None
        end = req.filed_to.isoformat() if req.filed_to else None
        queries.append(wq.TermRange("filed", start, end))
    for name, values in (("sic", req.sic), ("state_inc", req.state_inc),
                         ("state_loc", req.state_loc), ("item", req.items)):
        if values:
            queries.append(wq.Or([wq.Term(name, v) for v in values]))
    return queries


def company_query(text: str, messages: list[str]):
    """A CIK, or every company whose current or former name contains `text`."""
    from filings.models import Company

    digits = text.strip().lstrip("0") or "0"
    if text.strip().isdigit():
        return wq.Term("cik", digits)
    ciks = list(Company.objects.matching(text).values_list("cik", flat=True)[:1000])
    if not ciks:
        messages.append(f"No company name contains {text!r}.")
        return wq.NullQuery
    return wq.Or([wq.Term("cik", str(c)) for c in ciks])


def whoosh_query(req, parsed: ParsedQuery, messages: list[str]):
    """The request's words and filters as one Whoosh query."""
    parts = [q for q in [parsed.to_whoosh()] if q is not None]
    parts += filter_queries(req, messages)
    if not parts:
        return wq.Every()
    return parts[0] if len(parts) == 1 else wq.And(parts)


def run(req, with_facets=True, page_items=True) -> Results:
    """Run a search request: rank every match, group, count facets, cut the page.
    Raises PageNotFound for a page past the end."""
    from search.backends import whoosh

    started = time.perf_counter()
    parsed = parse(req.q)
    results = Results(request=req, parsed=parsed, messages=req.messages + parsed.messages)
    searcher = whoosh.searcher()
    cols = columns(searcher)

    query = whoosh_query(req, parsed, results.messages)
    if req.sort == "relevance" and parsed.has_words:
        scores = _scored(searcher, query, cols)
        ranked = _by_score(scores)
    else:
        scores = {}
        ranked = sorted(_matching(searcher, query, cols), key=cols["sequence"].__getitem__)
        filed, acc = cols["filed"], cols["accession"]
        ranked.sort(key=lambda d: (filed[d], acc[d]), reverse=req.sort != "oldest")
    results.ranked = ranked
    results.documents = len(ranked)

    # A filing's rank is its best document's: its first appearance in `ranked`.
    acc = cols["accession"]
    filings = list(dict.fromkeys(map(acc.__getitem__, ranked)))
    results.filings = len(filings)
    if req.grouped:
        results.units = filings
        results.total = results.filings
    else:
        results.units = ranked
        results.total = results.documents

    if req.page > results.pages:
        raise PageNotFound(req.page)
    if with_facets:
        results.facets = facets(cols, _one_per_filing(ranked, acc) if req.grouped else ranked,
                                ranked)
    if page_items:
        start = (req.page - 1) * req.per_page
        chunk = results.units[start : start + req.per_page]
        if req.grouped:
            chunk = _groups(ranked, acc, chunk)
        results.items = materialize(searcher, chunk, scores)
        attach_snippets(results.items, parsed)
    if results.total < 5 and parsed.has_words:
        results.suggestion = suggest(searcher, req.q, parsed)
    results.seconds = time.perf_counter() - started
    return results


def _scored(searcher, query, cols) -> dict[int, float]:
    """{docnum: score} of every match, in docnum order."""
    from search import matching

    try:
        return matching.scored(searcher, query, cols)
    except matching.Unsupported:
        hits = searcher.search(query, limit=None)
        return dict(sorted((docnum, score) for score, docnum in hits.top_n))


def _matching(searcher, query, cols) -> list[int]:
    from search import matching

    try:
        return matching.matching(searcher, query, cols)
    except matching.Unsupported:
        return sorted(searcher.docs_for_query(query))


def _by_score(scores: dict[int, float]) -> list[int]:
    """Best first; equal scores in docnum order, as Whoosh ranks them, so that every
    request for the same search orders it the same way and pages never overlap."""
    # `scores` is in docnum order and the sort is stable (reverse=True too).
    return sorted(scores, key=scores.__getitem__, reverse=True)


def _one_per_filing(ranked: list[int], acc: list[str]) -> list[int]:
    """One document of each filing. Which one does not matter to the facets: form, date,
    companies and states are the filing's, indexed alike on each of its documents."""
    return list(dict(zip(map(acc.__getitem__, ranked), ranked, strict=True)).values())


def _groups(ranked: list[int], acc: list[str], accessions: list[str]) -> list[tuple]:
    """(accession, its matching documents best first) for these filings."""
    members: dict[str, list[int]] = {a: [] for a in accessions}
    wanted = map(members.__contains__, map(acc.__getitem__, ranked))
    for docnum in compress(ranked, wanted):
        members[acc[docnum]].append(docnum)
    return list(members.items())


def materialize(searcher, units, scores=None) -> list:
    """Hits (or Groups of Hits) with their stored fields, for one page."""
    scores = scores or {}
    items = []
    for unit in units:
        if isinstance(unit, tuple):
            accession, docnums = unit
            hits = [Hit(d, searcher.stored_fields(d), scores.get(d, 0.0))
                    for d in docnums[:SNIPPETS_PER_FILING]]
            items.append(Group(accession, hits, len(docnums)))
        else:
            items.append(Hit(unit, searcher.stored_fields(unit), scores.get(unit, 0.0)))
    return items


SNIPPETS_PER_FILING = 4  # documents listed per filing
FACET_SIZE = 10


def facets(cols, leaders: list[int], ranked: list[int]) -> list[Facet]:
    """Counts of filings (or documents, in the document view) per value; document
    types always count documents."""
    from filings.models import Company

    def count(name, docnums):
        return Counter(map(cols[name].__getitem__, docnums))

    def count_multi(name, docnums):  # a WORD_COLUMNS column
        return Counter(chain.from_iterable(map(cols[name].__getitem__, docnums)))

    forms = count("form", leaders)
    years = count("year", leaders)
    doc_types = count("doc_type", ranked)
    ciks = count_multi("cik", leaders)
    states = count_multi("state_loc", leaders)

    top_ciks = [(cik, n) for cik, n in ciks.most_common(FACET_SIZE)]
    names = dict(
        Company.objects.filter(cik__in=[int(c) for c, _ in top_ciks]).values_list("cik", "name")
    )
    result = [
        Facet("form", "Form type", [(v, v, n) for v, n in forms.most_common(FACET_SIZE) if v]),
        Facet("company", "Company",
              [(c, names.get(int(c), f"CIK {c}"), n) for c, n in top_ciks]),
        Facet("year", "Year filed",
              sorted(((v, v, n) for v, n in years.items() if v), reverse=True)[:30]),
        Facet("doc_type", "Document type",
              [(v, v, n) for v, n in doc_types.most_common(FACET_SIZE) if v]),
        Facet("state_loc", "Located in",
              [(v, v, n) for v, n in states.most_common(FACET_SIZE) if v]),
    ]
    return [f for f in result if f.values]


SNIPPET_HEAD = 100_000  # characters of each text read first; the rest only if needed


def attach_snippets(items, parsed: ParsedQuery):
    from django.db.models.functions import Substr

    from filings.models import Document
    from search.snippets import snippet

    # One snippet per result: the best document of a filing (its other matching
    # documents are listed by name), so a page reads a bounded amount of text.
    hits = [item.first if isinstance(item, Group) else item for item in items]
    # A filing indexed by its header alone has no document text to cut a snippet from.
    hits = [hit for hit in hits if hit.fields.get("pk")]
    pattern = pattern_for(parsed)
    heads = dict(
        Document.objects.filter(pk__in=[h.pk for h in hits])
        .annotate(head=Substr("text", 1, SNIPPET_HEAD))
        .values_list("pk", "head")
    )
    deeper = []
    for hit in hits:
        head = heads.get(hit.pk) or ""
        complete = len(head) < SNIPPET_HEAD
        hit.snippet = snippet(head, pattern, complete=complete)
        if not hit.snippet:
            deeper.append(hit)
    if deeper:
        # Hits further into a long document: read the whole text of those few.
        texts = dict(
            Document.objects.filter(pk__in=[h.pk for h in deeper]).values_list("pk", "text")
        )
        for hit in deeper:
            hit.snippet = snippet(texts.get(hit.pk, ""), pattern)


# "Did you mean" looks up every word one edit away: 54 lookups a letter. Longer words are
# codes, hashes or noise, never a misspelling worth the lookups, and a query's first few
# rare words are enough to suggest something.
MAX_SUGGESTED_LENGTH = 40
MAX_SUGGESTED_WORDS = 4


def suggest(searcher, q: str, parsed: ParsedQuery) -> str:
    """"Did you mean": the query with each rare word replaced by the commonest word one
    edit away. Candidates are looked up term by term (a few hundred dictionary lookups),
    which stays fast on a large index where Whoosh's automaton-based corrector is not.
    Bounded: at most MAX_SUGGESTED_WORDS words of up to MAX_SUGGESTED_LENGTH letters."""
    reader = searcher.reader()
    corrected = parsed.text()
    changed = False
    tried = 0
    for word in dict.fromkeys(parsed.body_words()):
        if not 3 <= len(word) <= MAX_SUGGESTED_LENGTH or not word.isalpha():
            continue
        if reader.doc_frequency("body", word) > 2:
            continue
        tried += 1
        if tried > MAX_SUGGESTED_WORDS:
            break
        best, best_count = None, 2
        for candidate in _edits(word):
            count = reader.doc_frequency("body", candidate)
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


def iter_units(req, batch: int = 500):
    """Every result of a search (Groups or Hits), in order, a batch at a time: memory
    holds the list of matching document numbers, never every result's fields."""
    from search.backends import whoosh

    req.page = 1
    results = run(req, with_facets=False, page_items=False)
    searcher = whoosh.searcher()
    units = results.units
    if req.grouped:
        units = _groups(results.ranked, columns(searcher)["accession"], units)
    for start in range(0, len(units), batch):
        yield from materialize(searcher, units[start : start + batch])
