"""The PostgreSQL engine: the index lives in the application database, next to the filings,
and is written in the transaction that stores them (`transactional`).

Three tables, made by the `search` app's migrations (on PostgreSQL only):

- `search_entry`: one row per index entry (`search.index.entries_for`): the filing's
  metadata as columns and arrays (filters, facets, sorting, display), and `words`, a
  `tsvector` of every word of the text as `search.index.words` finds them (never
  PostgreSQL's text parser, which splits `10-K` and `EX-10.1` its own way). Its
  positions are not places in the text: a word holds positions 1..min(tf, TF_CAP), so
  `ts_rank` gives back its frequency for BM25. `company` holds the names' words;
  `facets` (generated from the columns) their facet values as "name:value" text.
- `search_tf`: the `words` frequencies again, split by a hash of the word into BUCKETS
  small vectors per entry: ranking a word reads its bucket, a sixty-fourth of the entry's
  vocabulary, not the whole `words` vector (which cost most of a common word's search).
  One partition per bucket (migration 0008): a word's rows lie together. A bucket is
  small enough to be stored inline and uncompressed (migration 0013 went from 16 buckets
  to 64: a lookup no longer decompresses kilobytes); entries written before it keep their
  16 rows, read as before, until `rebuild_index`.
- `search_chunk`: the same words with their real positions, a window of the text at a
  time. A `tsvector` keeps at most 16,383 positions and 256 per word, so one vector per
  document would lose phrase matches in long filings; each chunk stays within both
  limits and overlaps the next by OVERLAP words, so a phrase of up to `span` words (the
  entry's smallest overlap) lies whole in some chunk, where `<->` decides it exactly.
  Longer phrases, and proximity of three or more words, are decided in Python from the
  chunks' positions, which are complete. Where the server offers the RUM extension,
  migration 0010 indexes the chunks with it: RUM keeps the positions, so the chunks
  holding a phrase come from the index at once, not from testing each candidate's
  chunks: the same entries, in a fifth of the time for a proximity search at 50k
  documents. Optional: never required. The body's chunks also hold its common grams
  (`search.index.common_grams`, "of~operations" at the position of "of"), so a phrase
  through a common word is asked as `'results' <-> 'of~operations'`, which reads short
  position lists, not those of "of" in nearly every chunk; `search_entry.grams` says
  with which set of common words an entry was written (migration 0011).

Reading: the query's AST and the filters become one SQL condition; ranking (BM25 over
the `words` frequencies; for a phrase's or a proximity's matches found in the RUM index,
a common word's are those the process keeps, `_KeptFrequencies`), totals, grouping by
filing and paging are one SQL statement (or, for a first page by relevance, a few that
score only the entries where a searched word is dense, when those settle it:
`_tiered_page`), and the facets are counted meanwhile by a second statement on the process's helper
connection, in the same snapshot (`_Helper`; in the first statement when the helper is
busy), waited for only when the caller first reads them (after cutting the page's
snippets); a page's fields are a third. Snippets stay the product's own (`search.results`).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import threading
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from search.backends.base import (
    FACET_SIZE,
    SNIPPETS_PER_FILING,
    YEAR_FACET_SIZE,
    ResultPage,
    SearchBackend,
    company_ciks,
    facet_names,
    ticker_ciks,
)
from search.index import COMMON_WORDS, common_grams, entries_for, phrase_cover, words
from search.positions import spans_near
from search.query import Clause, ParsedQuery
from search.results import Group, Hit

MAX_POSITIONS = 16383  # positions a tsvector holds (PostgreSQL's MAXENTRYPOS - 1)
MAX_OCCURRENCES = 256  # positions a tsvector keeps per word (MAXNUMPOS)
CHUNK_BYTES = 500_000  # well under a tsvector's 1 MB
OVERLAP = 512  # words shared by neighbouring chunks: the longest phrase they decide
WORDS_BYTES = 900_000  # an entry's `words` vector past this: decided from its chunks
TF_CAP = 32  # frequencies past this add little to BM25 and only cost bytes to read
# `search_tiers(words, length)` lists a word held twice or more with its density's tier
# (migration 0014): `word^j` for a frequency (capped) of at least 2^-j times the entry's
# length, j <= 10. Ranking tries these levels in turn, the densest first.
TIERS = (8, 10)
TIERED = True  # rank common words by tiers (False: score every match, as before)
BROAD = 0.5  # a word in more than this share of the entries never narrows a ranking
MAX_TIERED = 200  # results up to the end of a page ranked by tiers; deeper: every match
BUCKETS = 64  # search_tf rows per entry
FIRST_BUCKET = 16  # their `bucket` values: 16..79 (migration 0013)
OLD_BUCKETS = 16  # 0..15: the buckets of entries written before migration 0013
CONFIRM_BATCH = 200  # candidates whose positions are read at once to confirm a clause
LONG_WORD = 400  # bytes: a longer word is stored as a surrogate (tsvector words < 2 KB)
EVERY_SPAN = 2**31 - 1  # an entry in one chunk decides phrases of any length
RUM_INDEX = "search_chunk_rum"  # optional (migration 0010): phrases found in the index
TIERS_INDEX = "search_entry_tiers"  # migration 0014: ranking by tiers reads it


def _usable(index: str) -> str:
    """SQL: whether the index is there and usable (not left invalid by an interrupted
    build)."""
    return ("EXISTS (SELECT 1 FROM pg_index WHERE indisvalid AND "
            f"indexrelid = to_regclass('{index}'))")


RUM_READY, TIERS_READY = _usable(RUM_INDEX), _usable(TIERS_INDEX)
# An entry's `grams` when its body chunks hold the common grams of this version's
# COMMON_WORDS: phrases are asked through grams only when every entry's is this.
GRAMS = hashlib.sha1(" ".join(sorted(COMMON_WORDS)).encode()).hexdigest()[:12]
# Whether they all are (NULL for no entries): the least and the greatest, from its index.
GRAMS_READY = (f"(SELECT min(grams) = '{GRAMS}' AND max(grams) = '{GRAMS}' "
               "FROM search_entry)")
K1, B = 1.2, 0.75  # BM25, as Whoosh's BM25F defaults
ZETA2 = math.pi**2 / 6
_POSITIONS = [""] + [""] + [":" + ",".join(map(str, range(1, k + 1))) for k in range(2, 65)]


# --- Analysis: the product's words as tsvector text ----------------------------------------


def lexeme(word: str) -> str:
    """The word as stored: itself, or for a word too long for a tsvector, its start and a
    digest (never a real word: '#' is not a word character), the same in queries."""
    if len(word) * 4 <= LONG_WORD or len(word.encode()) <= LONG_WORD:
        return word
    head = word.encode()[:200].decode("utf-8", "ignore")
    return f"{head}#{hashlib.sha1(word.encode()).hexdigest()[:16]}"


def analyse(text: str) -> list[str]:
    tokens = words(text)
    if tokens and max(map(len, tokens)) * 4 > LONG_WORD:
        tokens = [lexeme(t) for t in tokens]
    return tokens


def quoted(word: str) -> str:
    """A word as a tsvector or tsquery item. Words are `\\w` characters and dots, so
    quoting them needs no escapes."""
    return f"'{lexeme(word)}'"


def bucket(word: str) -> int:
    """The `search_tf` bucket of a word as stored (`lexeme`)."""
    return FIRST_BUCKET + zlib.crc32(word.encode()) % BUCKETS


def old_bucket(word: str) -> int:
    """Its bucket in an entry written before migration 0013 (16 buckets, 0..15)."""
    return zlib.crc32(word.encode()) % OLD_BUCKETS


def frequency_vector(tokens: list[str]) -> str | None:
    """The `words` vector: every word with positions 1..min(tf, TF_CAP) (none for a word
    seen once); None when it would not fit in WORDS_BYTES."""
    vectors = frequency_vectors(tokens)
    return None if vectors is None else vectors[0]


def frequency_vectors(tokens: list[str]) -> tuple[str, list[str]] | None:
    """(the `words` vector, its words split into BUCKETS vectors by `bucket`), or None
    when the vector would not fit in WORDS_BYTES."""
    counts = Counter(tokens)
    parts = []
    buckets: list[list[str]] = [[] for _ in range(BUCKETS)]
    size = 0  # a tsvector's bytes: an entry, the word, its positions (characters count 4)
    for word, n in counts.items():
        k = min(n, TF_CAP)
        size += 4 * len(word) + 8 + (2 * k if k > 1 else 0)
        part = f"'{word}'{_POSITIONS[k]}"
        parts.append(part)
        buckets[bucket(word) - FIRST_BUCKET].append(part)
    if size > WORDS_BYTES:
        exact = sum(len(w.encode()) + 8 + (2 * min(n, TF_CAP) if n > 1 else 0)
                    for w, n in counts.items())
        if exact > WORDS_BYTES:
            return None
    return " ".join(parts), [" ".join(b) for b in buckets]


def chunk_vectors(tokens: list[str],
                  grams: Iterable[tuple[int, str]] = ()) -> tuple[list[tuple[int, str]], int]:
    """([(start, vector text)], span): the words with their positions, a window at a time,
    each within a tsvector's limits; neighbouring windows share up to OVERLAP words and
    `span` is the fewest shared (EVERY_SPAN for one window). `grams`, (position, gram)
    pairs (`search.index.common_grams`), go in with the word at their position."""
    gram_at = dict(grams)
    chunks = []
    span = EVERY_SPAN
    start, count = 0, len(tokens)
    while start < count:
        positions: dict[str, list[int]] = {}
        size = 0
        end = start
        limit = min(count, start + MAX_POSITIONS)
        while end < limit:
            word = tokens[end]
            where = positions.get(word)
            if where is not None and len(where) == MAX_OCCURRENCES:
                break
            grown = size + 2 + (len(word) * 4 + 8 if where is None else 0)
            gram = gram_at.get(end) if gram_at else None
            if gram is not None:  # never equal to a word: it holds GRAM_SEPARATOR
                at = positions.get(gram)
                if at is not None and len(at) == MAX_OCCURRENCES:
                    break
                grown += 2 + (len(gram) * 4 + 8 if at is None else 0)
            if grown > CHUNK_BYTES:
                break
            size = grown
            position = end - start + 1
            if where is None:
                positions[word] = [position]
            else:
                where.append(position)
            if gram is not None:
                if at is None:
                    positions[gram] = [position]
                else:
                    at.append(position)
            end += 1
        chunks.append((start, " ".join(
            f"'{w}':{','.join(map(str, p))}" for w, p in positions.items()
        )))
        if end >= count:
            break
        # Half of a window always moves on (a window holds at least one word).
        overlap = min(OVERLAP, (end - start) // 2)
        span = min(span, overlap)
        start = end - overlap
    return chunks, span


# --- Writing -------------------------------------------------------------------------------

_INSERT_ENTRY = """
INSERT INTO search_entry (
    accession, sequence, document_id, form, doc_type, filename, description, filed, year,
    period, cik, sic, state_inc, state_loc, item, file_number, parties, company_names,
    length, words, company, complete, span, ingested, grams
) VALUES (
    %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::text[], %s::text[], %s::text[], %s::text[],
    %s::text[], %s, %s::jsonb, %s, %s, %s::tsvector, %s::tsvector, %s, %s, %s, %s
) RETURNING id
"""
_INSERT_TF = (
    f"INSERT INTO search_tf (entry_id, bucket, words) SELECT %s, {FIRST_BUCKET} + n - 1, "
    "v::tsvector FROM unnest(%s::text[]) WITH ORDINALITY AS u(v, n)"
)
_INSERT_CHUNK = (
    "INSERT INTO search_chunk (entry_id, field, start, words) VALUES (%s, %s, %s, %s::tsvector)"
)


def _write(cursor, entry: dict) -> int:
    """Insert one entry and its chunks; returns the bytes of text indexed."""
    body = analyse(entry["body"])
    names = analyse(entry["company"])
    body_vectors = frequency_vectors(body)
    name_vector = frequency_vector(names)
    complete = body_vectors is not None and name_vector is not None
    body_vector = body_vectors[0] if complete else None
    body_chunks, body_span = chunk_vectors(body, common_grams(body))
    name_chunks, name_span = chunk_vectors(names)
    # Sectioned words ("1a:risk", search.index.section_words): their own vector, and
    # chunks of field "s", decided like the body's.
    sectioned = [lexeme(t) for t in entry.get("section_body", "").split()]
    section_vector = frequency_vector(sectioned) if sectioned else ""
    section_chunks, section_span = chunk_vectors(sectioned)
    complete = complete and section_vector is not None
    cursor.execute(_INSERT_ENTRY, [
        entry["accession"], entry["sequence"], entry["pk"], entry["form"], entry["doc_type"],
        entry["filename"] or "", entry["description"] or "", entry["filed"], entry["year"],
        entry["period"], entry["cik"].split(), entry["sic"].split(),
        entry["state_inc"].split(), entry["state_loc"].split(), entry["item"].split(),
        entry["file_number"], json.dumps(entry["parties"]), entry["company"], len(body),
        body_vector if complete else "", name_vector if complete else "", complete,
        min(body_span, name_span, section_span), entry["ingested"], GRAMS,
    ])
    entry_id = cursor.fetchone()[0]
    if complete:
        cursor.execute(_INSERT_TF, [entry_id, body_vectors[1]])
    rows = [(entry_id, "b", start, text) for start, text in body_chunks]
    rows += [(entry_id, "c", start, text) for start, text in name_chunks]
    rows += [(entry_id, "s", start, text) for start, text in section_chunks]
    if entry.get("section"):
        cursor.execute("UPDATE search_entry SET section = %s::text[], section_words = "
                       "%s::tsvector WHERE id = %s",
                       [entry["section"].split(), section_vector if complete else "", entry_id])
    if rows:
        cursor.executemany(_INSERT_CHUNK, rows)
    return len(entry["body"].encode("utf-8"))


# --- Reading: the AST and the filters as SQL -----------------------------------------------

# A part of a statement: SQL text with %s placeholders, and their values in order.
Part = tuple[str, list]


def _all(parts: list[Part], glue: str, empty: str) -> Part:
    parts = [p for p in parts if p is not None]
    if not parts:
        return empty, []
    if len(parts) == 1:
        return parts[0]
    return "(" + glue.join(p[0] for p in parts) + ")", [v for p in parts for v in p[1]]


def _rank(vector: str) -> str:
    """`ts_rank` of a word (the tsquery, a parameter) in `vector`, with unit weights:
    what `_tf` turns back into the word's frequency."""
    return f"ts_rank('{{1,1,1,1}}', {vector}, %s::tsquery, 0)"


