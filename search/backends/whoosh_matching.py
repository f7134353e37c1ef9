"""Running a Whoosh query a posting block at a time: the matching documents, and their
BM25F scores exactly as Whoosh's matchers compute them, without Whoosh's per-document
method calls (which cost more than the scoring itself on a common word).

Handles the queries `search.backends.whoosh_query` builds: terms, phrases, AND, OR,
AND NOT, prefixes and term ranges. Anything else raises `Unsupported` and the caller
asks Whoosh. (Moved here from `search/matching.py`.) A body phrase through a common word
reads its common grams' positions (the `grams` field, where the index has it) instead of
the common word's.
"""
from __future__ import annotations

from array import array
from bisect import bisect_left
from itertools import accumulate, compress, repeat

import numpy as np
from whoosh import fields
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader, _lenfield
from whoosh.columns import NumericColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import spans
from whoosh.scoring import BM25F, bm25
from whoosh.util.numeric import byte_to_length

from search.backends.whoosh_positions import pairs_at, pairs_near, position_list
from search.index import phrase_cover
from search.positions import pair_near as _pair_near
from search.positions import spans_near as _spans_near

# A range or prefix over a column-backed ID field with more terms than this is matched
# by reading the column (one pass in memory) instead of one posting list per term: a
# ten-year date range is thousands of dates.
COLUMN_SCAN_TERMS = 16
_NULL = type(wq.NullQuery)
GRAMS = "grams"  # the body's common grams (search.backends.whoosh.CommonGrams)
COUNTS = "body_counts"  # the body's words without positions (whoosh.BodyCounts)


class Unsupported(Exception):
    """A query this module does not run; Whoosh runs it instead."""


def matching(searcher, query, columns=None) -> list[int]:
    """The document numbers matching `query`, ascending."""
    found = []
    for segment in _segments(searcher, columns, scored=False):
        local = sorted(segment.run(query) - segment.deleted)
        found.extend(map(segment.offset.__add__, local) if segment.offset else local)
    return found


def scored(searcher, query, columns=None) -> dict[int, float]:
    """{docnum: score} of every document matching `query`, in ascending docnum order;
    the scores are Whoosh's BM25F scores of the same query."""
    if type(searcher.weighting) is not BM25F:
        raise Unsupported(type(searcher.weighting).__name__)
    found: dict[int, float] = {}
    for segment in _segments(searcher, columns, scored=True):
        local = segment.run(query)
        deleted, offset = segment.deleted, segment.offset
        docs = sorted(local.keys() - deleted if deleted else local)
        found.update(zip(map(offset.__add__, docs), map(local.__getitem__, docs), strict=True))
    return found


def warm(searcher):
    """Read what every ranked search reads first, before a search does: each segment's
    body lengths."""
    for segment in _segments(searcher, None, scored=True):
        segment.lengths("body")


def _segments(searcher, columns, scored):
    for reader, offset in searcher.reader().leaf_readers():
        yield _Segment(searcher, reader, offset, columns, scored)


_lengths: dict[tuple, np.ndarray] = {}
_common_weights: dict[tuple, array] = {}


