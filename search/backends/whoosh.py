"""The Whoosh engine: the embedded default, a directory of files beside the database.

Layout: `SEARCH_INDEX_DIR/current` is a symlink to a generation directory
(`gen-<nanoseconds>-<pid>`). Writers update the current generation in place under
Whoosh's file lock; `rebuild()` builds a fresh generation beside it and swaps the link
with one atomic rename, so readers see either the old index or the new one, never a
gap. A rebuild holds `rebuild.lock` while it runs; a generation newer than `current`
that no rebuild holds is what a killed rebuild left, and the next write removes it.

Analysis: the body and company fields take `search.index.words()` (the product's own
tokens, shared with every engine and with query analysis); Whoosh's per-token pipeline
is skipped. The `grams` field holds the body's common grams (`search.index.common_grams`),
which phrases through very common words read instead of those words' positions.

Reading: `search.backends.whoosh_query` translates the query's AST and the filters into
a Whoosh query; `search.backends.whoosh_matching` runs it a posting block at a time with
Whoosh's own BM25F scores (Whoosh runs anything it does not handle). Sorting, grouping
by filing and facets run over per-segment column caches (`columns()`), read once a
process, so totals stay exact and fast.
"""
from __future__ import annotations

import fcntl
import heapq
import logging
import os
import shutil
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from django.conf import settings
from whoosh import fields, formats, index
from whoosh import query as wq
from whoosh.analysis import LowercaseFilter, RegexTokenizer, Token, Tokenizer
from whoosh.system import pack_uint

from search.backends import whoosh_matching
from search.backends.base import (
    FACET_SIZE,
    FACETS,
    SNIPPETS_PER_FILING,
    YEAR_FACET_SIZE,
    ResultPage,
    SearchBackend,
    doc_type_family,
    facet_names,
)
from search.backends.whoosh_positions import PackedPositions
from search.backends.whoosh_query import whoosh_query
from search.backends.whoosh_storage import MappedStorage
from search.index import COMMON_WORDS, WORD_PATTERN, common_grams, entries_for, words
from search.results import Group, Hit

log = logging.getLogger(__name__)

ANALYZER = RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
# Seconds a writer waits for another writer's lock before giving up: generous, because
# a bulk ingest commits large batches while an upload task may be waiting.
WRITE_TIMEOUT = 900


class _LastWords(threading.local):
    """`words()` of the last two texts this thread asked for: an entry's body string is
    indexed as `body`, then as `body_counts` and, after `company`, as `grams` (Whoosh
    adds an entry's fields in name order), each asking for the same string object: its
    words are not found again. `CommonGrams.index` lets them go."""

    def __init__(self):
        self.kept: list[tuple[str, list[str]]] = []

    def of(self, text: str) -> list[str]:
        for kept, tokens in self.kept:
            if kept is text:
                return tokens
        tokens = words(text)
        self.kept = [*self.kept[-1:], (text, tokens)]
        return tokens

    def clear(self):
        self.kept = []


_last_words = _LastWords()


class BodyText(fields.TEXT):
    """TEXT whose indexing skips Whoosh's per-token Python pipeline (Token objects
    through a tokenizer and a filter): `words()` finds the same words three times
    faster, and indexing speed is mostly this. With positions, it keeps them packed
    (`whoosh_positions.PackedPositions`), not pickled."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if type(self.format) is formats.Positions:
            self.format = PackedPositions(field_boost=self.format.field_boost)

    def index(self, value, **kwargs):
        return _postings(self.format, enumerate(_last_words.of(value)))


def _postings(field_format, placed):
    """What a field's `index()` gives Whoosh, from its tokens and their positions
    ((position, token), in position order): each token once, with its frequency, weight
    and encoded positions."""
    positions = defaultdict(list)
    for position, token in placed:
        positions[token].append(position)
    encode = field_format.encode
    boost = field_format.field_boost
    for token, poslist in positions.items():
        yield token.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist)


class BodyCounts(fields.TEXT):
    """The body's words again, each with its count in the entry and no positions: what
    ranking and matching read (`whoosh_matching`). Whoosh keeps a posting block's ids,
    weights and positions in one compressed pickle, so reading a word's ids and weights
    from the body unpacks every position too: at 50k documents, reading these instead
    cut a two-word AND's ranking from 83 to 31 ms (paired runs). Phrases and proximity
    still read the body's positions. Indexed from the body's own string (`_document`);
    the same documents and weights as the body's postings, a test holds."""

    def __init__(self, **kwargs):
        super().__init__(phrase=False, **kwargs)

    def index(self, value, **kwargs):
        boost = self.format.field_boost
        for token, count in Counter(_last_words.of(value)).items():
            yield token.encode("utf-8"), count, count * boost, pack_uint(count)