def _tf(rank: str) -> str:
    """A word's frequency back from `ts_rank` with unit weights over its positions
    1..k: tsrank.c's calc_rank_or gives H(k)/ζ(2), H(k) = Σ 1/j² ≈ ζ(2) - 1/(k + ½).
    A prefix sums several words: capped."""
    return (f"least({TF_CAP}, greatest(0, round(1 / ({ZETA2!r}::float8 * "
            f"(1 - least({rank}, 0.9999::float8))) - 0.5)))")


class _Translation:
    """One search's SQL: the condition on `search_entry e`, and its BM25 score."""

    def __init__(self, cursor, parsed: ParsedQuery, filters, messages: list[str],
                 like: _Translation | None = None):
        self.cursor = cursor
        self.parsed = parsed
        self.filters = filters
        self.messages = messages
        if like is not None:
            # The same query under other filters, in the same snapshot: what does not
            # depend on the filters is read once (a phrase's RUM lookup: up to 200 ms).
            self.incomplete, self.rum, self.grams = like.incomplete, like.rum, like.grams
            self.tiered = like.tiered
            self.found = like.found
        else:
            # Entries whose `words` vector did not fit: their words are tested in the
            # chunks. Whether the chunks have a RUM index (migration 0010) to find
            # phrases with. Whether every entry's body chunks hold this version's
            # common grams. And whether the tiers' index is there to rank with.
            cursor.execute("SELECT EXISTS (SELECT 1 FROM search_entry WHERE NOT complete), "
                           f"{RUM_READY}, {GRAMS_READY}, {TIERS_READY}")
            self.incomplete, self.rum, self.grams, self.tiered = cursor.fetchone()
            self.found: dict[tuple[str, str], set[int]] = {}  # RUM lookups, by tsquery
        # The entries each phrase or proximity of the body holds in, as found in the RUM
        # index (`_positional`; not those of one excluded): ids in order, and as the
        # literal sent in the condition.
        self.listed: list[tuple[list[int], str]] = []
        self.excluding = False
        self.filter = self._filters()
        self.condition = _all([self.filter, self._query()], " AND ", "TRUE")
        self.scored: tuple[Part, str, Part] | None = None
        self.weights: list[tuple[str, float, int]] = []  # (term, idf, df), once scored
        self.collection = (0, 1.0)  # (entries, average length), once scored

    # --- The words ----------------------------------------------------------------------

    def _query(self) -> Part | None:
        parsed = self.parsed
        if parsed.is_empty:
            return None
        groups = [_all([self._clause(c) for c in g], " OR ", "FALSE") for g in parsed.groups]
        self.excluding = True  # an excluded phrase's entries are not the ones ranked
        excluded = [self._clause(c) for c in parsed.excluded]
        self.excluding = False
        parts = groups + [(f"NOT ({sql})", params) for sql, params in excluded]
        return _all(parts, " AND ", "TRUE")

    def _clause(self, c: Clause) -> Part:
        if c.field == "form":
            value = " ".join(c.words).upper()
            if c.kind == "prefix":
                return "starts_with(e.form, %s)", [value]
            return "e.form = %s", [value]
        if c.field == "type":
            return _doc_type(" ".join(c.words))
        if c.field == "cik":
            return "e.cik @> ARRAY[%s]::text[]", [c.words[0]]
        if c.field == "ticker":
            ciks = ticker_ciks(c.words[0])
            return ("e.cik && %s::text[]", [ciks]) if ciks else ("FALSE", [])
        if c.field == "file":  # as Whoosh's KEYWORD field: words, lower-cased
            return f"{FILE_NUMBERS} @> ARRAY[%s]::text[]", [c.words[0].lower()]
        if c.field == "section":
            return "e.section @> ARRAY[%s]::text[]", [c.words[0]]
        return self._text(c)

    def _text(self, c: Clause) -> Part:
        """A clause over the body or the company names: decided on the entry's vector,
        or on its chunks for an incomplete entry."""
        if c.section:
            c = c.in_section()
        vector, field = {"body": ("e.words", "b"), "company": ("e.company", "c"),
                         "section_body": ("e.section_words", "s")}[c.field]
        if c.kind in ("word", "prefix"):
            query = quoted(c.words[0]) + (":*" if c.kind == "prefix" else "")
            fast = (f"{vector} @@ %s::tsquery", [query])
            slow = _in_chunks(field, query)
        else:
            every = " & ".join(quoted(w) for w in dict.fromkeys(c.words))
            where = self._positional(c, field, vector, every)
            if self.rum:
                # Exact alone, found from the index; testing the words too would make
                # PostgreSQL decompress each match's whole vector.
                return where
            fast = _all([(f"{vector} @@ %s::tsquery", [every]), where], " AND ", "TRUE")
            slow = _all([*(_in_chunks(field, quoted(w)) for w in dict.fromkeys(c.words)),
                         where], " AND ", "TRUE")
        if not self.incomplete:
            return fast
        return _all([_all([("e.complete", []), fast], " AND ", ""),
                     _all([("NOT e.complete", []), slow], " AND ", "")], " OR ", "")

    def _positional(self, c: Clause, field: str, vector: str, every: str) -> Part:
        """Where the clause's words stand as it asks: in some chunk, by tsquery (entries
        whose chunks overlap enough), or as confirmed in Python from the positions."""
        if c.kind == "phrase":
            needed = len(c.words)
            query = self._phrase(c.words, field)
        elif len(c.words) == 2:
            needed = c.slop + 1
            a, b = (quoted(w) for w in c.words)
            pairs = [(a, b)] if a == b else [(a, b), (b, a)]
            # Both words first: the index then reads only the chunks holding both,
            # where the alternatives alone had it test every chunk holding either
            # ("stock option"~5 at 50k documents: 149 -> 97 ms, the same chunks).
            query = f"{every} & (" + " | ".join(
                f"({x} <{k}> {y})" for k in range(1, c.slop + 1) for x, y in pairs) + ")"
        else:
            needed, query = None, None  # chained spans: Python decides every candidate
        confirmed = self._confirmed(c, field, vector, every, needed)
        if query is not None and self.rum:
            # The entries with a chunk that holds it, from the RUM index (which keeps the
            # positions), read once: a chunk that holds it decides it, whatever the
            # entry's span. A list of ids, not a subquery: PostgreSQL then knows how many
            # and reads only those entries.
            if (field, query) not in self.found:
                self.cursor.execute("SELECT DISTINCT c.entry_id FROM search_chunk c WHERE "
                                    "c.field = %s AND c.words @@ %s::tsquery", [field, query])
                self.found[field, query] = {row[0] for row in self.cursor.fetchall()}
            found = sorted(self.found[field, query].union(confirmed))
            literal = _id_array(found)
            if field == "b" and not self.excluding:
                self.listed.append((found, literal))
            return "e.id = ANY(%s::bigint[])", [literal]
        parts = []
        if query is not None:
            # Per candidate, its own chunks, first match wins (OFFSET 0 keeps PostgreSQL
            # from turning this into a join that tests every chunk of every entry).
            parts.append((
                "(e.span >= %s AND EXISTS (SELECT 1 FROM search_chunk c WHERE "
                "c.entry_id = e.id AND c.field = %s AND c.words @@ %s::tsquery OFFSET 0))",
                [needed, field, query],
            ))
        if confirmed:
            parts.append(("e.id = ANY(%s::bigint[])", [_id_array(confirmed)]))
        return _all(parts, " OR ", "FALSE")

    def _phrase(self, phrase: list[str], field: str) -> str:
        """The tsquery of a phrase in the chunks: its words at consecutive positions or,
        through a common word in the body when the chunks hold the grams, its cover
        (`search.index.phrase_cover`), each token at its offset: the same chunks."""
        tokens = [lexeme(w) for w in phrase]
        cover = phrase_cover(tokens) if field == "b" and self.grams else []
        if not any(is_gram for _, _, is_gram in cover):
            return " <-> ".join(f"'{t}'" for t in tokens)
        query, last = [], 0
        for offset, token, _ in cover:
            query.append(f"<{offset - last}> '{token}'" if query else f"'{token}'")
            last = offset
        return " ".join(query)

    def _confirmed(self, c, field, vector, every, needed) -> list[int]:
        """The candidates (every word present, and overlapping too little for the
        tsquery test when there is one) where the positions show the clause holds."""
        conditions = [self.filter, (f"{vector} @@ %s::tsquery", [every])]
        if self.incomplete:
            conditions[1] = _all([
                ("e.complete", []), conditions[1]], " AND ", "")
            slow = _all([("NOT e.complete", []),
                         *(_in_chunks(field, quoted(w)) for w in dict.fromkeys(c.words))],
                        " AND ", "")
            conditions[1] = _all([conditions[1], slow], " OR ", "")
        if needed is not None:
            conditions.append(("e.span < %s", [needed]))
        sql, params = _all(conditions, " AND ", "TRUE")
        self.cursor.execute(f"SELECT e.id FROM search_entry e WHERE {sql}", params)
        candidates = [row[0] for row in self.cursor.fetchall()]
        found = []
        # A batch of candidates' positions at a time: memory stays bounded, and a search
        # too broad to decide (search.positions.budget) stops after one batch's reading.
        for start in range(0, len(candidates), CONFIRM_BATCH):
            batch = candidates[start : start + CONFIRM_BATCH]
            positions = _positions(self.cursor, batch, field, [lexeme(w) for w in c.words])
            for entry_id in batch:
                where = positions.get(entry_id, {})
                lists = [where.get(lexeme(w), []) for w in c.words]
                if not all(lists):
                    continue
                if c.kind == "phrase":
                    holds = _consecutive(lists)
                else:
                    holds = spans_near(lists, c.slop, False, 1)
                if holds:
                    found.append(entry_id)
        return found

    # --- The filters --------------------------------------------------------------------

    def _filters(self) -> Part | None:
        req = self.filters
        parts = []
        forms, excluded_forms = req.form_filter()
        if forms is not None:
            parts.append(("e.form = ANY(%s::text[])", [_storable(forms)]))
        if excluded_forms:
            parts.append(("NOT (e.form = ANY(%s::text[]))", [_storable(excluded_forms)]))
        if req.doc_types:
            parts.append(_all([_doc_type(d) for d in _storable(req.doc_types)], " OR ", "FALSE"))
        if req.company:
            ciks = company_ciks(req.company, self.messages)
            parts.append(("e.cik && %s::text[]", [ciks]) if ciks else ("FALSE", []))
        if req.filed_from or req.filed_to:
            # As Whoosh's range over the field: an entry without a date is in no range.
            parts.append(("e.filed <> ''", []))
            if req.filed_from:
                parts.append(("e.filed >= %s", [req.filed_from.isoformat()]))
            if req.filed_to:
                parts.append(("e.filed <= %s", [req.filed_to.isoformat()]))
        if req.ingested_after or req.ingested_to:
            # As Whoosh's range: exclusive after, inclusive to; an entry without a time
            # (none is written so; the column's default) is in no range.
            parts.append(("e.ingested <> ''", []))
            if req.ingested_after:
                parts.append(("e.ingested > %s", [req.ingested_after]))
            if req.ingested_to:
                parts.append(("e.ingested <= %s", [req.ingested_to]))
        if req.years:
            parts.append(("e.year = ANY(%s::text[])", [_storable(req.years)]))
        for column, values in (("cik", req.ciks), ("sic", req.sic), ("state_inc", req.state_inc),
                               ("state_loc", req.state_loc), ("item", req.items),
                               ("section", req.sections)):
            if values:
                parts.append((f"e.{column} && %s::text[]", [_storable(values)]))
        if req.file_numbers:
            parts.append((f"{FILE_NUMBERS} && %s::text[]",
                          [_storable([v.lower() for v in req.file_numbers])]))
        return _all(parts, " AND ", "TRUE") if parts else None

    # --- Ranking ------------------------------------------------------------------------

    def score(self) -> tuple[Part, str, Part]:
        """BM25 over the positive body words (a phrase's and a proximity's words each
        count, a prefix counts as one word), from the `words` frequencies: (the words'
        frequencies as columns t0, t1... of an entry `e`, the score over them, and a join
        to put after `search_entry e`: the frequencies this process keeps for the
        entries already found, `_kept`). Read once a search."""
        if self.scored is None:
            self.scored = self._score()
        return self.scored

    def _score(self) -> tuple[Part, str, Part]:
        terms = []
        for group in self.parsed.groups:
            for c in group:
                if c.field != "body":
                    continue
                if c.kind == "prefix":
                    terms.append(quoted(c.words[0]) + ":*")
                else:
                    terms.extend(quoted(w) for w in c.words)
        terms = list(dict.fromkeys(terms))
        if not terms:
            return ("", []), "0", ("", [])
        total, average = _statistics(self.cursor)
        frequencies = _frequencies(self.cursor, terms)
        self.collection = (total, max(average, 1.0))
        # Every constant typed float8: an untyped one with a decimal point is `numeric`,
        # and `numeric` arithmetic on each match's length cost about 1 µs a match per
        # word (a common word at 50k documents: 13,690 matches).
        norm = (f"({K1!r}::float8 * ({1 - B!r}::float8 + {B!r}::float8 * length / "
                f"{self.collection[1]!r}::float8))")
        columns, score, params = [], [], []
        # The entries a phrase or a proximity found (`_positional`): they hold its words,
        # and a common word's frequencies in them may be kept by this process.
        if len(self.listed) == 1:
            found, literal = np.array(self.listed[0][0], np.int64), self.listed[0][1]
        else:
            found = np.unique(np.fromiter(
                itertools.chain.from_iterable(ids for ids, _ in self.listed), np.int64))
            literal = _id_array(found.tolist())
        # An entry without `search_tf` rows is ranked from its whole vector, read by id:
        # naming `e.words` would make every match's row be read from the table, where
        # the columns a ranking needs (id, accession, length) are all in a covering index
        # (`search_entry_form`), which a phrase's matches, listed by id, are then read
        # from alone ("results of operations" at 50k documents: 38 -> 28 ms).
        stored = f"(SELECT {_rank('x.words')} FROM search_entry x WHERE x.id = e.id)"
        kept = []
        for n, (term, df) in enumerate(zip(terms, frequencies, strict=True)):
            idf = math.log(total / (df + 1)) + 1 if total else 1.0
            self.weights.append((term, idf, df))
            if term.endswith(":*"):  # a prefix: its words lie in every bucket
                tf = _tf(_rank("e.words"))
                params.append(term)
            else:
                # The word's bucket; in an entry written before migration 0013, its old
                # bucket; an entry without search_tf rows (written before the table
                # existed) is ranked from its whole vector. All give the same figure.
                lookup = (f"(SELECT {_rank('t.words')} FROM search_tf t "
                          "WHERE t.entry_id = e.id AND t.bucket = %s)")
                tf = _tf(f"coalesce({lookup}, {lookup}, {stored})")
                word = term[1:-1]
                params += [term, bucket(word), term, old_bucket(word), term]
                known = (_kept.frequencies(self.cursor, word, found, df, total)
                         if self.listed else None)
                if known is not None:  # -1: not kept, looked up as above
                    kept.append((n, known))
                    tf = f"coalesce(nullif(k.t{n}, -1)::float8, {tf})"
            columns.append(f"{tf} AS t{n}")
            score.append(f"{idf!r}::float8 * t{n} * {K1 + 1!r}::float8 / (t{n} + {norm})")
        join: Part = ("", [])
        if kept:
            # One row per entry found, its kept frequencies beside: hashed and joined once,
            # not looked up per match.
            join = ("LEFT JOIN unnest(%s::bigint[], " + ", ".join(["%s::int2[]"] * len(kept))
                    + ") AS k(id, " + ", ".join(f"t{n}" for n, _ in kept) + ") ON k.id = e.id",
                    [literal, *(_int_array(values) for _, values in kept)])
        return (", " + ", ".join(columns), params), " + ".join(score), join

    def tier(self, level: int) -> tuple[str, float] | None:
        """For ranking by tiers (`PostgresBackend._tiered_page`): (a
        tsquery of `search_tiers` that finds the entries where some scored word's
        density, its frequency (capped) over the entry's length, is at least 2^-level;
        the highest score any other matching entry can have). None when no word can
        narrow the search (a prefix's words, or a word in most entries, which narrows
        little: each counts at BM25's most, k1 + 1 times its idf).

        BM25 of a word of frequency t in an entry of length L, average length A, is
        (k1 + 1) / (1 + k1(1 - b)/t + k1 b / (A d)) with d = t/L: below the density
        D = 2^-level and with t <= TF_CAP it is below (k1 + 1) / (1 + k1(1 - b)/TF_CAP +
        k1 b / (A D)); a word held once is not in the tiers, and scores at most
        (k1 + 1) / (1 + k1(1 - b) + k1 b / A)."""
        self.score()  # the words' weights
        if not (self.weights and self.tiered):
            return None
        total, average = self.collection
        density = 2.0 ** -level
        held = (K1 + 1) / (1 + K1 * (1 - B) / TF_CAP + K1 * B / (average * density))
        once = (K1 + 1) / (1 + K1 * (1 - B) + K1 * B / average)
        lexemes, bound = [], 0.0
        for term, idf, df in self.weights:
            if term.endswith(":*") or df > BROAD * total:
                bound += idf * (K1 + 1)
                continue
            word = term[1:-1]
            lexemes += [f"'{word}^{j}'" for j in range(level + 1)]
            bound += idf * max(held, once)
        if not lexemes:
            return None
        return " | ".join(lexemes), bound * (1 + 1e-9)  # above the float8 sums' rounding