class _Segment:
    """One segment's part of a query: sets of segment-relative docnums, or dicts of
    {docnum: score} when scoring. Deleted documents are removed by the caller, once."""

    def __init__(self, searcher, reader, offset, columns, scored):
        self.searcher = searcher
        self.schema = searcher.schema
        self.reader = reader
        self.offset = offset
        self.columns = columns or {}
        self.scored = scored
        self.deleted = _deleted(reader)

    def empty(self):
        return {} if self.scored else set()

    def run(self, q):
        kind = type(q)
        if getattr(q, "boost", 1.0) != 1.0:
            raise Unsupported("boost")
        if kind is _NULL:
            return self.empty()
        if kind is wq.Term:
            return self.term(q.fieldname, q.text)
        if kind is wq.And:
            if self.scored:
                return self.intersect_scored(q.subqueries)
            return self.intersect([self.run(s) for s in q.subqueries])
        if kind is wq.Or:
            if getattr(q, "scale", None) or getattr(q, "minmatch", 0):
                raise Unsupported("Or with scale or minmatch")
            return self.union([self.run(s) for s in q.subqueries])
        if kind is wq.AndNot:
            positive = self.run(q.a)
            if not positive:
                return positive
            negative = self._unscored().run(q.b)
            if self.scored:
                return {d: s for d, s in positive.items() if d not in negative}
            return positive - negative
        if kind is wq.Every and not self.scored and not q.fieldname:
            return set(range(self.reader.doc_count_all()))
        if kind is wq.Phrase and q.slop == 1:
            return self.phrase(q.fieldname, q.words)
        if kind is spans.SpanNear2:
            return self.near(q)
        if kind in (wq.Prefix, wq.TermRange):
            return self.expanded(q)
        raise Unsupported(kind.__name__)

    def _unscored(self):
        copy = object.__new__(_Segment)
        copy.__dict__.update(self.__dict__, scored=False)
        return copy

    # --- Combining ---------------------------------------------------------------------

    def intersect(self, parts):
        if not parts:
            return self.empty()
        if not self.scored:
            return set.intersection(*sorted(parts, key=len))
        # Sum the scores in query order (Whoosh adds its sub-matchers' scores).
        smallest, *others = sorted(parts, key=len)
        keys = set(smallest).intersection(*others)
        first, *rest = parts
        out = {d: first[d] for d in sorted(keys)}
        for part in rest:
            for d in out:
                out[d] += part[d]
        return out

    def intersect_scored(self, subqueries):
        """Like intersect(), but the words' postings are scored only where every part
        matches: most postings of two common words fall outside their intersection."""
        parts = []
        for sub in subqueries:
            if type(sub) is wq.Term and sub.boost == 1.0:
                parts.append(self.postings_of(sub.fieldname, sub.text))
            else:
                parts.append(self.run(sub))
        if not parts:
            return self.empty()
        keys = [p.docs if isinstance(p, _Postings) else p.keys() for p in parts]
        smallest, *others = sorted(keys, key=len)
        docs = sorted(set(smallest).intersection(*others))
        at = np.asarray(docs, dtype=np.int64)
        totals = None
        for part in parts:  # summed in query order, as Whoosh adds its sub-matchers
            if isinstance(part, _Postings):
                scores = self.term_scores(part.fieldname, part.btext, at, part.weights_of(at))
            else:
                scores = np.fromiter(map(part.__getitem__, docs), np.float64, len(docs))
            totals = scores if totals is None else totals + scores
        return dict(zip(docs, totals.tolist(), strict=True))

    def postings_of(self, fieldname, text):
        btext = self._btext(fieldname, text)
        if btext is None:
            return {}
        ids, weights, _ = self.postings(fieldname, btext)
        return _Postings(fieldname, btext, ids, weights)

    def union(self, parts):
        if not parts:
            return self.empty()
        if not self.scored:
            return set().union(*parts)
        out = dict(parts[0])
        for part in parts[1:]:
            for d, s in part.items():
                out[d] = out[d] + s if d in out else s
        return out

    # --- Terms ---------------------------------------------------------------------------

    def _btext(self, fieldname, text):
        if fieldname not in self.schema:
            return None
        try:
            btext = self.schema[fieldname].to_bytes(text)
        except ValueError:
            return None
        return btext if (fieldname, btext) in self.reader else None

    def postings(self, fieldname, btext, values=False):
        """(docnums, weights, values or None) of one term in this segment, deleted
        documents included, read a whole block at a time. Without values, a body word's
        are read from its COUNTS twin where the index has it: the same documents and
        weights, without unpacking its positions."""
        if fieldname == "body" and not values and COUNTS in self.schema:
            fieldname = COUNTS
        m = self.reader.postings(fieldname, btext)
        if isinstance(m, FilterMatcher):
            m = m.child  # the deletion filter: applied once, at the end
        ids, weights, vals = [], [], [] if values else None
        if isinstance(m, W3LeafMatcher):
            while m.is_active():
                # W3LeafMatcher._read_ids, its running sum in C (Whoosh's delta_decode
                # is a Python generator: a tenth of a common word's reading, profiled).
                if m._data is None:
                    m._read_data()
                ids.extend(m._data[0] if m._byteids else accumulate(m._data[0]))
                m._read_weights()
                weights.extend(m._weights)
                if values:
                    m._read_values()
                    vals.extend(m._values)
                m._next_block()
        else:  # postings inlined in the term dictionary: a few documents
            while m.is_active():
                ids.append(m.id())
                weights.append(m.weight())
                if values:
                    vals.append(m.value())
                m.next()
        return ids, weights, vals

    def term(self, fieldname, text):
        btext = self._btext(fieldname, text)
        if btext is None:
            return self.empty()
        ids, weights, _ = self.postings(fieldname, btext)
        if not self.scored:
            return set(ids)
        scores = self.term_scores(fieldname, btext, ids, weights)
        return dict(zip(ids, scores.tolist(), strict=True))

    def term_scores(self, fieldname, btext, ids, weights) -> np.ndarray:
        """BM25F of each posting: `whoosh.scoring.BM25FScorer`, computed for a list (of
        ids and weights, lists or arrays), as a float64 array."""
        field = self.schema[fieldname]
        if not field.scorable:
            return np.asarray(weights, dtype=np.float64)  # Whoosh's WeightScorer
        top = self.searcher
        weighting = top.weighting
        idf = top.idf(fieldname, btext)
        avgfl = top.avg_field_length(fieldname) or 1
        B = weighting._field_B.get(fieldname, weighting.B)
        K1 = weighting.K1
        lengths = self.lengths(fieldname)
        if lengths is None:
            return np.array([bm25(idf, w, 1, avgfl, B, K1) for w in weights], dtype=np.float64)
        # bm25() written out, the same operations in the same order, in float64 arrays:
        # the same floats, a tenth of the time of a Python step per posting.
        tf = np.asarray(weights, dtype=np.float64)
        fl = lengths[np.asarray(ids, dtype=np.intp)]
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))

    def lengths(self, fieldname):
        """Each document's length of `fieldname` in this segment, read once a process
        (segments never change)."""
        reader = self.reader
        segment = _segment_id(reader)
        key = (segment, fieldname) if segment else None
        cached = _lengths.get(key) if key else None
        if cached is None:
            cached = field_lengths(reader, fieldname)
            if key:
                if len(_lengths) > 64:
                    _lengths.clear()
                _lengths[key] = cached
        return cached

    def common_weights(self, btext):
        """A common word's body weight in each document of this segment (0.0 where it is
        absent), read once a process (segments never change). A posting block holds its
        documents' positions too, compressed with their ids and weights, so reading a
        common word's weights on every search would unpack nearly every document's
        positions of it, the very cost its grams avoid. A double per document and word
        (the weights as read: the same floats)."""
        reader = self.reader
        segment = _segment_id(reader)
        key = (segment, btext) if segment else None
        cached = _common_weights.get(key) if key else None
        if cached is None:
            cached = array("d", bytes(8 * reader.doc_count_all()))
            ids, weights, _ = self.postings("body", btext)
            for docnum, weight in zip(ids, weights, strict=True):
                cached[docnum] = weight
            if key:
                if len(_common_weights) > 256:
                    _common_weights.clear()
                _common_weights[key] = cached
        return cached

    # --- Phrases, prefixes, ranges ---------------------------------------------------------

    def phrase(self, fieldname, words):
        """Documents holding the words at consecutive positions; scored as Whoosh scores
        a phrase: the sum of its words' term scores."""
        common = getattr(self.schema[GRAMS], "common", None) if GRAMS in self.schema else None
        if fieldname == "body" and common:
            cover = phrase_cover(words, common)
            if any(is_gram for _, _, is_gram in cover):
                return self.covered_phrase(words, cover, common)
        return self.positional(fieldname, words, _consecutive, (_pair_at, pairs_at, 1))

    def covered_phrase(self, words, cover, common):
        """A body phrase decided by its cover (`search.index.phrase_cover`): the grams'
        positions in the grams field and the other words' in the body, each at its
        offset, instead of every word's (a common word's are in nearly every document).
        The same documents as `positional` (a gram is at p exactly where its two words
        are at p and p + 1) and the same scores: the words' body term scores, from their
        weights only (a common word's from `common_weights`)."""
        keys = [(GRAMS if is_gram else "body", token) for _, token, is_gram in cover]
        read = {}
        for key in dict.fromkeys(keys):  # a token the cover repeats is read once
            btext = self._btext(*key)
            if btext is None:
                return self.empty()
            read[key] = self.postings(key[0], btext, values=True)
        candidates = set.intersection(*sorted((set(ids) for ids, _, _ in read.values()),
                                              key=len))
        if not candidates:
            return self.empty()
        where = {key: dict(zip(ids, vals, strict=True)) for key, (ids, _, vals) in read.items()}
        columns = [where[key] for key in keys]
        offsets = [offset for offset, _, _ in cover]
        docs = sorted(candidates)
        if len(columns) == 2:  # most covers: "results" and "of~operations"
            found = _pairs_held(docs, columns, _pair_at, pairs_at, offsets[1] - offsets[0])
        else:
            found = [d for d in docs if _at_offsets([column[d] for column in columns], offsets)]
        if not self.scored:
            return set(found)
        if not found:
            return {}
        scores, by_word = [], {}
        for word in words:  # in phrase order, a repeated word's scores again
            if word not in by_word:
                btext = self._btext("body", word)
                if word in common:
                    weights = list(map(self.common_weights(btext).__getitem__, found))
                else:
                    ids, all_weights, _ = read.get(("body", word)) or self.postings("body", btext)
                    weights = _Postings("body", btext, ids, all_weights).weights_of(found)
                by_word[word] = self.term_scores("body", btext, found, weights)
            scores.append(by_word[word])
        return dict(zip(found, _tree_add(scores).tolist(), strict=True))

    def near(self, q):
        """SpanNear2 over words of one field: Whoosh's span test, ported to tuples."""
        if not all(type(t) is wq.Term and t.boost == 1.0 for t in q.qs):
            raise Unsupported("SpanNear2 over other queries")
        fieldnames = {t.fieldname for t in q.qs}
        if len(fieldnames) != 1:
            raise Unsupported("SpanNear2 across fields")
        slop, ordered, mindist = q.slop, q.ordered, q.mindist

        def test(values):
            return _spans_near([position_list(v) for v in values], slop, ordered, mindist)

        words = [t.text for t in q.qs]
        # The arrays compare two different words; a word near itself ("stock stock"~5)
        # is tested one document at a time.
        at_once = pairs_near if len(set(words)) == len(words) else None
        return self.positional(fieldnames.pop(), words, test,
                               (_near_pair, at_once, slop, ordered, mindist))

    def positional(self, fieldname, words, test, pair=None):
        """Documents holding every word where `test(encoded positions of each word)`
        holds, scored as Whoosh scores its span matchers: the sum of the words' term
        scores (nested as whoosh.util.make_binary_tree nests the word matchers). `pair`,
        (function, at_once, *arguments), is the same test of two words: function(first's
        encoded positions, second's, *arguments), and at_once the same for many documents
        or None (`_pairs_held`)."""
        field = self.schema[fieldname] if fieldname in self.schema else None
        if field is None or not field.format or not field.format.supports("positions"):
            raise Unsupported("no positions")
        terms = []
        for word in words:
            btext = self._btext(fieldname, word)
            if btext is None:
                return self.empty()
            terms.append((btext, self.postings(fieldname, btext, values=True)))
        candidates = set.intersection(*sorted((set(p[0]) for _, p in terms), key=len))
        if not candidates:
            return self.empty()
        # Each word's encoded positions by document (built in C, then looked up for the
        # candidates only).
        where = [dict(zip(ids, vals, strict=True)) for _, (ids, _weights, vals) in terms]
        docs = sorted(candidates)
        if len(where) == 2 and pair is not None:
            found = _pairs_held(docs, where, *pair)
        else:
            found = [d for d in docs if test([w[d] for w in where])]
        if not self.scored:
            return set(found)
        scores = []
        for btext, (ids, weights, _) in terms:
            postings = _Postings(fieldname, btext, ids, weights)
            scores.append(self.term_scores(fieldname, btext, found, postings.weights_of(found)))
        return dict(zip(found, _tree_add(scores).tolist(), strict=True))

    def expanded(self, q):
        """A prefix or a range: every term it covers, ORed (Whoosh scores each term)."""
        fieldname = q.field()
        btexts = [b for _, b in q.expanded_terms(self.reader)]
        if not btexts:
            return self.empty()
        field = self.schema[fieldname]
        column = self.columns.get(fieldname)
        if (len(btexts) > COLUMN_SCAN_TERMS and column is not None
                and isinstance(field, fields.ID) and field.format.field_boost == 1.0):
            wanted = {field.from_bytes(b) for b in btexts}
            start = self.offset
            docs = [d for d, v in enumerate(column[start : start + self.reader.doc_count_all()])
                    if v in wanted]
            return dict.fromkeys(docs, 1.0) if self.scored else set(docs)
        return self.union([self.term(fieldname, field.from_bytes(b)) for b in btexts])