class SectionText(BodyText):
    """The words of a document's item sections as `search.index.section_words` tags them
    ("1a:risk 1a:factors"): split on spaces, positions in that order."""

    def index(self, value, **kwargs):
        return _postings(self.format, enumerate(value.split()))


class CommonGramTokenizer(Tokenizer):
    """The common grams of a text (`search.index.common_grams`) as Whoosh Tokens, each at
    the position of its first word in the body's words. Whoosh's generic paths use it;
    indexing takes `CommonGrams.index`, the same postings without a Token per gram.
    Positions only: the words' character offsets are not kept by `words()`."""

    def __init__(self, common: frozenset = COMMON_WORDS):
        self.common = frozenset(common)

    def __eq__(self, other):
        return type(other) is type(self) and other.common == self.common

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for position, gram in common_grams(words(value), self.common):
            token.text = gram
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = gram
            if positions:
                token.pos = start_pos + position
            yield token


class CommonGrams(fields.FieldType):
    """The body's common grams with their positions, for fast phrases through common
    words (`whoosh_matching`): indexed from the body's own string, not scored, not
    stored. `common` is the set of common words the index was built with; it is kept
    in the index's schema, so phrases are always cut with the set their index holds."""

    def __init__(self, common: frozenset = COMMON_WORDS):
        self.common = frozenset(common)
        super().__init__(PackedPositions(), CommonGramTokenizer(self.common))

    def index(self, value, **kwargs):
        grams = common_grams(_last_words.of(value), self.common)
        _last_words.clear()
        return _postings(self.format, grams)


def make_schema():
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),  # "<accession>/<sequence>"
        pk=fields.STORED(),  # Document.pk, to fetch the text for snippets
        accession=fields.ID(stored=True, sortable=True),
        sequence=fields.NUMERIC(int, stored=True, sortable=True),
        form=fields.ID(stored=True, sortable=True),  # upper case, as EDGAR writes it
        doc_type=fields.ID(stored=True, sortable=True),  # upper case: EX-10.1
        filename=fields.STORED(),
        description=fields.STORED(),
        filed=fields.ID(stored=True, sortable=True),  # ISO date, sorts as text
        year=fields.ID(sortable=True),
        period=fields.ID(stored=True),
        cik=fields.KEYWORD(stored=True, sortable=True),  # every party's CIK, unpadded
        company=BodyText(analyzer=ANALYZER),  # every party's names, former names too
        parties=fields.STORED(),  # [(cik, name, state_loc, state_inc)], for display
        sic=fields.KEYWORD(stored=True),
        state_inc=fields.KEYWORD(stored=True),
        state_loc=fields.KEYWORD(stored=True, sortable=True),
        item=fields.KEYWORD(stored=True),  # 8-K items: "2.02 9.01"
        file_number=fields.KEYWORD(stored=True, lowercase=True),
        body=BodyText(analyzer=ANALYZER, phrase=True),
        # The body's words without positions (BodyCounts). Indexes built before it lack
        # it: ranking then reads the body's postings, as before, until `rebuild_index`.
        body_counts=BodyCounts(analyzer=ANALYZER),
        # Sections (filings.sections): the filing's main document's items ("1a 7"), and
        # the words of each section tagged with its item. Indexes built before them
        # lack both: section: then finds nothing until `rebuild_index`.
        section=fields.KEYWORD(stored=True),
        section_body=SectionText(analyzer=ANALYZER, phrase=True),
        # When the filing's bytes were stored here (search.index.ingested_value): UTC
        # text that sorts in time order. Indexes built before it lack it (see _run).
        ingested=fields.ID(stored=True, sortable=True),
        # The body's common grams (CommonGrams): an entry's value is its body string
        # (`_document`). Indexes built before them lack the field: phrases then read the
        # common words' positions, as before, until `rebuild_index`.
        grams=CommonGrams(),
    )