# An entry's file numbers as Whoosh's KEYWORD field reads them: split on spaces,
# lower-cased (search/migrations/0006_entry_file_numbers.py indexes this expression).
FILE_NUMBERS = "string_to_array(lower(e.file_number), ' ')"


def _storable(values) -> list[str]:
    """Filter values PostgreSQL can take: text never holds NUL, so a value with one
    matches nothing (as on Whoosh) and is left out."""
    return [v for v in values if "\x00" not in v]


def _doc_type(value: str) -> Part:
    """`EX-10` matches EX-10 and EX-10.1, EX-10.2...; never EX-100."""
    value = value.strip().upper()
    return "(e.doc_type = %s OR starts_with(e.doc_type, %s))", [value, value + "."]


def _in_chunks(field: str, query: str) -> Part:
    return ("EXISTS (SELECT 1 FROM search_chunk c WHERE c.entry_id = e.id AND c.field = %s "
            "AND c.words @@ %s::tsquery OFFSET 0)", [field, query])


def _positions(cursor, entries: list[int], field: str, lexemes: list[str]) -> dict:
    """{entry: {word: ascending positions in the whole text}} from the chunks (which
    repeat the words they share: each position is kept once)."""
    cursor.execute(
        "SELECT c.entry_id, c.start, u.lexeme, u.positions FROM search_chunk c, "
        "unnest(c.words) u WHERE c.entry_id = ANY(%s::bigint[]) AND c.field = %s "
        "AND u.lexeme = ANY(%s::text[])", [_id_array(entries), field, list(set(lexemes))])
    found: dict[int, dict[str, set]] = {}
    for entry_id, start, word, positions in cursor.fetchall():
        found.setdefault(entry_id, {}).setdefault(word, set()).update(
            start + p - 1 for p in positions
        )
    return {e: {w: sorted(p) for w, p in ws.items()} for e, ws in found.items()}