def _segment_id(reader) -> str | None:
    """The reader's segment's id: None for a reader of no segment (an empty index's)."""
    segment = reader.segment() if hasattr(reader, "segment") else None
    return segment.segment_id() if segment is not None else None


_LENGTH_OF_BYTE = np.array([byte_to_length(b) or 1 for b in range(256)], dtype=np.float64)


def field_lengths(reader, fieldname) -> np.ndarray:
    """Each document's length of `fieldname` in a segment (1 for none), as Whoosh's
    `doc_field_length(docnum, fieldname, 1) or 1` gives it: read as the segment's column
    of length bytes at once (51,615 calls took about 150 ms of a worker's first search
    at 50k documents), or one document at a time from a reader of another kind."""
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    column = None
    if isinstance(perdoc, W3PerDocReader):
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None:  # the field keeps no lengths: the default throughout
            return np.ones(count, dtype=np.float64)
    if type(column) is not NumericColumn.Reader or column._typecode != "B":
        return np.array([reader.doc_field_length(d, fieldname, 1) or 1 for d in range(count)],
                        dtype=np.float64)
    stored = min(column._count, count)  # documents past the column's end: none stored
    codes = np.zeros(count, dtype=np.uint8)
    codes[:stored] = np.frombuffer(column._dbfile.get(column._basepos, stored), np.uint8)
    return _LENGTH_OF_BYTE[codes]


