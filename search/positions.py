"""Word positions: whether words occur near each other, as Whoosh's `SpanNear2` decides
it. Shared by the engines (the Whoosh engine's block matching, the PostgreSQL engine's
exact confirmation), so "a b"~N means the same on both. Positions are ascending ints.
"""
from __future__ import annotations

from bisect import bisect_left


def spans_near(positions: list[list[int]], slop: int, ordered: bool, mindist: int) -> bool:
    """whoosh.query.spans.SpanNear2Matcher._get_spans, on (start, end) tuples: whether
    the words' spans chain, each within `slop` (and at least `mindist`) of the span so
    far."""
    if len(positions) == 2:
        return pair_near(positions[0], positions[1], slop, ordered, mindist)
    aspans = [(p, p) for p in positions[0]]
    last = len(positions) - 1
    for i, bpositions in enumerate(positions[1:], 1):
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