def _id_array(ids: Iterable[int]) -> str:
    """Entry ids as a PostgreSQL array literal, for a `%s::bigint[]` parameter. A list
    is bound one element at a time in Python each time a statement is sent (8.8 ms
    for a phrase's 9,250 matches, sent to the page's statement and to the facets'),
    the literal in one join (0.9 ms). Each id goes through `int`: nothing else can
    reach the statement."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


# Each frequency, or -1, as the text of an array element: two characters and a comma
# (whitespace around an element is allowed).
_FREQUENCY_TEXT = np.array([list(f"{v:>2},".encode()) for v in range(-1, TF_CAP + 1)],
                           np.uint8)


def _int_array(values: np.ndarray) -> str:
    """Frequencies (or -1) as a PostgreSQL array literal (`_id_array`'s reason), made
    from a table in one step rather than a string per element (9,250 values: 2.4 ms
    joined, 0.25 so)."""
    if not len(values):
        return "{}"
    return "{" + _FREQUENCY_TEXT[np.asarray(values) + 1].tobytes()[:-1].decode() + "}"


def _consecutive(lists: list[list[int]]) -> bool:
    """Whether the words occur in order at consecutive positions."""
    starts = set(lists[0])
    for offset, positions in enumerate(lists[1:], 1):
        starts &= {p - offset for p in positions}
        if not starts:
            return False
    return bool(starts)


_stats: tuple[float, int, float] | None = None
STATISTICS_SECONDS = 60  # how long a process reuses the collection's figures for BM25
_frequency_cache: dict[str, int] = {}
_frequency_newest = 0  # the newest entry's id when the cache was filled
FREQUENCIES_KEPT = 10_000  # words whose document frequency a process remembers


def _statistics(cursor) -> tuple[int, float]:
    """(entries, average body length): BM25's collection figures, read at most once a
    minute (they move slowly, and reading them scans the table)."""
    global _stats
    now = time.monotonic()
    if _stats is None or now - _stats[0] > STATISTICS_SECONDS:
        cursor.execute("SELECT count(*), coalesce(avg(length), 0) FROM search_entry")
        total, average = cursor.fetchone()
        _stats = (now, int(total), float(average))
        _frequency_cache.clear()
    return _stats[1], _stats[2]


def _frequencies(cursor, terms: list[str]) -> list[int]:
    """Each term's document frequency (BM25's idf), remembered while no entry is written
    (entries only ever get new, higher ids; a removal alone moves a figure by what it
    removed) and for at most as long as `_statistics` keeps the collection's size:
    counting a common word's matches cost a tenth of its search at 50k documents. The
    same look at the table tells `_kept` which table it is (another forgets all)."""
    global _frequency_newest
    cursor.execute("SELECT coalesce(max(id), 0), current_database(), "
                   "pg_relation_filenode('search_entry') FROM search_entry")
    newest, *table = cursor.fetchone()
    _kept.table(tuple(table))
    if newest != _frequency_newest:  # entries written since: every figure may move
        _frequency_cache.clear()
        _frequency_newest = newest
    missing = [t for t in terms if t not in _frequency_cache]
    if missing:
        cursor.execute(
            "SELECT (SELECT count(*) FROM search_entry e WHERE e.words @@ t::tsquery) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n", [missing])
        if len(_frequency_cache) + len(missing) > FREQUENCIES_KEPT:
            _frequency_cache.clear()
        _frequency_cache.update(zip(missing, (row[0] for row in cursor.fetchall()),
                                    strict=True))
    return [_frequency_cache[t] for t in terms]


KEPT_BYTES = 32 * 2**20  # the word frequencies a process keeps (`_KeptFrequencies`)
KEPT_SHARE = 1 / 16  # a word's are kept when it has at least this share of the entries
KEPT_LEAST = 1_000  # and a search ranks at least this many of them


class _KeptFrequencies:
    """A common word's frequency in each entry that holds it, as ranking reads it from
    `search_tf`, kept by the process after one read of the word's partition, for ranking
    the entries a phrase or a proximity found (`_Translation._score`). At 50k documents,
    reading the partition of "of" (46,805 entries) took 60 ms, once; looking the word up
    in each of `"results of operations"`' 9,250 matches took about 27 ms, every search
    (its three words: the page's statement took 153 ms, and 73 with them kept).

    What is kept stays true: an entry's words never change under its id (a filing
    indexed again gets new entries, with higher ids, and ids are not used twice while
    the table lives). An entry written since is not kept and is looked up as before;
    when more than a quarter of a search's entries were written since, the word is read
    again. (So is an entry whose words are not in the partition: written before
    migration 0013, or too long for `search_tf`; it is never read again for those.)
    All is forgotten when the table is another (`table`: a test's new database, a
    truncated table), and the least recently used word past KEPT_BYTES. (Ids used twice
    in one table, by a sequence set back without a truncation, would need
    `cursor_stats_reset()` in every process; nothing in the product does that.)"""

    def __init__(self, budget: int = KEPT_BYTES):
        self.budget = budget
        # word -> (entry ids, ascending; their frequencies; the newest id when read)
        self._words: OrderedDict[str, tuple[np.ndarray, np.ndarray, int]] = OrderedDict()
        self._bytes = 0
        self._table: tuple | None = None
        self._lock = threading.Lock()

    def clear(self):
        with self._lock:
            self._words.clear()
            self._bytes = 0

    def table(self, key: tuple):
        """The table the figures are of (its database and file): another forgets all."""
        if key != self._table:
            self.clear()
            self._table = key

    def frequencies(self, cursor, word: str, entries: np.ndarray, df: int,
                    total: int) -> np.ndarray | None:
        """The word's frequency in each of `entries` (sorted ids), -1 where it is not
        kept; None when the word is not one to keep (too rare, or too few entries to
        rank for reading it whole to pay) and is not kept already."""
        with self._lock:
            held = self._words.get(word)
            if held is not None:
                self._words.move_to_end(word)
        wanted = len(entries) >= max(KEPT_LEAST, KEPT_SHARE * total)
        if held is None and not (wanted and df >= KEPT_SHARE * total
                                 and df * 9 <= self.budget):
            return None
        if held is not None:
            known = self._among(held, entries)
            since = int(np.count_nonzero(entries > held[2]))
            if not wanted or 4 * since <= len(entries):
                return known
        held = self._read(cursor, word)
        return self._among(held, entries)

    @staticmethod
    def _among(held: tuple[np.ndarray, np.ndarray, int], entries: np.ndarray) -> np.ndarray:
        ids, tfs, _ = held
        if not len(ids):
            return np.full(len(entries), -1, np.int16)
        at = np.minimum(np.searchsorted(ids, entries), len(ids) - 1)
        return np.where(ids[at] == entries, tfs[at].astype(np.int16), np.int16(-1))

    def _read(self, cursor, word: str) -> tuple[np.ndarray, np.ndarray, int]:
        """The word's partition read whole: its entries and frequencies, kept."""
        term = quoted(word)
        tf = _tf(_rank("t.words"))
        # As two strings of binary numbers, turned into arrays at once, not a row at a time
        # (as text, sorted by the server and parsed here, it took twice as long). Both
        # aggregates read the rows in the same order, the scan's: sorted here.
        cursor.execute(
            f"SELECT coalesce(string_agg(int8send(t.entry_id), ''), ''), "
            f"coalesce(string_agg(int2send(({tf})::int2), ''), ''), "
            "(SELECT coalesce(max(id), 0) FROM search_entry) "
            "FROM search_tf t WHERE t.bucket = %s AND t.words @@ %s::tsquery",
            [term, bucket(word), term])
        ids, tfs, newest = cursor.fetchone()
        ids = np.frombuffer(ids, ">i8").astype(np.int64)
        order = np.argsort(ids, kind="stable")
        held = (ids[order], np.frombuffer(tfs, ">i2").astype(np.uint8)[order], newest)
        size = held[0].nbytes + held[1].nbytes
        with self._lock:
            old = self._words.pop(word, None)
            if old is not None:
                self._bytes -= old[0].nbytes + old[1].nbytes
            self._words[word] = held
            self._bytes += size
            while self._bytes > self.budget and len(self._words) > 1:
                _, (gone_ids, gone_tfs, _) = self._words.popitem(last=False)
                self._bytes -= gone_ids.nbytes + gone_tfs.nbytes
        return held