class _Postings:
    """A term's postings in a segment, not scored yet."""

    def __init__(self, fieldname, btext, ids, weights):
        self.fieldname, self.btext = fieldname, btext
        self.ids, self.weights = ids, weights
        self.docs = set(ids)

    def weights_of(self, docs) -> np.ndarray:
        """The weights of these documents (a list or an array), found by binary search
        in the postings' ascending ids: each must be one of them (callers pass a subset
        of the ids), or it is given a neighbour's weight."""
        ids = np.asarray(self.ids, dtype=np.int64)
        at = np.searchsorted(ids, np.asarray(docs, dtype=np.int64))
        return np.asarray(self.weights, dtype=np.float64)[at]


def _deleted(reader) -> frozenset:
    if not reader.has_deletions():
        return frozenset()
    known = getattr(reader, "deleted_docs_set", None)  # SegmentReader's, cached
    if known is not None:
        return known
    return frozenset(d for d in range(reader.doc_count_all()) if reader.is_deleted(d))


# Fewer phrase starts than this are confirmed by binary search in a word's ascending
# positions; more, by a set of them.
_FEW_STARTS = 24


def _consecutive(values: list[bytes]) -> bool:
    """Whether the words (their encoded positions in one document) occur in order at
    consecutive positions."""
    return _at_offsets(values, range(len(values)))


