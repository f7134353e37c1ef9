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


def test_a_proximity_clause_is_found_in_a_text_as_spans_near_finds_it():
    # The highlighter's search by windows (and its nearest-occurrence chain) against
    # spans_near over the whole text, which the engines run, on random word positions.
    import random

    from search.positions import spans_near
    from search.query import _clause_found, _nearest_chain

    rng = random.Random(8)
    found = 0
    for _ in range(3000):
        words, slop = rng.randint(3, 5), rng.randint(1, 6)
        size = rng.randint(5, 120)
        owner = [rng.randrange(words + 3) for _ in range(size)]  # 3 other words
        lists = [[i for i, w in enumerate(owner) if w == k] for k in range(words)]
        if not all(lists):
            continue
        expected = spans_near(lists, slop, False, 1)
        assert _clause_found(lists, slop, slop * (words - 1)) == expected, (lists, slop)
        if _nearest_chain(lists, slop):
            assert expected, (lists, slop)
        found += expected
    assert 100 < found < 2500  # both answers were tried


@pytest.mark.parametrize("q", ['"stock option"~3', '"option stock"~1', '"stock option net"~2',
                               '"stock stock option"~4', '"net income"~2 stock'])
def test_counting_words_only_up_to_a_bound_marks_the_same_words(q, monkeypatch):
    # The highlighter counts the words between two occurrences only up to a bound (one
    # more than a window three reaches wide): on texts with gaps both shorter and much
    # longer than that, it must mark exactly what counting every word marks.
    import random

    from search import query as query_module

    rng = random.Random(q)
    pattern = highlight_pattern(q)
    counted = query_module.words_between
    marked = 0
    for _ in range(150):
        parts = []
        for _ in range(rng.randint(2, 30)):
            parts.append(rng.choice(["stock", "option", "net", "income", "Stock"]))
            parts.append(" ".join(rng.choice(FILLER) for _ in range(
                rng.choice([0, 0, 0, 1, 1, 2, 3, 6, 9, 14, 40]))))
        text = " ".join(p for p in parts if p)
        capped = [m.span() for m in pattern.finditer(text)]
        monkeypatch.setattr(query_module, "words_between",
                            lambda s, a, b, limit=None: counted(s, a, b))
        assert [m.span() for m in pattern.finditer(text)] == capped, (q, text)
        monkeypatch.undo()
        marked += bool(capped)
    assert marked > 20


def test_counting_words_up_to_a_windows_width_keeps_far_words_out_of_a_window(monkeypatch):
    # A clause so long (24 words ~100: a window of 6,900 words) that the search for a span
    # takes a window holding over _GATE_POSITIONS positions as holding one: a long gap
    # counted short would pull far occurrences into a window and mark a span that is not
    # there (found by a review). No span here: nothing is marked, as counting every word.
    from search import query as query_module

    words = [f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(24)]
    reach = 100 * 23
    text = " ".join([words[0]] * reach + words[1:-1] + ["filler"] * 149 + [words[-1]]
                    + ["filler"] * 10_000 + [words[0]] * reach)
    pattern = highlight_pattern('"' + " ".join(words) + '"~100')
    capped = [m.span() for m in pattern.finditer(text)]
    counted = query_module.words_between
    monkeypatch.setattr(query_module, "words_between",
                        lambda s, a, b, limit=None: counted(s, a, b))
    assert capped == [m.span() for m in pattern.finditer(text)] == []


def test_words_of_a_longer_clause_are_marked_only_where_the_text_holds_it():
    pattern = highlight_pattern('"alpha beta gamma"~1')
    # Every word within the clause's reach of the others, but no span: alpha-beta are
    # two apart, and spans_near chains the words in the clause's order.
    assert [m.group() for m in pattern.finditer("alpha gamma beta")] == []
    assert [m.group() for m in pattern.finditer("alpha beta gamma")] == [
        "alpha", "beta", "gamma"]


# --- The start of a text first: the same snippet as a search of the whole text -------------

FILLER = "the of and to a in for is on that by with as at fiscal year sales".split()
HITS = ["stock", "option", "stock option", "option of stock", "net income",
        "net sales and income", "revenue", "the of and"]


def _random_text(rng, size, density):
    """Words drawn from HITS (at `density`) and FILLER until the text passes `size`
    characters (a running length: summing the list on every word made the tests quadratic)."""
    words, length = [], 0
    while length < size:
        word = rng.choice(HITS) if rng.random() < density else rng.choice(FILLER)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