# --- Where the index lives -----------------------------------------------------------------


def index_root() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


def _current_link(root: Path) -> Path:
    return root / "current"


def _new_generation(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"gen-{time.time_ns()}-{os.getpid()}"
    path.mkdir()
    index.create_in(str(path), make_schema())
    return path


def _generation_time(path: Path) -> int:
    try:
        return int(path.name.split("-")[1])
    except (IndexError, ValueError):
        return 0


def _swap_in(root: Path, generation: Path):
    """Point `current` at `generation` in one atomic rename."""
    tmp = root / f".current-{os.getpid()}-{threading.get_ident()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, _current_link(root))


_create_lock = threading.Lock()


def current_dir() -> Path:
    """The directory of the current generation, created on first use."""
    root = index_root()
    link = _current_link(root)
    if not link.exists():
        with _create_lock:
            if not link.exists():
                _swap_in(root, _new_generation(root))
    return link.resolve()


def _open(path: Path):
    """The index at `path`, its files read through shared maps (whoosh_storage)."""
    return MappedStorage(str(path)).open_index()


def open_index():
    return _open(current_dir())


@contextmanager
def _rebuild_lock(root: Path, blocking: bool):
    """Held for a whole rebuild; yields False when not blocking and a rebuild runs."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "rebuild.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _leftovers(root: Path) -> list[Path]:
    """Generations newer than `current`: a rebuild's work in progress, or what a killed
    rebuild left. (Older ones are removed by the rebuild that replaced them.)"""
    link = _current_link(root)
    if not link.exists():
        return []
    current = link.resolve()
    return [
        p for p in root.glob("gen-*")
        if p != current and _generation_time(p) > _generation_time(current)
    ]


def _remove(paths: list[Path]):
    for path in paths:
        log.warning("removing %s, left by an interrupted rebuild", path.name)
        shutil.rmtree(path, ignore_errors=True)


def clean_up():
    """Remove what a killed rebuild left, unless a rebuild is running now."""
    root = index_root()
    if _leftovers(root):
        with _rebuild_lock(root, blocking=False) as free:
            if free:
                _remove(_leftovers(root))


# --- Reading: one searcher per thread, refreshed per request -------------------------------

_local = threading.local()


def searcher():
    """This thread's searcher over the current index, up to date as of this call."""
    path = current_dir()
    cached = getattr(_local, "searcher", None)
    if cached is not None and getattr(_local, "path", None) == path and cached.up_to_date():
        return cached
    if cached is not None:
        # Not Searcher.refresh(): it reuses segment readers and so can miss deletions
        # committed to a segment since (a re-ingested filing would show up twice).
        cached.close()
    _local.searcher = open_index().searcher()
    _local.path = path
    return _local.searcher


def close_searcher():
    cached = getattr(_local, "searcher", None)
    if cached is not None:
        cached.close()
        _local.searcher = None


# --- Writing -------------------------------------------------------------------------------

# Whoosh's lock is a file lock between processes; threads of one process also queue here.
_write_lock = threading.Lock()


def _writer(ix, **kwargs):
    return ix.writer(timeout=WRITE_TIMEOUT, delay=0.1, **kwargs)


def _current_writer():
    """A writer on the current generation. A writer that waited for the lock while
    `rebuild()` swapped in a new generation would write to the old one: it lets go and
    takes the new one's lock instead."""
    while True:
        path = current_dir()
        writer = _writer(_open(path))
        if current_dir() == path:
            return writer
        writer.cancel()


@contextmanager
def _removing(accessions: Iterable[str]):
    """A writer of the current index with these filings' entries deleted; commits when
    the block ends, cancels if it raises. Yields None when there is nothing to do."""
    accessions = sorted(set(a for a in accessions if a))
    if not accessions:
        yield None, accessions
        return
    clean_up()
    with _write_lock:
        writer = _current_writer()
        try:
            for accession in accessions:
                writer.delete_by_term("accession", accession)
            yield writer, accessions
        except BaseException:
            writer.cancel()
            raise
        writer.commit()


# --- Reading: columns, ranking, grouping, facets --------------------------------------------

COLUMN_FIELDS = ("accession", "sequence", "filed", "form", "year", "doc_type", "cik", "state_loc",
                 "state_inc", "sic", "item", "ingested", "section")
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
    for values in _segment_values(searcher):
        for name, column in merged.items():
            column.extend(values[name])
    searcher._edgar_columns = merged
    return merged


def _segment_values(searcher) -> list[dict]:
    """Each segment's columns (and their codes, `_encode`), read once per process."""
    found = []
    for reader, _offset in searcher.reader().leaf_readers():
        # An empty index's reader has no segment (segment() is None): nothing to cache.
        segment = reader.segment() if hasattr(reader, "segment") else None
        key = segment.segment_id() if segment is not None else None
        values = _segment_columns.get(key) if key else None
        if values is None:
            values = {name: _read_column(reader, name) for name in COLUMN_FIELDS}
            codes = values[CODES] = {name: _encode(values[name]) for name in CODED_FIELDS}
            codes[FAMILY] = _derived(codes["doc_type"], doc_type_family)
            if key:
                with _columns_lock:
                    if len(_segment_columns) > 256:
                        _segment_columns.clear()
                    _segment_columns[key] = values
        found.append(values)
    return found


# The facets' columns again as codes (`coded`): each document's value as a number, an
# index into the column's distinct values. Counting a common word's facets is then a
# `numpy.bincount` per facet, not a Python step per match (12-25 ms of such a search
# at 50k documents).
CODES = "#codes"
FAMILY = "#family"  # each document's document type family (EX-10.1: EX-10)
CODED_FIELDS = ("accession", "form", "year", "doc_type", "cik", "state_loc", "state_inc",
                "sic", "item", "section")


def _codes_in(values: list, index: dict) -> np.ndarray:
    """Each value's code in `index` (value -> code), a new value given the next code."""
    return np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int32,
                       count=len(values))