_kept = _KeptFrequencies()


def _by_filing(sort: str) -> str:
    """Every match of `m` with its rank in its filing (`k`, 1 = the filing's leader) and
    its filing's count of matches (`n`). One window for both, framed over the whole
    filing, so one pass over the sorted matches computes them (two windows took two).
    Only the columns the order reads are sorted, not the facets: a common word's matches
    sort in less time."""
    columns = ", ".join(["id", "accession", "score", *_ORDER_COLUMNS[sort]])
    return (f"SELECT {columns}, row_number() OVER w AS k, count(*) OVER w AS n FROM m "
            f"WINDOW w AS (PARTITION BY accession ORDER BY {_ORDER[sort]} ROWS BETWEEN "
            "UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)")


def _page(rows: str, columns: str, order: str) -> str:
    """One page of `rows` in `order`, numbered (`o`): the page picked by a top-N sort,
    then numbered, rather than every row numbered in a full sort."""
    return (f"SELECT {columns}, row_number() OVER (ORDER BY {order}) AS o FROM (SELECT * "
            f"FROM {rows} ORDER BY {order} LIMIT %s OFFSET %s) p")


# The columns of `m` (besides id, accession and score) that each order reads.
_ORDER_COLUMNS = {"relevance": (), "newest": ("filed", "sequence"),
                  "oldest": ("filed", "sequence"), "ingested": ("ingested", "filed", "sequence")}
_ORDER = {
    "relevance": "score DESC, id",
    "newest": "filed DESC, accession DESC, sequence",
    "oldest": "filed, accession, sequence",
    "ingested": "ingested DESC, filed DESC, accession DESC, sequence",
}
_FIELDS = (
    "e.id, e.accession, e.sequence, e.document_id, e.form, e.doc_type, e.filename, "
    "e.description, e.filed, e.period, array_to_string(e.cik, ' '), e.parties::text, "
    "array_to_string(e.sic, ' '), array_to_string(e.state_inc, ' '), "
    "array_to_string(e.state_loc, ' '), array_to_string(e.item, ' '), e.file_number, "
    "e.ingested"
)