WINDOW_QUERIES = ["stock", '"stock option"', '"stock option"~3', '"option stock"~12',
                  "stock option", '"stock option"~2 revenue', 'stock* "net income"~4',
                  '"the of and"~2']


@pytest.mark.parametrize("q", WINDOW_QUERIES)
def test_a_snippet_from_the_start_of_a_text_is_the_whole_texts_snippet(q, monkeypatch):
    # Texts where the hits fall around the windows' cuts (4,000 and 32,000 characters)
    # and a proximity pair straddles them: searching the start first must not change a
    # mark or a passage.
    import random

    from search import snippets

    rng = random.Random(q)
    pattern = highlight_pattern(q)
    tried = 0
    for _ in range(60):
        size, density = rng.choice([3_000, 5_000, 40_000]), rng.choice([0.001, 0.005, 0.02])
        text = _random_text(rng, size, density)
        windowed = snippet(text, pattern)
        monkeypatch.setattr(snippets, "WINDOWS", ())
        assert snippet(text, pattern) == windowed, (q, len(text))
        monkeypatch.undo()
        tried += "<mark>" in windowed
    assert tried > 10


# A clause of three words is never decided from a head (the test below).
@pytest.mark.parametrize("q", [q for q in WINDOW_QUERIES if q != '"the of and"~2'] + [None])
def test_a_snippet_decided_from_a_texts_head_is_the_whole_texts(q):
    # The start of each result's text is read first (search.results.FIRST_READ): a
    # snippet decided from it must be the whole text's, with hits around its end.
    import random

    from search.snippets import head_snippet

    rng = random.Random(q)
    pattern = highlight_pattern(q) if q else None
    decided = undecided = 0
    for _ in range(80):
        density = rng.choice([0.005, 0.02, 0.08])
        text = _random_text(rng, 3_000, density)
        whole = snippet(text, pattern)
        for size in (200, 600, 1_200, 2_000, 2_900):
            head = head_snippet(text[:size], pattern)
            if head is None:
                undecided += 1
            else:
                decided += 1
                assert head == whole, (q, size)
    assert decided > 20
    assert undecided > 20 or q is None


def test_a_longer_clause_is_never_decided_from_a_head():
    from search.snippets import head_snippet

    text = "stock option net income " * 200
    assert head_snippet(text[:1_000], highlight_pattern('"stock option income"~4')) is None
    assert head_snippet(text[:1_000], highlight_pattern('"stock option"~4')) is not None


@pytest.mark.parametrize("q", ['"stock option"~20', "stock option"])
def test_a_pair_across_a_windows_cut_is_marked_as_in_the_whole_text(q, monkeypatch):
    # Two passages early, a third just before the first cut that holds a word whose
    # partner lies just after it: the whole text marks both.
    from search import snippets

    pattern = highlight_pattern(q)
    exhibit = "filler words of an exhibit " * 8
    for shift in range(0, 40, 3):
        head = ("stock option " + exhibit) * 2
        tail = "stock option revenue stock y y option " + exhibit * 10
        pad = "x " * ((snippets.WINDOWS[0] - shift - len(head) - tail.index("option", 10)) // 2)
        text = head + pad + tail
        windowed = snippet(text, pattern)
        monkeypatch.setattr(snippets, "WINDOWS", ())
        assert snippet(text, pattern) == windowed, shift
        monkeypatch.undo()
        assert windowed.count("<mark>") == 8


def test_a_proximity_snippet_reads_the_start_of_a_long_text_only(monkeypatch):
    from search import query as query_module

    early = ("the stock option plan. " + "filler words of an exhibit " * 10) * 3
    text = early + "filler words of a long exhibit " * 20_000
    read = []
    original = query_module.NearPattern._qualifying
    monkeypatch.setattr(query_module.NearPattern, "_qualifying",
                        lambda self, s, start, end: read.append(end - start)
                        or original(self, s, start, end))
    html = snippet(text + " stock option", highlight_pattern('"stock option"~2'))
    assert html.count("<mark>") == 6 and max(read) <= 4_000
    # Fewer than three passages at its start: the whole text is read.
    read.clear()
    html = snippet(text[len(early) // 3 * 2:] + " stock option", highlight_pattern(
        '"stock option"~2'))
    assert html.count("<mark>") == 4 and max(read) > 600_000