def _encode(column: list) -> tuple[np.ndarray, list]:
    """(codes, distinct values): column[d] == values[codes[d]]."""
    index: dict = {}
    return _codes_in(column, index), list(index)


def _derived(encoded: tuple[np.ndarray, list], function) -> tuple[np.ndarray, list]:
    """The codes of `function` of each value of an encoded column."""
    codes, values = encoded
    remap, derived = _encode([function(v) for v in values])
    return remap[codes], derived


def coded(searcher) -> dict[str, tuple[np.ndarray, list]]:
    """The facets' columns as codes over the whole index: {name: (codes indexed by
    docnum, distinct values)}, made once per searcher from its segments' own codes."""
    cached = getattr(searcher, "_edgar_codes", None)
    if cached is not None:
        return cached
    segments = [values[CODES] for values in _segment_values(searcher)]
    merged = {}
    for name in (*CODED_FIELDS, FAMILY):
        index: dict = {}
        parts = []
        for segment in segments:
            codes, values = segment[name]
            parts.append(_codes_in(values, index)[codes])
        merged[name] = (np.concatenate(parts) if parts else np.zeros(0, np.int32), list(index))
    searcher._edgar_codes = merged
    return merged


_DEFAULTS = {name: "" for name in COLUMN_FIELDS} | {"sequence": 0}
# Columns of space-separated words (every party's CIK, state): read as tuples of words.
WORD_COLUMNS = {"cik", "state_loc", "state_inc", "sic", "item", "section"}


def _read_column(reader, name) -> list:
    # An index built before a field existed has no such field: its default throughout.
    if name not in reader.schema or not reader.has_column(name):
        if name in WORD_COLUMNS and name in reader.schema:
            # A facet field indexed without a column (the schema's KEYWORDs): its values
            # per document, from its postings, once per segment like a column.
            return _column_from_postings(reader, name)
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