def _documents(cursor, items) -> list[Hit]:
    """A documents view's page from its (entry id, score) rows, in order."""
    scores = dict(items)
    hits = _hits(cursor, list(scores), scores)
    return [hits[i] for i in scores if i in hits]


def _groups(cursor, items) -> list[Group]:
    """A filings view's page from its (accession, entry id, score, the filing's count of
    matches) rows, in order: each filing's best documents together, best first. A
    filing whose documents are gone since (re-ingested or deleted) is left out."""
    scores = {entry_id: score for _, entry_id, score, _ in items}
    hits = _hits(cursor, list(scores), scores)
    groups: dict[str, Group] = {}
    for accession, entry_id, _, count in items:
        group = groups.setdefault(accession, Group(accession, [], count))
        if entry_id in hits:
            group.hits.append(hits[entry_id])
    return [g for g in groups.values() if g.hits]


def _hits(cursor, ids: list[int], scores: dict[int, float]) -> dict[int, Hit]:
    cursor.execute(f"SELECT {_FIELDS} FROM search_entry e WHERE e.id = ANY(%s::bigint[])",
                   [_id_array(ids)])
    hits = {}
    for (entry_id, accession, sequence, pk, form, doc_type, filename, description, filed,
         period, cik, parties, sic, state_inc, state_loc, item, file_number,
         ingested) in cursor:
        hits[entry_id] = Hit({
            "id": f"{accession}/{sequence}", "pk": pk, "accession": accession,
            "sequence": sequence, "form": form, "doc_type": doc_type, "filename": filename,
            "description": description, "filed": filed, "period": period, "cik": cik,
            "parties": json.loads(parties), "sic": sic, "state_inc": state_inc,
            "state_loc": state_loc, "item": item, "file_number": file_number,
            "ingested": ingested,
        }, scores.get(entry_id, 0.0))
    return hits


# The facets counted over `leaders` (one row per filing in the filings view): their
# column, and whether it holds an array of values. The `facets` column holds them all
# again as "name:value" text (migration 0009's generated column).
_LEADER_FACETS = {
    "form": ("form", False),
    "company": ("cik", True),
    "year": ("year", False),
    "state_loc": ("state_loc", True),
    "state_inc": ("state_inc", True),
    "sic": ("sic", True),
    "item": ("item", True),
    "section": ("section", True),
}


def _every_leader_facet(names: list[str]) -> bool:
    """Whether these facets are all of `leaders`' (a whole search's), counted from the
    `facets` array; fewer (the facets counted alone, one at a time) are read from their
    own columns, cheaper than unpacking every value of the array to keep one."""
    return set(names) >= set(_LEADER_FACETS)


def _leader_facets(names: list[str]) -> str:
    """One column: the facets counted over `leaders` in one pass over its rows, a JSON
    object {facet: [[value, count], ...]} (a facet without values is left out): the
    FACET_SIZE commonest values, equal counts by value; years newest first. Values are
    ordered by code point (COLLATE "C"), as the Whoosh engine orders them, so both cut a
    facet at the same value whatever the database's collation."""
    if _every_leader_facet(names):
        # One row per value of the array, counted as "name:value" and split once counted.
        # unnest in the select list: one set-returning projection over the rows, not a
        # function scan started for each row (5 of a common word's 22 ms).
        counts = ("SELECT split_part(u, ':', 1) AS f, substr(u, strpos(u, ':') + 1) "
                  "COLLATE \"C\" AS v, n FROM (SELECT u, count(*) AS n FROM (SELECT "
                  "unnest(l.facets) AS u FROM leaders l) x GROUP BY u) g")
    else:
        arms = " UNION ALL ".join(
            f"SELECT '{name}', " + (f"unnest(l.{column})" if multi else f"l.{column}")
            for name in names for column, multi in [_LEADER_FACETS[name]])
        counts = ("SELECT x.f, x.v COLLATE \"C\" AS v, count(*) AS n FROM leaders l, "
                  f"LATERAL ({arms}) AS x(f, v) WHERE x.v <> '' GROUP BY 1, 2")
    return (
        "(SELECT json_object_agg(f, vs) FROM (SELECT f, json_agg(json_build_array(v, n) "
        "ORDER BY o) AS vs FROM (SELECT f, v, n, row_number() OVER (PARTITION BY f ORDER BY "
        "CASE WHEN f = 'year' THEN 0 ELSE -n END, CASE WHEN f = 'year' THEN '' ELSE v END, "
        f"v DESC) AS o FROM ({counts}) c) r "
        f"WHERE o <= CASE WHEN f = 'year' THEN {YEAR_FACET_SIZE} ELSE {FACET_SIZE} END "
        "GROUP BY f) j)"
    )


def _doc_type_facet(grouped: bool) -> str:
    """Document types by family (`doc_type_family`), counted as the view counts: the
    filings with a matching document of the family, or the documents."""
    # Each match's family once; in the filings view, each filing's families once, found
    # by hashing (count(DISTINCT ...) sorted every match: 5 of a common word's 9 ms).
    family = "split_part(doc_type, '.', 1)"
    rows = (f"SELECT v, count(*) AS n FROM (SELECT DISTINCT {family} AS v, accession FROM m) "
            "f WHERE v <> '' GROUP BY v" if grouped else
            f"SELECT {family} AS v, count(*) AS n FROM m WHERE {family} <> '' GROUP BY v")
    return (f"(SELECT coalesce(json_agg(json_build_array(v, n) ORDER BY n DESC, v), '[]') "
            f"FROM ({rows} ORDER BY n DESC, v LIMIT {FACET_SIZE}) f)")


def _facet_columns(names: list[str], grouped: bool) -> list[str]:
    """The SELECT columns of these facets (`_facet_values` reads them back): the facets
    of `leaders` in one column, and document types, counted over `m`, in another."""
    leader = [n for n in names if n != "doc_type"]
    return ([_leader_facets(leader)] if leader else []) + (
        [_doc_type_facet(grouped)] if "doc_type" in names else [])


def _facet_sources(names: list[str]) -> list[str]:
    """The columns of `m` that these facets count."""
    leader = [n for n in names if n != "doc_type"]
    columns = (["facets"] if _every_leader_facet(leader)
               else [_LEADER_FACETS[name][0] for name in leader])
    return columns + (["doc_type"] if "doc_type" in names else [])


def _facet_values(names: list[str], row) -> dict[str, list[tuple[str, int]]]:
    values = list(row)
    counted = {}
    if any(n != "doc_type" for n in names):
        counted = _json(values.pop(0)) or {}  # NULL when no filing matched
    if "doc_type" in names:
        counted["doc_type"] = _json(values.pop(0))
    return {name: [(v, c) for v, c in counted.get(name, [])] for name in names}


