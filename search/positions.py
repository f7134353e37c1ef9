"""Word positions: whether words occur near each other, as Whoosh's `SpanNear2` decides
it. Shared by the engines (the Whoosh engine's block matching, the PostgreSQL engine's
exact confirmation), so "a b"~N means the same on both. Positions are ascending ints.
"""
from __future__ import annotations

import threading
from bisect import bisect_left
from contextlib import contextmanager

# Partial spans one search may build (a clause of three or more words): each costs a
# scan of up to 2 x slop positions. Common words within a wide slop build millions per
# document ("the of and to company"~100: minutes for one search), so a search past this
# is refused rather than left to hold a worker.
MAX_SPANS = 2_000_000


class TooBroad(Exception):
    """A search's proximity clauses need more work than MAX_SPANS to decide."""


_budget = threading.local()


@contextmanager
def budget(spans: int | None = None):
    """Within this block, `spans_near` raises TooBroad once it has built `spans` (by
    default MAX_SPANS) partial spans in all, on this thread; outside, it is unbounded."""
    previous = getattr(_budget, "left", None)
    _budget.left = MAX_SPANS if spans is None else spans
    try:
        yield
    finally:
        _budget.left = previous


def _spend(spans: int) -> None:
    left = getattr(_budget, "left", None)
    if left is not None:
        left -= spans
        _budget.left = left
        if left < 0:
            raise TooBroad


def spans_near(positions: list[list[int]], slop: int, ordered: bool, mindist: int) -> bool:
    """whoosh.query.spans.SpanNear2Matcher._get_spans, on (start, end) tuples: whether
    the words' spans chain, each within `slop` (and at least `mindist`) of the span so
    far. Within a `budget`, raises TooBroad when the spans built pass it."""
    if len(positions) == 2:
        return pair_near(positions[0], positions[1], slop, ordered, mindist)
    aspans = [(p, p) for p in positions[0]]
    last = len(positions) - 1
    for i, bpositions in enumerate(positions[1:], 1):
        _spend(len(aspans))
        spans = set()
        for start, end in aspans:
            j = bisect_left(bpositions, start if ordered else max(0, start - slop))
            while j < len(bpositions):
                b = bpositions[j]
                j += 1
                if b < start - slop or (ordered and start > b):
                    continue
                if b > end + slop:
                    break
                dist = 0 if start <= b <= end else (b - end if end < b else start - b)
                if mindist <= dist <= slop:
                    if i == last:
                        return True  # one span through every word is enough
                    spans.add((min(start, b), max(end, b)))
        if not spans:
            return False
        aspans = sorted(spans)
    return bool(aspans)


def pair_near(a_positions, b_positions, slop, ordered, mindist) -> bool:
    """spans_near of two words: some a and b with mindist <= |b - a| <= slop (and
    a <= b when ordered). Unordered, the test is symmetric: the shorter list is walked
    and the longer one bisected."""
    if not ordered and len(b_positions) < len(a_positions):
        a_positions, b_positions = b_positions, a_positions
    count = len(b_positions)
    for a in a_positions:
        j = bisect_left(b_positions, a if ordered else a - slop)
        while j < count and b_positions[j] <= a + slop:
            if abs(b_positions[j] - a) >= mindist:
                return True
            j += 1
    return False