def _column_from_postings(reader, name) -> list[tuple]:
    """Per document, the tuple of the field's words (in index order), built from each
    word's postings: a field has few distinct words (states, SIC codes, 8-K items)."""
    values: list[tuple] = [()] * reader.doc_count_all()
    field = reader.schema[name]
    canonical: dict = {(): ()}  # one tuple per distinct combination: a pointer a document
    for btext in reader.lexicon(name):
        word = sys.intern(field.from_bytes(btext))
        for docnum in reader.postings(name, btext).all_ids():
            value = values[docnum] + (word,)
            values[docnum] = canonical.setdefault(value, value)
    return values


def _scored(searcher, query, cols) -> dict[int, float]:
    """{docnum: score} of every match, in docnum order."""
    try:
        return whoosh_matching.scored(searcher, query, cols)
    except whoosh_matching.Unsupported:
        hits = searcher.search(query, limit=None)
        return dict(sorted((docnum, score) for score, docnum in hits.top_n))


def _matching(searcher, query, cols) -> list[int]:
    try:
        return whoosh_matching.matching(searcher, query, cols)
    except whoosh_matching.Unsupported:
        return sorted(searcher.docs_for_query(query))


def by_score(scores: dict[int, float]) -> list[int]:
    """Best first; equal scores in docnum order, as Whoosh ranks them, so that every
    request for the same search orders it the same way and pages never overlap."""
    # `scores` is in docnum order and the sort is stable (reverse=True too).
    return sorted(scores, key=scores.__getitem__, reverse=True)


def _ranked(searcher, cols, query, sort) -> tuple[list[int], dict[int, float]]:
    """Every matching docnum in the order of `sort`, and the scores (relevance only)."""
    if sort == "relevance":
        scores = _scored(searcher, query, cols)
        return by_score(scores), scores
    ranked = sorted(_matching(searcher, query, cols), key=cols["sequence"].__getitem__)
    filed, acc = cols["filed"], cols["accession"]
    if sort == "ingested":
        ingested = cols["ingested"]
        ranked.sort(key=lambda d: (ingested[d], filed[d], acc[d]), reverse=True)
    else:
        ranked.sort(key=lambda d: (filed[d], acc[d]), reverse=sort != "oldest")
    return ranked, {}


def _leaders(ranked: np.ndarray, accessions: np.ndarray) -> np.ndarray:
    """One document of each filing. Which one does not matter to the facets: form, date,
    companies and states are the filing's, indexed alike on each of its documents."""
    return ranked[np.unique(accessions[ranked], return_index=True)[1]]