class PostgresBackend(SearchBackend):
    transactional = True

    def __init__(self):
        if connection.vendor != "postgresql":
            raise ImproperlyConfigured(
                "SEARCH_BACKEND=postgres needs PostgreSQL as the database (DATABASE_URL)."
            )

    # --- Write side ----------------------------------------------------------------------

    def update_filings(self, accessions):
        accessions = sorted({a for a in accessions if a})
        if not accessions:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_entry WHERE accession = ANY(%s::text[])",
                           [accessions])
            for entry in entries_for(accessions):
                _write(cursor, entry)

    def remove_filings(self, accessions):
        accessions = sorted({a for a in accessions if a})
        if accessions:
            _frequency_cache.clear()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM search_entry WHERE accession = ANY(%s::text[])",
                               [accessions])

    def rebuild(self, workers=1, batch=200, progress=None) -> dict:
        """Every filing's entries afresh, a batch of filings per transaction, each batch
        replacing those filings' entries at once: searches always find every filing (in
        its old entries or its new ones), and ingests go on meanwhile (a batch holds the
        same per-accession locks as `store()`, so a filing stored during the rebuild is
        written after, or before, the batch that holds it; never half of each). Entries
        of filings no longer stored are dropped at the end.

        The RUM index (migration 0010), where the database has the extension, is dropped
        first and built again at the end: kept up to date row by row it made writing
        three times slower, built at once it costs about an eighth of the rebuild. Phrases
        are found without it meanwhile (the same entries, more slowly)."""
        from filings.ingest import lock_accession
        from filings.models import Filing

        started = time.monotonic()
        stats = {"filings": 0, "documents": 0, "bytes": 0}
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
        accessions = list(Filing.objects.order_by("accession_number")
                          .values_list("accession_number", flat=True))
        stats["filings"] = len(accessions)
        for start in range(0, len(accessions), batch):
            chunk = accessions[start : start + batch]
            with transaction.atomic(), connection.cursor() as cursor:
                for accession in chunk:  # in order: no two writers wait on each other
                    lock_accession(accession)
                cursor.execute("DELETE FROM search_entry WHERE accession = ANY(%s::text[])",
                               [chunk])
                for entry in entries_for(chunk):
                    stats["bytes"] += _write(cursor, entry)
                    stats["documents"] += 1
            if progress:
                progress(len(chunk))
        with transaction.atomic():
            remove_orphans()
            with connection.cursor() as cursor:
                # Fold the new entries into the GIN indexes now rather than leave a long
                # pending list to every search, and give the planner the new figures.
                for name in ("search_entry_words", "search_entry_company",
                             "search_entry_cik", "search_entry_section_words",
                             TIERS_INDEX):
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
                cursor.execute("ANALYZE search_entry")
                cursor.execute("ANALYZE search_tf")
                cursor.execute("ANALYZE search_chunk")
        if not connection.in_atomic_block:
            # The old entries are dead rows now: make their space reusable at once
            # rather than let the tables grow by a whole index until autovacuum comes.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM search_entry, search_tf, search_chunk")
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'rum')")
            if cursor.fetchone()[0]:
                # Concurrently where it can (outside a transaction): ingests go on.
                concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
                cursor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {RUM_INDEX} ON "
                               "search_chunk USING rum (words rum_tsvector_ops)")
        cursor_stats_reset()
        stats["seconds"] = time.monotonic() - started
        return stats

    def document_count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_entry")
            return cursor.fetchone()[0]

    def entry_ids(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT accession || '/' || sequence FROM search_entry")
            return [row[0] for row in cursor.fetchall()]

    # --- Read side -----------------------------------------------------------------------

    def _matches(self, sql: _Translation, sort, columns: Iterable[str],
                 narrowed: Part | None = None) -> Part:
        """The `m` relation: every match, with its id, accession, score and `columns`
        (what ordering and facets need: carrying fewer makes it cheaper to build); only
        those that also meet `narrowed`, when given."""
        (frequencies, params), score, (join, join_params) = (
            sql.score() if sort == "relevance" else (("", []), "0", ("", [])))
        condition, condition_params = _all([sql.condition, narrowed], " AND ", "TRUE")
        columns = list(dict.fromkeys(columns))
        outer = "".join(f", {c}" for c in columns)
        inner = "".join(f", e.{c}" for c in ["length", *columns])
        # The inner query reads each word's frequency once (OFFSET 0 keeps PostgreSQL
        # from folding it into the outer one, which would compute each twice).
        return (
            f"SELECT id, accession{outer}, ({score})::float8 AS score FROM "
            f"(SELECT e.id, e.accession{inner}{frequencies} FROM search_entry e {join} "
            f"WHERE {condition} OFFSET 0) e",
            params + join_params + condition_params,
        )

    def search(self, parsed, filters, *, sort, view, page, per_page, facets=True,
               others=None):
        messages: list[str] = []
        grouped = view == "filings"
        names = facet_names(facets)
        with _snapshot() as snapshot, connection.cursor() as cursor:
            sql = _Translation(cursor, parsed, filters, messages)
            # The facets beside the page, on another connection in this snapshot, when
            # the search has a snapshot of its own to share and the helper is free.
            beside = snapshot.own and names and _helper.acquire()
            if beside:
                try:
                    cursor.execute("SELECT pg_export_snapshot()")
                    imported, counting = _helper.run(
                        cursor.fetchone()[0], *self._facet_statement(sql, names, grouped))
                except BaseException:
                    _helper.release()
                    raise
                counted, names = names, []
            try:
                found = self._ranked_page(cursor, sql, sort, grouped, names, page, per_page)
                # The other values of filtered facets: here, in the same snapshot, while
                # the helper counts the search's own.
                other_counts = {}
                for name, other in (others or {}).items():
                    loosened = _Translation(cursor, parsed, other, [], like=sql)
                    other_counts[name] = self._facets(loosened, [name], grouped).get(name, [])
            finally:
                if beside:  # the snapshot must be the helper's before this transaction ends
                    imported.wait()
            found.facets.update(other_counts)
            if beside:
                # Waited for when first read: meanwhile the caller cuts the page's snippets.
                found.count_later(lambda: _facet_values(counted, counting.result()))
            found.messages = messages
        return found

    def _ranked_page(self, cursor, sql, sort, grouped, names, page,
                     per_page) -> ResultPage:
        """The totals, one page and the named facets, in one statement; or, ranked by
        relevance where tiers settle the page (`_tiered_page`), in a few."""
        if sort == "relevance" and TIERED:
            found = self._tiered_page(cursor, sql, grouped, page, per_page)
            if found is not None:
                if names:
                    found.facets = self._facets(sql, names, grouped)
                return found
        order = _ORDER[sort]
        matches, params = self._matches(sql, sort,
                                        [*_ORDER_COLUMNS[sort], *_facet_sources(names)])
        ctes = [f"m AS MATERIALIZED ({matches})"]
        if grouped:
            ctes.append(f"r AS MATERIALIZED ({_by_filing(sort)})")
            # The leaders' facet values from `m`, which `r` leaves out.
            sources = "".join(f", m.{c}" for c in _facet_sources(names) if c != "doc_type")
            ctes.append(f"leaders AS (SELECT r.*{sources} FROM r JOIN m USING (id) "
                        "WHERE r.k = 1)" if sources else
                        "leaders AS (SELECT * FROM r WHERE k = 1)")
            ctes.append(f"page AS ({_page('leaders', 'accession, n', order)})")
            columns = [
                "(SELECT count(*) FROM leaders)",
                "(SELECT coalesce(json_agg(json_build_array(r.accession, r.id, r.score, "
                "page.n) ORDER BY page.o, r.k), '[]') FROM r JOIN page USING (accession) "
                f"WHERE r.k <= {SNIPPETS_PER_FILING})",
            ]
        else:
            ctes.append("leaders AS (SELECT * FROM m)")
            ctes.append(f"page AS ({_page('m', 'id, score', order)})")
            columns = [
                "(SELECT count(DISTINCT accession) FROM m)",
                "(SELECT coalesce(json_agg(json_build_array(id, score) ORDER BY o), '[]') "
                "FROM page)",
            ]
        params += [per_page, max(0, (page - 1) * per_page)]
        columns += _facet_columns(names, grouped)
        cursor.execute(
            "WITH " + ", ".join(ctes) + " SELECT (SELECT count(*) FROM m), "
            + ", ".join(columns), params)
        row = cursor.fetchone()
        documents, filings, items = row[0], row[1], _json(row[2])
        found = ResultPage(documents=documents, filings=filings)
        found.facets = _facet_values(names, row[3:])
        found.items = _groups(cursor, items) if grouped else _documents(cursor, items)
        return found

    def _tiered_page(self, cursor, sql, grouped, page, per_page) -> ResultPage | None:
        """The page ranked from the entries where a scored word is dense (`search_tiers`,
        migration 0014), the densest level first, when that settles it: when the page is
        full and its last result scores above every other match's highest possible score
        (`_Translation.tier`), no other match can rank on or before it. Then a filing on
        the page is ranked by its best document (one of those entries), and its documents
        are ranked again among all its matches; the totals are counted apart. None when
        no level settles the page: the caller ranks every match.

        At 50k documents, `revenue`'s first page (20 filings) is settled among the 740
        of its 13,690 matching entries where it is densest (level 8): 6 ms, where
        scoring every match took 45."""
        offset = (page - 1) * per_page
        if offset + per_page > MAX_TIERED or sql.found:
            # Deep pages need more entries than the tiers list; a phrase's or a
            # proximity's matches are already those the RUM index found, and narrowing
            # them by their words' tiers cost more statements than it saved.
            return None
        order = _ORDER["relevance"]
        # A filing's leader and its rank, as ranking every match reads them.
        leaders = f"({_by_filing('relevance')}) r WHERE k = 1" if grouped else "m"
        for level in TIERS:
            tier = sql.tier(level)
            if tier is None:
                return None
            query, bound = tier
            matches, params = self._matches(
                sql, "relevance", [], ("search_tiers(e.words, e.length) @@ %s::tsquery", [query]))
            cursor.execute(f"WITH m AS MATERIALIZED ({matches}) SELECT id, accession, score "
                           f"FROM {leaders} ORDER BY {order} LIMIT %s OFFSET %s",
                           params + [per_page, offset])
            rows = cursor.fetchall()
            if len(rows) == per_page and rows[-1][2] > bound:
                break
        else:
            return None
        condition, params = sql.condition
        cursor.execute("SELECT count(*), count(DISTINCT e.accession) FROM search_entry e "
                       f"WHERE {condition}", params)
        found = ResultPage(*cursor.fetchone())
        if not grouped:
            found.items = _documents(cursor, [(entry_id, score) for entry_id, _, score in rows])
            return found
        # The page's filings, in the page's order: each with its best documents among all
        # its matches, and its count of them.
        accessions = [accession for _, accession, _ in rows]
        matches, params = self._matches(sql, "relevance", [],
                                        ("e.accession = ANY(%s::text[])", [accessions]))
        cursor.execute(f"WITH m AS MATERIALIZED ({matches}) SELECT accession, id, score, n "
                       f"FROM ({_by_filing('relevance')}) r WHERE k <= {SNIPPETS_PER_FILING} "
                       "ORDER BY array_position(%s::text[], accession::text), k",
                       params + [accessions])
        found.items = _groups(cursor, cursor.fetchall())
        return found

    def _facet_statement(self, sql: _Translation, names, grouped) -> Part:
        """The facets alone: the matches unranked, one per filing in the filings view,
        and no grouping by rank or page: a fifth of a whole search over everything. The
        facets counted over leaders are the filing's, the same on each of its entries
        (`search.index.entries_for`), so any one of a filing's rows is its row
        (`DISTINCT ON (accession)`: hashing each row's distinct values, facet arrays and
        all, took longer than sorting the matches by accession: `revenue` at 50k
        documents, the statement alone, median of 15, 64 -> 55 ms)."""
        sources = _facet_sources(names)
        matches, params = self._matches(sql, "newest", sources)
        leaders = ("SELECT DISTINCT ON (accession) " + ", ".join(
            ["accession"] + [c for c in sources if c != "doc_type"]) + " FROM m "
            "ORDER BY accession" if grouped else "SELECT * FROM m")
        # `m` is read once per column: made once when both columns read it; folded into
        # its one reader otherwise, where the planner can count straight from an index
        # (the form facet over every entry: 50 -> 20 ms at 50k documents).
        twice = "doc_type" in names and len(names) > 1
        return (f"WITH m AS {'MATERIALIZED' if twice else 'NOT MATERIALIZED'} ({matches}), "
                f"leaders AS ({leaders}) SELECT " + ", ".join(_facet_columns(names, grouped)),
                params)

    def facet_counts(self, parsed, filters, *, view, names):
        """The facets alone (`_facet_statement`)."""
        names = facet_names(names)
        if not names:
            return {}
        with _snapshot(), connection.cursor() as cursor:
            return self._facets(_Translation(cursor, parsed, filters, []), names,
                                view == "filings")

    def _facets(self, sql: _Translation, names, grouped):
        sql.cursor.execute(*self._facet_statement(sql, names, grouped))
        return _facet_values(names, sql.cursor.fetchone())

    def iter_results(self, parsed, filters, *, sort, view, batch=500):
        order = _ORDER[sort]
        with _snapshot(), connection.cursor() as cursor:
            matches, params = self._matches(_Translation(cursor, parsed, filters, []), sort,
                                            _ORDER_COLUMNS[sort])
            if view == "filings":
                cursor.execute(
                    f"WITH m AS MATERIALIZED ({matches}), r AS ({_by_filing(sort)}) "
                    f"SELECT id, n FROM r WHERE k = 1 ORDER BY {order}", params)
            else:
                cursor.execute(f"WITH m AS MATERIALIZED ({matches}) SELECT id, 1 FROM m "
                               f"ORDER BY {order}", params)
            units = cursor.fetchall()
        # Memory holds the ordered list of matching entry ids, never every result's fields.
        for start in range(0, len(units), batch):
            part = units[start : start + batch]
            with connection.cursor() as cursor:
                hits = _hits(cursor, [i for i, _ in part], {})
            for entry_id, count in part:
                hit = hits.get(entry_id)
                if hit is None:  # removed since: re-ingested or deleted
                    continue
                yield Group(hit.accession, [hit], count) if view == "filings" else hit

    def doc_frequency(self, words: Iterable[str]) -> dict[str, int]:
        words = list(dict.fromkeys(words))
        if not words:
            return {}
        # In a search's settings: counting a common word must not scan the table.
        with _snapshot(), connection.cursor() as cursor:
            _statistics(cursor)  # bounds how long the remembered figures are kept
            counts = _frequencies(cursor, [quoted(w) for w in words])
        return dict(zip(words, counts, strict=True))


def cursor_stats_reset():
    """Forget the collection figures (after a rebuild changed them all)."""
    global _stats
    _stats = None
    _frequency_cache.clear()
    _kept.clear()


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


# For the statements of a search, until its transaction ends: no JIT compilation (a
# search's statement is costed high enough to trigger it, and compiling it took 100 ms of
# a 50k-document search that runs in less), and room to sort and group a common word's
# matches in memory (the default 4 MB spilled them to disk). And no table scan where an
# index serves: the planner prices testing an entry's `words` as one cheap operator, but
# the test decompresses the entry's whole vector, so at 50k documents scanning the table
# for a word in a quarter of the entries took 1.4 s where its GIN index took 0.3, and the
# planner's choice between the two flipped on a 1% difference in their estimates. A
# search that no index can serve (only excluded words) still scans.
SEARCH_SETTINGS = ("SELECT set_config('jit', 'off', true), "
                   "set_config('work_mem', '32MB', true), "
                   "set_config('enable_seqscan', 'off', true)")


SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")  # as pg_export_snapshot() names


class _snapshot:
    """One snapshot for all the statements of a search (totals, page and facets agree
    with each other), unless the caller's transaction already gives one; or, given an
    exported snapshot's id (`pg_export_snapshot()`), that other transaction's."""

    def __init__(self, imported: str | None = None):
        if imported is not None and not SNAPSHOT_ID.fullmatch(imported):
            raise ValueError(f"not a snapshot id: {imported!r}")
        self.imported = imported

    def __enter__(self):
        self.atomic = None
        # Whether the snapshot is the search's own (not its caller's, which may hold
        # writes that another connection cannot see).
        self.own = not connection.in_atomic_block
        if self.own:
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                if self.imported:  # before the transaction's first query
                    cursor.execute(f"SET TRANSACTION SNAPSHOT '{self.imported}'")
        elif self.imported:
            raise RuntimeError("a snapshot is imported only into a transaction of its own")
        with connection.cursor() as cursor:
            cursor.execute(SEARCH_SETTINGS)
        return self

    def __exit__(self, *exc):
        if self.atomic is not None:
            return self.atomic.__exit__(*exc)
        return False


class _Helper:
    """One thread of this process, with a database connection of its own, that counts a
    search's facets while the search's connection ranks its page. Each visits the
    matches; then one ranks and groups them, the other counts their facet values (for
    a common word at 50k documents, 62 ms of a 172 ms statement). On a server with a
    core to spare, the request takes about the longer of the two, not their sum. The
    helper's transaction imports the search's snapshot (`pg_export_snapshot`): totals,
    page and facets still agree. One search at a time uses it: another, meanwhile,
    counts its facets in its own statement, so a process holds at most one more
    connection."""

    def __init__(self):
        self._reset()
        # A process forked from this one (a web server's worker) starts its own: the
        # thread is not copied, and the lock may have been held at the fork.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self.lock = threading.Lock()
        self.pool = None

    def acquire(self) -> bool:
        return self.lock.acquire(blocking=False)

    def release(self):
        self.lock.release()

    def run(self, snapshot: str, sql: str, params: list) -> tuple[threading.Event, Future]:
        """Start the statement in that snapshot: (an event set once the helper's
        transaction holds the snapshot, after which the exporting transaction may end;
        the future of the statement's one row). The helper is released when it is done."""
        if self.pool is None:
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="search-facets")
        imported = threading.Event()
        future = self.pool.submit(_in_snapshot, snapshot, sql, params, imported)
        # Set when it ends, whatever happened: the search never waits on it for ever.
        future.add_done_callback(lambda _: (imported.set(), self.release()))
        return imported, future

    def close(self):
        """Close the helper's connection (its thread stays): before a database it may
        have used is dropped, as the test suite's is at its end."""
        if self.pool is not None:
            with self.lock:
                # `connection` names the calling thread's: look it up in the helper's.
                self.pool.submit(lambda: connection.close()).result()


_helper = _Helper()


def close_helper():
    """Close the facet helper's database connection, if it has one."""
    _helper.close()


def _in_snapshot(snapshot: str, sql: str, params: list, imported: threading.Event):
    """In the helper's thread (`connection` is its own): one statement's row, read in
    another transaction's exported snapshot. `imported` is set once the snapshot is
    held (and, by `_Helper.run`, when this ends, whether it got that far or not)."""
    try:
        connection.close_if_unusable_or_obsolete()  # as Django does between requests
        with _snapshot(imported=snapshot), connection.cursor() as cursor:
            imported.set()
            cursor.execute(sql, params)
            return cursor.fetchone()
    finally:
        if not connection.settings_dict["CONN_MAX_AGE"]:  # not kept between requests
            connection.close()


def remove_orphans(using: str = "default") -> int:
    """Drop the entries of filings the database no longer holds. Run after `migrate` and
    `flush` (which empties the filings without telling the index); a no-op elsewhere."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return 0
    with conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass('search_entry') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(
            "DELETE FROM search_entry e WHERE NOT EXISTS (SELECT 1 FROM filings_filing f "
            "WHERE f.accession_number = e.accession)")
        return cursor.rowcount
