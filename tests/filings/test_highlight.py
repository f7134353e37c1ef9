"""Marking `?q=` hits in stored document HTML (filings.highlight)."""
import re

import pytest

from filings.highlight import MAX_HITS, count, fallback_pattern, highlight, pattern_for

WORD = re.compile(r"revenue", re.I)


def marks(html):
    return re.findall(r'<mark class="hit" id="es-hit-(\d+)">(.*?)</mark>', html)


def test_hits_are_numbered_in_reading_order_across_nested_elements():
    html = "<p>Revenue <b>up</b>; revenue</p>tail revenue<div><i>revenue</i></div>"
    out, count = highlight(html, WORD)
    assert count == 4
    assert [int(n) for n, _ in marks(out)] == [1, 2, 3, 4]
    # The tail of </p> comes before the <div>, after the paragraph's own hits.
    assert out.index('id="es-hit-3">revenue</mark>') < out.index("<div>")
    assert out.startswith('<p><mark class="hit" id="es-hit-1">Revenue</mark> <b>up</b>; ')


def test_attributes_and_tags_are_never_touched():
    html = '<a href="#revenue" title="revenue">Total revenue</a><img alt="revenue">'
    out, count = highlight(html, WORD)
    assert count == 1
    assert 'href="#revenue" title="revenue"' in out
    assert '<img alt="revenue">' in out
    assert out.endswith(
        'Total <mark class="hit" id="es-hit-1">revenue</mark></a><img alt="revenue">'
    )


def test_text_stays_escaped():
    out, count = highlight("<p>a &lt;script&gt; revenue &amp; b</p>", WORD)
    assert count == 1
    assert "&lt;script&gt;" in out and "&amp; b" in out
    assert "<script>" not in out


def test_no_pattern_or_no_hit_returns_the_stored_html_unchanged():
    html = "<p>Nothing to see</p>"
    assert highlight(html, None) == (html, 0)
    assert highlight(html, WORD) == (html, 0)
    assert highlight("", WORD) == ("", 0)


def test_marking_stops_at_the_cap():
    html = "<pre>" + "revenue " * (MAX_HITS + 50) + "</pre>"
    out, count = highlight(html, WORD)
    assert count == MAX_HITS
    assert len(marks(out)) == MAX_HITS
    assert out.count("revenue") == MAX_HITS + 50  # the rest is still there, unmarked


def test_fallback_pattern_matches_words_and_phrases_not_operators_or_filters():
    pattern = fallback_pattern('"net income" AND revenue -loss form:8-K cik:320193')
    assert pattern.search("the Net\n  Income line")
    assert pattern.search("Revenue")
    assert not pattern.search("AND")
    assert not pattern.search("loss")
    assert not pattern.search("8-K")
    assert not pattern.search("revenues")  # whole words only
    assert fallback_pattern("   ") is None
    assert fallback_pattern("form:8-K") is None


def test_fallback_pattern_treats_regex_syntax_as_text():
    pattern = fallback_pattern("a+b (c) [d]")
    assert [m.group(0) for m in pattern.finditer("a+b ab (c) [d]")] == ["a", "b", "c", "d"]
    assert fallback_pattern(".*") is None  # no word characters: nothing to find


def test_marks_of_a_later_page_continue_the_numbers_of_the_earlier_pages():
    out, count = highlight("<p>revenue and revenue</p>", WORD, first=41)
    assert count == 2
    assert [int(n) for n, _ in marks(out)] == [41, 42]


@pytest.mark.parametrize(
    "html, q",
    [
        ("<p>Revenue <b>up</b>; revenue</p>tail revenue<div><i>revenue</i></div>", "revenue"),
        ("<p>net <b>income</b> and net income</p>", '"net income"'),  # across tags: no
        ("<p>AT&amp;T and at &amp; t</p><p title='at&amp;t'>x</p>", '"at&t"'),
        ("<p>revenue<b>s</b> revenues</p>", "revenue"),
        ("<pre>" + "revenue " * (MAX_HITS + 5) + "</pre>", "revenue"),
        ("<p>revenue\u00a0growth, &lt;revenue&gt;</p>", "revenue growth"),
        ("<p>net <b>b</b> net b</p>", '"net b"'),  # a phrase that could run into a tag
        ('<p title="&quot;td&quot;">td &amp; td</p>', "amp OR quot"),  # references: no
        ("<table>" + '<tr><td style="width:1px">td</td></tr>' * 3000 + "</table>", "td"),
        ("<table>" + '<tr><td style="width:1px">x</td></tr>' * 3000 + "</table>", "style"),
    ],
)
def test_counting_without_parsing_agrees_with_the_marks_made(html, q):
    pattern = pattern_for(q)
    assert count(html, pattern) == highlight(html, pattern)[1]


def test_counting_ignores_tags_and_attributes():
    assert count('<a href="#revenue" title="revenue">Total</a><img alt="revenue">', WORD) == 0
    assert count("", WORD) == 0 and count("<p>revenue</p>", None) == 0


def test_counting_is_case_insensitive_like_marking_whatever_the_pattern():
    html = "<p>REVENUE, Revenue &amp; revenue; NET\n<b>Income</b> net income</p>"
    for pattern in (pattern_for("Revenue"), fallback_pattern("Revenue"),
                    pattern_for('"net income"'), fallback_pattern('"Net Income"')):
        assert count(html, pattern) == highlight(html, pattern)[1] > 0


def test_a_wide_proximity_query_marks_and_counts_a_megabyte_fast():
    # One text node of a plain-text 10-K: the words of a ~100 clause of common words
    # were looked for around every occurrence (24 s for a 392 KB filing); now each text
    # is read once.
    import random
    import time

    rng = random.Random(8)
    vocabulary = "the of and to a in company stock option revenue net income fiscal".split()
    text = " ".join(rng.choice(vocabulary) for _ in range(170_000))
    html = f"<pre>{text}</pre>"
    pattern = pattern_for('"the of and to company stock option revenue net income"~100')
    started = time.monotonic()
    assert count(html, pattern) == MAX_HITS
    out, marked = highlight(html, pattern)
    assert marked == MAX_HITS
    # Linear takes 1-3 s here (6 s once on a machine running three other suites); the
    # quadratic reading this guards against takes minutes at this size.
    assert time.monotonic() - started < 30
    # A clause never pairs words of different texts: the last paragraphs stay unmarked.
    pair = pattern_for('"stock option"~60')
    assert count("<p>stock</p><p>option</p><p>stock option</p>", pair) == 2
    assert highlight("<p>stock</p><p>option</p><p>stock option</p>", pair)[1] == 2