def _filings(order: np.ndarray, codes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matches `order` (ranked) by filing: (each match's filing, as a code; where
    each filing first appears in `order`, ascending: its best match, so the filings in
    rank order; each filing's count of matches, in that order)."""
    filing_of = codes["accession"][0][order]
    _, firsts, counts = np.unique(filing_of, return_index=True, return_counts=True)
    by_rank = np.argsort(firsts)
    return filing_of, firsts[by_rank], counts[by_rank]


def _leading_groups(order: np.ndarray, codes) -> list[tuple]:
    """(accession, [its best match], its count of matches) of every filing among the
    matches `order` (ranked), in rank order."""
    filing_of, firsts, counts = _filings(order, codes)
    accessions = codes["accession"][1]
    return [(accessions[code], [docnum], count) for code, docnum, count in zip(
        filing_of[firsts].tolist(), order[firsts].tolist(), counts.tolist(), strict=True)]


def _page_groups(ranked: np.ndarray, filing_of: np.ndarray, firsts: np.ndarray,
                 accessions: list[str]) -> list[tuple]:
    """(accession, its matching documents best first, their count) for the page's
    filings, given by where each first appears in `ranked` (`filing_of`: each match's
    filing code)."""
    wanted = filing_of[firsts]
    members: dict[int, list[int]] = {code: [] for code in wanted.tolist()}
    chosen = np.flatnonzero(np.isin(filing_of, wanted))
    for code, docnum in zip(filing_of[chosen].tolist(), ranked[chosen].tolist(), strict=True):
        members[code].append(docnum)
    return [(accessions[code], docnums, len(docnums)) for code, docnums in members.items()]


def _stored_fields(reader):
    """docnum -> its stored fields, read from its segment's own stored column. Whoosh's
    `stored_fields` copies each dict keeping the keys its schema still has, a Python
    step per field (a sixth of a CSV export's profiled time); this index's stored keys
    are its schema's own (a schema change means `rebuild_index`)."""
    if hasattr(reader, "_perdoc"):  # one segment
        return reader._perdoc.stored_fields
    readers = getattr(reader, "readers", None)
    if not readers or not all(hasattr(r, "_perdoc") for r in readers):
        return reader.stored_fields  # an empty index, or a reader of another kind
    perdoc = [r._perdoc for r in readers]

    def stored(docnum):
        segment, docnum = reader._segment_and_docnum(docnum)
        return perdoc[segment].stored_fields(docnum)

    return stored


def _materialize(searcher, units, scores=None, per_group=SNIPPETS_PER_FILING) -> list:
    """Hits (or Groups of Hits, each with its `per_group` best) with their stored
    fields."""
    scores = scores or {}
    stored = _stored_fields(searcher.reader())
    items = []
    for unit in units:
        if isinstance(unit, tuple):  # (accession, its best documents first, their count)
            accession, docnums, count = unit
            hits = [Hit(stored(d), scores.get(d, 0.0)) for d in docnums[:per_group]]
            items.append(Group(accession, hits, count))
        else:
            items.append(Hit(stored(unit), scores.get(unit, 0.0)))
    return items


def _facet_counts(codes, ranked, grouped: bool = False, names=FACETS,
                  leaders: np.ndarray | None = None) -> dict:
    """Filings (or documents, in the document view) per value. Document types are
    counted by family (EX-10.1 is an EX-10), as the filter matches them, and per filing
    in the filings view: a filing counts once for each family among its matching
    documents, so that the count is what the filter finds. `codes`: `coded()`;
    `leaders`, one match of each filing, when the caller has them."""
    ranked = np.asarray(ranked, dtype=np.int64)
    accessions = codes["accession"][0]
    if not grouped:
        leaders = ranked
    elif leaders is None:
        leaders = _leaders(ranked, accessions)

    def count(name, docnums) -> tuple[list, np.ndarray]:
        """(the values counted, the count of each: only those counted at least once)"""
        column, values = codes[name]
        counts = np.bincount(column[docnums], minlength=len(values))
        held = np.flatnonzero(counts)
        return [values[i] for i in held.tolist()], counts[held].tolist()

    def single(name, docnums=None) -> Counter:
        return Counter(dict(zip(*count(name, leaders if docnums is None else docnums),
                                strict=True)))

    def multi(name) -> Counter:  # a WORD_COLUMNS column: a tuple of words per document
        counter: Counter = Counter()
        for words_, n in zip(*count(name, leaders), strict=True):
            for word in words_:
                counter[word] += n
        return counter

    def top(counter):
        # The most frequent first and equal counts by value, as PostgreSQL orders them
        # (n DESC, v): the same values are cut off past FACET_SIZE on both engines.
        return heapq.nsmallest(FACET_SIZE, ((v, n) for v, n in counter.items() if v),
                               key=lambda item: (-item[1], item[0]))

    def years():
        counts = single("year")
        return sorted(((v, n) for v, n in counts.items() if v), reverse=True)[:YEAR_FACET_SIZE]

    def doc_types():
        families, values = codes[FAMILY]
        if not grouped:
            return top(single(FAMILY, ranked))
        # Each filing's families once: its (filing, family) pairs, made distinct.
        if not len(ranked):
            return []
        pairs = np.unique(accessions[ranked].astype(np.int64) * len(values) + families[ranked])
        counts = np.bincount(pairs % len(values), minlength=len(values))
        held = np.flatnonzero(counts)
        return top(dict(zip([values[i] for i in held.tolist()], counts[held].tolist(),
                            strict=True)))

    counters = {
        "form": lambda: top(single("form")),
        "company": lambda: top(multi("cik")),
        "year": years,
        "doc_type": doc_types,
        "state_loc": lambda: top(multi("state_loc")),
        "state_inc": lambda: top(multi("state_inc")),
        "sic": lambda: top(multi("sic")),
        "item": lambda: top(multi("item")),
        "section": lambda: top(multi("section")),
    }
    return {name: counters[name]() for name in names}


OLD_INDEX = ("This search index was built before ingest times were indexed: run "
             "manage.py rebuild_index to sort and filter by when filings were ingested.")


OLD_SECTIONS = ("This search index was built before sections were indexed: run "
                "manage.py rebuild_index to search inside sections (section:).")


def _asks_sections(parsed, filters) -> bool:
    clauses = [c for group in parsed.groups for c in group] + parsed.excluded
    return bool(filters.sections) or any(c.section or c.field == "section" for c in clauses)


def _document(entry: dict, schema) -> dict:
    """The fields of an entry for an index of this schema: the entry's fields that the
    schema has, and the body again (the same string) as its common grams. An index built
    by an older version lacks newer fields: it takes what it can (searches say what is
    missing, see OLD_INDEX) until `rebuild_index` builds it with the current schema."""
    document = {k: v for k, v in entry.items() if k in schema}
    for name in (whoosh_matching.GRAMS, whoosh_matching.COUNTS):
        if name in schema:
            document[name] = entry["body"]
    return document


class WhooshBackend(SearchBackend):
    transactional = False

    def update_filings(self, accessions):
        with _removing(accessions) as (writer, accessions):
            for entry in entries_for(accessions) if writer else ():
                writer.add_document(**_document(entry, writer.schema))

    def remove_filings(self, accessions):
        with _removing(accessions):
            pass

    def document_count(self) -> int:
        with open_index().searcher() as s:
            return s.doc_count()

    def entry_ids(self):
        with open_index().searcher() as s:
            for fields_ in s.all_stored_fields():
                yield fields_["id"]

    def clean_up(self):
        clean_up()

    def warm(self):
        s = searcher()
        columns(s)
        coded(s)
        whoosh_matching.warm(s)

    # --- Read side -----------------------------------------------------------------------

    def _query(self, s, parsed, filters, sort, messages):
        """The search as one Whoosh query over searcher `s` (saying in `messages` what
        an index built by an older version cannot answer)."""
        query = whoosh_query(filters, parsed, messages)
        if "ingested" not in s.schema and (sort == "ingested" or filters.ingested_after
                                           or filters.ingested_to):
            messages.append(OLD_INDEX)
            if filters.ingested_after or filters.ingested_to:
                query = wq.NullQuery  # no entry of this index says when it came
        if "section_body" not in s.schema and _asks_sections(parsed, filters):
            messages.append(OLD_SECTIONS)  # section: finds nothing in it
        return query

    def _run(self, parsed, filters, sort, messages):
        s = searcher()
        cols = columns(s)
        query = self._query(s, parsed, filters, sort, messages)
        ranked, scores = _ranked(s, cols, query, sort)
        return s, cols, ranked, scores

    def search(self, parsed, filters, *, sort, view, page, per_page, facets=True,
               others=None):
        messages = []
        s, _cols, ranked, scores = self._run(parsed, filters, sort, messages)
        codes = coded(s)
        # A filing's rank is its best document's: its first appearance in `ranked`.
        order = np.fromiter(ranked, np.int64, len(ranked))
        filing_of, firsts, _ = _filings(order, codes)
        grouped = view == "filings"
        found = ResultPage(documents=len(ranked), filings=len(firsts), messages=messages)
        names = facet_names(facets)
        if names:
            found.facets = _facet_counts(codes, order, grouped, names, leaders=order[firsts])
        start = (page - 1) * per_page
        if grouped:
            chunk = _page_groups(order, filing_of, firsts[start : start + per_page],
                                 codes["accession"][1])
        else:
            chunk = ranked[start : start + per_page]
        found.items = _materialize(s, chunk, scores)
        for name, other in (others or {}).items():
            found.facets[name] = self.facet_counts(parsed, other, view=view,
                                                   names=(name,)).get(name, [])
        return found

    def facet_counts(self, parsed, filters, *, view, names):
        """The facets alone: the matches in index order, neither ranked nor sorted (the
        counts do not depend on the order, and sorting every match of a broad search
        cost more than counting them)."""
        names = facet_names(names)
        if not names:
            return {}
        s = searcher()
        matched = _matching(s, self._query(s, parsed, filters, "newest", []), columns(s))
        return _facet_counts(coded(s), matched, view == "filings", names)

    def iter_results(self, parsed, filters, *, sort, view, batch=500):
        # Memory holds the list of matching document numbers, never every result's fields.
        s, _cols, ranked, _ = self._run(parsed, filters, sort, [])
        units = ranked
        if view == "filings":
            # A Group holds its best document alone, as the interface promises: an
            # export reads one document's fields per filing, not the page's
            # SNIPPETS_PER_FILING.
            units = _leading_groups(np.fromiter(ranked, np.int64, len(ranked)), coded(s))
        for start in range(0, len(units), batch):
            yield from _materialize(s, units[start : start + batch], per_group=1)

    def doc_frequency(self, words):
        reader = searcher().reader()
        return {w: reader.doc_frequency("body", w) for w in words}

    def rebuild(self, workers=1, batch=200, progress=None) -> dict:
        """Index every stored filing into a fresh generation and swap it in atomically.

        Writes that land in the old generation while this runs are caught up at the end,
        under the old generation's lock, so nothing ingested meanwhile is lost."""
        from django.utils import timezone

        from filings.models import Filing

        started = time.monotonic()
        since = timezone.now()
        root = index_root()
        with _rebuild_lock(root, blocking=True):
            _remove(_leftovers(root))
            generation = _new_generation(root)
            stats = self._fill(generation, workers, batch, progress)
            ix = _open(generation)
            with _write_lock:
                old = _current_link(root)
                held = None
                if old.exists():
                    held = _writer(_open(old.resolve()))  # hold the old lock
                try:
                    changed = set(
                        Filing.objects.filter(updated_at__gte=since).values_list(
                            "accession_number", flat=True
                        )
                    )
                    present = set(Filing.objects.values_list("accession_number", flat=True))
                    gone = set(stats.pop("accessions")) - present
                    if changed or gone:
                        w = _writer(ix)
                        for accession in changed | gone:
                            w.delete_by_term("accession", accession)
                        for entry in entries_for(sorted(changed)):
                            w.add_document(**_document(entry, ix.schema))
                        w.commit()
                    previous = old.resolve() if old.exists() else None
                    _swap_in(root, generation)
                finally:
                    if held is not None:
                        held.cancel()
            _remove_old_generations(root, keep={generation, previous})
        stats["seconds"] = time.monotonic() - started
        return stats

    def _fill(self, generation: Path, workers, batch, progress) -> dict:
        from filings.models import Filing

        ix = _open(generation)
        accessions = list(
            Filing.objects.order_by("accession_number").values_list("accession_number", flat=True)
        )
        stats = {"filings": len(accessions), "documents": 0, "bytes": 0,
                 "accessions": accessions}
        kwargs = {"limitmb": 256}
        if workers > 1:
            kwargs.update(procs=workers, multisegment=True)
        writer = ix.writer(**kwargs)
        try:
            for start in range(0, len(accessions), batch):
                chunk = accessions[start : start + batch]
                for entry in entries_for(chunk):
                    stats["documents"] += 1
                    stats["bytes"] += len(entry["body"].encode("utf-8"))
                    writer.add_document(**_document(entry, ix.schema))
                if progress:
                    progress(len(chunk))
        except BaseException:
            writer.cancel()
            shutil.rmtree(generation, ignore_errors=True)
            raise
        writer.commit()
        return stats


def _remove_old_generations(root: Path, keep: set):
    """Generations older than the previous one: no searcher can still be reading them
    after a request has come and gone, and the previous one stays for those that are."""
    keep = {p for p in keep if p}
    for path in root.glob("gen-*"):
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)
