"""Snippets: escaped text, hits marked exactly as highlight_pattern finds them."""
import time

import pytest

from search.query import highlight_pattern
from search.snippets import snippet


def test_snippet_escapes_then_marks():
    html = snippet('<script>alert("revenue")</script> & revenue', highlight_pattern("revenue"))
    assert "<script>" not in html
    assert html.count("<mark>revenue</mark>") == 2
    assert "&lt;script&gt;" in html and "&amp;" in html


def test_phrase_across_a_line_break_is_one_mark():
    html = snippet("the going\n   concern doubt", highlight_pattern('"going concern"'))
    assert "<mark>going concern</mark>" in html


def test_hit_deep_in_a_long_text_is_found_and_partial_text_defers():
    text = "filler " * 20_000 + "the Macintosh line"
    pattern = highlight_pattern("macintosh")
    assert "<mark>Macintosh</mark>" in snippet(text, pattern)
    assert snippet(text[:50_000], pattern, complete=False) == ""


def test_no_pattern_gives_the_lead_text():
    html = snippet("word " * 200, None)
    assert html.startswith("word word") and html.endswith("…") and "<mark>" not in html


def test_words_inside_longer_words_are_not_marked():
    html = snippet("revenues and x.revenue and revenue.", highlight_pattern("revenue"))
    assert html.count("<mark>") == 1 and "<mark>revenue</mark>." in html


# --- Proximity clauses: words marked where they pair, in time linear in the text -------------

SLOW_QUERIES = [
    '"the of and to company stock option revenue net income"~100',
    '"the of and to a in for is on that by with company stock option revenue net"~100',
]


def _filing_like_text(size=1_000_000, seed=8):
    import random

    rng = random.Random(seed)
    vocabulary = ("the of and to a in for is on that by with as at company stock option "
                  "revenue net income shares fiscal year ended quarter sales cost total "
                  "operations 1995 $ 12,345 (note)").split()
    out, length = [], 0
    while length < size:
        word = rng.choice(vocabulary)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)


@pytest.mark.parametrize("q", SLOW_QUERIES)
def test_proximity_highlighting_of_a_megabyte_is_fast(q):
    text = _filing_like_text()
    pattern = highlight_pattern(q)
    started = time.monotonic()
    hits = sum(1 for _ in pattern.finditer(text))
    html = snippet(text, pattern)
    assert time.monotonic() - started < 3
    assert hits > 1000 and "<mark>" in html


def test_proximity_counts_words_not_characters():
    # Plain-text EDGAR tables pad with long runs of spaces: the engines count words.
    text = "stock" + " " * 200 + "option and a lone stock " + "filler " * 30 + "option"
    pattern = highlight_pattern('"stock option"~1')
    assert [m.start() for m in pattern.finditer(text)] == [0, 205]
    html = snippet(text, pattern)
    assert html.count("<mark>") == 2 and "lone stock" in html