def _at_offsets(values: list[bytes], offsets) -> bool:
    """Whether there is a start s where each token (its encoded positions in one
    document) is at s + its offset. Where the phrase could start comes from the token
    the document holds fewest times (shortest encoding); each other token, rarest first,
    then confirms starts: only the few starts are shifted, never a common word's many
    positions, and a few starts are looked up in its sorted positions without hashing
    them all. Two tokens (most phrases, and most covers) are `_pair_at`."""
    if len(values) == 2:
        return _pair_at(values[0], values[1], offsets[1] - offsets[0])
    order = sorted(range(len(values)), key=lambda k: len(values[k]))
    first = order[0]
    starts = [p - offsets[first] for p in position_list(values[first])]
    for k in order[1:]:
        positions = position_list(values[k])
        offset = offsets[k]
        if len(starts) < _FEW_STARTS:
            end = len(positions)
            kept = []
            for s in starts:
                i = bisect_left(positions, s + offset)
                if i < end and positions[i] == s + offset:
                    kept.append(s)
            starts = kept
        else:
            present = set(positions)
            starts = [s for s in starts if s + offset in present]
        if not starts:
            return False
    return bool(starts)


def _pairs_held(docs: list[int], where: list[dict], test, at_once, *arguments) -> list[int]:
    """The docs for which test(first word's encoded positions, second's, *arguments)
    holds: decided for every doc at once by at_once(first words' positions, second
    words', *arguments) (`whoosh_positions.pairs_at`, `pairs_near`), or, where that is
    None or answers None (an older index's positions, say), one doc at a time."""
    first, second = (list(map(w.__getitem__, docs)) for w in where)
    held = at_once(first, second, *arguments) if at_once is not None else None
    if held is not None:
        return list(map(docs.__getitem__, held))
    return list(compress(docs, map(test, first, second, *map(repeat, arguments))))


def _near_pair(first: bytes, second: bytes, slop: int, ordered: bool, mindist: int) -> bool:
    """Whether two words (their encoded positions) are near, as `spans_near` decides."""
    return _pair_near(position_list(first), position_list(second), slop, ordered, mindist)


def _pair_at(first: bytes, second: bytes, shift: int) -> bool:
    """Whether a position of the first token (encoded) plus `shift` is one of the
    second's: a set of the shorter list, probed by the other's positions shifted, all in
    C and stopping at the first found (half the time of `_at_offsets`' general way in
    `"results of operations"` at 50k documents, 9,435 candidates)."""
    if len(first) > len(second):
        first, second, shift = second, first, -shift
    held = set(position_list(first))
    return not held.isdisjoint(map((-shift).__add__, position_list(second)))


def _tree_add(columns: list[np.ndarray]) -> np.ndarray:
    """Element-wise sums, nested as whoosh.util.make_binary_tree nests the matchers of a
    phrase's words (so that the floats come out the same)."""
    if len(columns) == 1:
        return columns[0]
    half = len(columns) // 2
    return _tree_add(columns[:half]) + _tree_add(columns[half:])
