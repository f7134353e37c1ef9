"""Snippets: escaped text, hits marked exactly as highlight_pattern finds them."""
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
