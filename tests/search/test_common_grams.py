"""Common grams (issue 12): a token for each pair of adjacent words that starts with a
common word, so that a phrase through "of" reads the pair's short position list, not the
positions of "of" in nearly every document. The gram functions (search.index), the
Whoosh `grams` field, and the block matcher's phrases over it: the same documents and
the same scores as without it, and an index without the field answers as before."""
import random

import pytest
from whoosh import index as wi
from whoosh import query as wq
from whoosh.query import spans

from search.backends import whoosh
from search.backends import whoosh_matching as matching
from search.index import (
    COMMON_WORDS,
    GRAM_SEPARATOR,
    common_grams,
    phrase_cover,
    words,
)
from tests.conftest import corpus_file


@pytest.fixture
def search_backend(settings):
    """These tests are of the Whoosh engine's internals: Whoosh only."""
    settings.SEARCH_BACKEND = "whoosh"
    return "whoosh"


# --- The gram functions (engine-neutral) ---------------------------------------------------


def test_each_common_word_is_paired_with_the_next_word_at_its_own_position():
    tokens = words("The results of the operations of")
    assert common_grams(tokens) == [(0, "the~results"), (2, "of~the"), (3, "the~operations")]
    assert common_grams([]) == [] and common_grams(["of"]) == []  # no following word
    assert common_grams(["net", "sales"]) == []


def test_the_separator_never_occurs_inside_a_word():
    assert words(f"of{GRAM_SEPARATOR}operations") == ["of", "operations"]
    assert GRAM_SEPARATOR not in "".join(words("results of 10-K ex-10.1 a_b 3.5% the~of"))


def test_the_common_words_are_function_words_in_lower_case():
    assert {"the", "of", "and", "to", "in"} <= COMMON_WORDS
    assert 10 <= len(COMMON_WORDS) <= 20
    assert all(words(w) == [w] for w in COMMON_WORDS)


@pytest.mark.parametrize(("phrase", "cover"), [
    # A common word inside: its gram holds it and the next word.
    ("results of operations", [(0, "results", False), (1, "of~operations", True)]),
    # At the start.
    ("the company", [(0, "the~company", True)]),
    # At the end: no following word, so it stays a word.
    ("net sales of", [(0, "net", False), (1, "sales", False), (2, "of", False)]),
    ("sales of the", [(0, "sales", False), (1, "of~the", True)]),
    # Repeated words, and a phrase only of common words: a gram for each but the last.
    ("of the of", [(0, "of~the", True), (1, "the~of", True)]),
    ("the of the end", [(0, "the~of", True), (1, "of~the", True), (2, "the~end", True)]),
    ("in the", [(0, "in~the", True)]),
    # No common word before another word: the words alone.
    ("going concern", [(0, "going", False), (1, "concern", False)]),
    ("of", [(0, "of", False)]),
    ("revenue", [(0, "revenue", False)]),
])
def test_a_phrase_is_covered_by_grams_for_its_common_words_and_its_other_words(phrase, cover):
    assert phrase_cover(phrase.split()) == cover


@pytest.mark.parametrize("seed", range(4))
def test_a_text_holds_a_phrase_exactly_where_it_holds_the_phrases_cover(seed):
    """Against the obvious test, over random texts of few words (common and not): the
    phrase at p if and only if each cover token at p + its offset, grams among the
    text's grams and words among its words."""
    rng = random.Random(seed)
    vocabulary = ["the", "of", "and", "a", "results", "operations", "net", "sales"]
    for _ in range(200):
        tokens = [rng.choice(vocabulary) for _ in range(rng.randint(0, 30))]
        grams = set(common_grams(tokens))
        singles = set(enumerate(tokens))
        phrase = [rng.choice(vocabulary) for _ in range(rng.randint(1, 4))]
        cover = phrase_cover(phrase)
        for p in range(-3, len(tokens) + 1):
            holds = tokens[p : p + len(phrase)] == phrase if p >= 0 else False
            covered = all((p + offset, token) in (grams if is_gram else singles)
                          for offset, token, is_gram in cover)
            assert covered is holds, (tokens, phrase, p)


# --- The Whoosh field ----------------------------------------------------------------------


def test_the_grams_field_indexes_each_gram_at_its_first_words_positions():
    field = whoosh.make_schema()["grams"]
    text = "Results of Operations. The results of the operations of"
    postings = {t: field.format.decode_positions(v) for t, _, _, v in field.index(text)}
    # results(0) of(1) operations(2) the(3) results(4) of(5) the(6) operations(7) of(8)
    assert postings == {b"of~operations": [1], b"the~results": [3], b"of~the": [5],
                        b"the~operations": [6]}
    # Whoosh's own path through the field's tokenizer gives the same postings.
    generic = field.format.word_values(text, field.analyzer, mode="index")
    assert sorted((t.encode(), n, w, v) for t, n, w, v in generic) == sorted(field.index(text))
    assert not field.scorable and not field.stored


# --- Phrases on the corpus's index ---------------------------------------------------------

PHRASES = [
    "results of operations",  # a common word in the middle
    "the company",  # at the start
    "net sales of",  # at the end (no gram)
    "in the",  # only common words
    "of the company",
    "as of the",
    "for the three months",
    "the of the",  # repeated, and not in the corpus
    "in accordance with the",
]


def _phrase_query(text):
    return wq.Phrase("body", text.split())


@pytest.mark.parametrize("phrase", PHRASES)
def test_a_phrase_through_grams_finds_and_scores_what_whoosh_finds(corpus, phrase):
    searcher = whoosh.searcher()
    assert "grams" in searcher.schema
    query = _phrase_query(phrase)
    expected = sorted(searcher.docs_for_query(query))
    assert matching.matching(searcher, query) == expected
    scores = matching.scored(searcher, query)
    assert list(scores) == expected
    whooshs = {d: s for s, d in searcher.search(query, limit=None).top_n}
    assert scores == pytest.approx(whooshs, rel=1e-12)
    if phrase != "the of the":
        assert expected, phrase  # the corpus holds it: the comparison is not empty


@pytest.mark.parametrize("phrase", PHRASES)
def test_a_phrase_through_grams_scores_exactly_as_reading_every_words_positions(
        corpus, phrase, monkeypatch):
    searcher = whoosh.searcher()
    query = _phrase_query(phrase)
    through_grams = matching.scored(searcher, query)
    monkeypatch.setattr(matching, "phrase_cover", lambda words, common: [])
    assert matching.scored(searcher, query) == through_grams  # the same floats


def test_a_phrase_through_a_common_word_reads_its_grams_not_the_words_positions(
        corpus, monkeypatch):
    read = []
    postings = matching._Segment.postings

    def spy(self, fieldname, btext, values=False):
        read.append((fieldname, btext, values))
        return postings(self, fieldname, btext, values)

    monkeypatch.setattr(matching._Segment, "postings", spy)
    monkeypatch.setattr(matching, "_common_weights", {})
    searcher = whoosh.searcher()
    query = _phrase_query("results of operations")
    scores = matching.scored(searcher, query)
    assert scores
    positions = {(f, b) for f, b, values in read if values}
    assert ("grams", b"of~operations") in positions and ("body", b"results") in positions
    assert ("body", b"of") not in positions and ("body", b"operations") not in positions
    # The words' scores come from their weights; a common word's are read once a process
    # (its blocks hold its positions too), then kept.
    assert ("body", b"of", False) in read and ("body", b"operations", False) in read
    read.clear()
    assert matching.scored(searcher, query) == scores
    assert ("body", b"of", False) not in read and ("body", b"operations", False) in read


# --- Indexes with and without the field ----------------------------------------------------


def _texts() -> list[str]:
    """Real filing text in pieces of a few hundred words, and texts with the phrases at
    their very start and end."""
    raw = corpus_file("0000320193-97-000011.txt").read_text(errors="replace")
    tokens = raw.split()
    pieces = [" ".join(tokens[i : i + 400]) for i in range(0, len(tokens), 400)]
    return pieces + [
        "Results of operations were good",
        "we discuss the results of operations",
        "of the of the of",
        "the of",
        "in the in",
        "",
    ]


def _index(path, schema, texts):
    """An index of `texts` in three segments, one entry deleted."""
    path.mkdir()
    ix = wi.create_in(str(path), schema)
    third = len(texts) // 3 + 1
    for start in range(0, len(texts), third):
        writer = ix.writer()
        for n, text in enumerate(texts[start : start + third], start):
            entry = {"id": str(n), "accession": f"a{n}", "body": text}
            writer.add_document(**whoosh._document(entry, ix.schema))
        writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("id", "1")
    writer.commit(merge=False)
    return wi.open_dir(str(path))


@pytest.mark.parametrize("phrase", PHRASES + ["results of operations were", "of the of the",
                                                "the of", "in the in", "of the", "going concern"])
def test_an_index_without_grams_answers_as_one_with_them(tmp_path, phrase):
    """An index built before the field (no `grams`) reads every word's positions, as
    before; one with it finds the same documents with the same scores."""
    texts = _texts()
    old = whoosh.make_schema()
    old.remove("grams")
    with_grams = _index(tmp_path / "new", whoosh.make_schema(), texts).searcher()
    without = _index(tmp_path / "old", old, texts).searcher()
    assert len(with_grams.reader().leaf_readers()) == 3
    assert "grams" not in without.schema
    query = _phrase_query(phrase)
    expected = sorted(without.docs_for_query(query))  # Whoosh's own phrase
    assert matching.matching(without, query) == expected
    assert matching.matching(with_grams, query) == expected
    scores = matching.scored(with_grams, query)
    assert scores == matching.scored(without, query)
    assert list(scores) == expected


@pytest.mark.parametrize("query", [
    *(_phrase_query(p) for p in PHRASES + ["results of operations were", "going concern"]),
    spans.SpanNear2([wq.Term("body", "net"), wq.Term("body", "sales")], slop=4,
                    ordered=False),  # "net sales"~4
    spans.SpanNear2([wq.Term("body", w) for w in ("company", "results", "operations")],
                    slop=9, ordered=False),
], ids=str)
def test_an_index_with_pickled_positions_answers_as_one_with_packed(tmp_path, query):
    """An index built before `PackedPositions` keeps Whoosh's pickled deltas, in its body
    and its grams: phrases and proximity find the same documents with the same scores,
    and Whoosh's own matchers (which decode through the field's format) agree."""
    from whoosh import formats

    texts = _texts()
    old = whoosh.make_schema()
    for name in ("body", "grams"):
        old[name].format = formats.Positions(field_boost=old[name].format.field_boost)
    packed = _index(tmp_path / "new", whoosh.make_schema(), texts).searcher()
    pickled = _index(tmp_path / "old", old, texts).searcher()
    assert type(pickled.schema["body"].format) is formats.Positions
    assert type(packed.schema["grams"].format).__name__ == "PackedPositions"
    expected = sorted(pickled.docs_for_query(query))  # Whoosh's own, on the old index
    assert sorted(packed.docs_for_query(query)) == expected
    assert matching.matching(pickled, query) == matching.matching(packed, query) == expected
    assert matching.scored(pickled, query) == matching.scored(packed, query)


def _block_protocols(searcher, fieldname: str, word: str) -> set[int]:
    """The pickle protocol of each stored block of a word's postings."""
    import zlib

    from whoosh.matching.wrappers import FilterMatcher

    protocols = set()
    for reader, _offset in searcher.reader().leaf_readers():
        btext = searcher.schema[fieldname].to_bytes(word)
        if (fieldname, btext) not in reader:
            continue
        m = reader.postings(fieldname, btext)
        m = m.child if isinstance(m, FilterMatcher) else m
        while m.is_active():
            data = m._postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
            protocols.add((zlib.decompress(data) if m._compression else data)[1])
            m._next_block()
    return protocols


def test_an_index_with_blocks_pickled_by_protocol_2_answers_as_one_with_protocol_5(
        tmp_path, monkeypatch):
    """Posting blocks are pickled with protocol 5, whose bytes unpickle without a call
    each; an index whose blocks Whoosh pickled with protocol 2 (built before) finds the
    same documents with the same scores, by this module's matching and Whoosh's own."""
    import pickle

    from whoosh.codec import whoosh3

    from search.backends import whoosh_positions

    texts = _texts()
    new = _index(tmp_path / "new", whoosh.make_schema(), texts).searcher()
    monkeypatch.setattr(whoosh3, "dumps", lambda obj, protocol=None: pickle.dumps(obj, 2))
    old = _index(tmp_path / "old", whoosh.make_schema(), texts).searcher()
    monkeypatch.undo()
    assert whoosh3.dumps is whoosh_positions._dumps
    # "the" is in every text: its body postings fill blocks in each segment.
    assert _block_protocols(new, "body", "the") == {whoosh_positions.PICKLE_PROTOCOL}
    assert _block_protocols(old, "body", "the") == {2}
    queries = [*(_phrase_query(p) for p in PHRASES + ["going concern"]),
               wq.Term("body", "the"), wq.And([wq.Term("body", "net"), wq.Term("body", "sales")]),
               spans.SpanNear2([wq.Term("body", "net"), wq.Term("body", "sales")], slop=4,
                               ordered=False)]
    found = []
    for query in queries:
        expected = sorted(old.docs_for_query(query))  # Whoosh's own, on the old index
        found.append(bool(expected))
        assert sorted(new.docs_for_query(query)) == expected, query
        assert matching.matching(new, query) == matching.matching(old, query) == expected, query
        assert matching.scored(new, query) == matching.scored(old, query), query
    # Some phrases are in no text ("the of the"); the first one, the word, the AND and
    # the proximity find documents, and so do most of the queries.
    assert found[0] and all(found[-3:]) and sum(found) > len(found) // 2


def test_a_check_says_when_the_index_keeps_pickled_positions(db, settings):
    from django.core import checks
    from whoosh import formats

    def said():
        return [m.msg for m in checks.run_checks() if m.id == "search.W002"]

    settings.SEARCH_BACKEND = "whoosh"
    whoosh.current_dir()  # a new index: every field, positions packed
    assert not said()
    old = whoosh.make_schema()
    old["body"].format = formats.Positions(field_boost=1.0)
    generation = settings.SEARCH_INDEX_DIR / "gen-1-1"
    generation.mkdir()
    wi.create_in(str(generation), old)
    whoosh._swap_in(settings.SEARCH_INDEX_DIR, generation)
    whoosh.close_searcher()
    (message,) = said()
    assert "positions of body in Whoosh's older" in message and "grams" not in message


def test_an_index_keeps_the_common_words_it_was_built_with(tmp_path):
    """Phrases are cut with the common words of the index's own schema, not the current
    COMMON_WORDS: an index built with another set still finds every phrase."""
    schema = whoosh.make_schema()
    schema.remove("grams")
    schema.add("grams", whoosh.CommonGrams({"sales"}))
    texts = ["net sales of the company grew", "the net sales grew", "sales grew"]
    searcher = _index(tmp_path / "ix", schema, texts).searcher()
    assert searcher.schema["grams"].common == {"sales"}  # read back from the index
    assert b"sales~grew" in set(searcher.reader().lexicon("grams"))
    assert b"of~the" not in set(searcher.reader().lexicon("grams"))
    for phrase, found in [("sales grew", [2]), ("net sales of the", [0]), ("of the", [0])]:
        query = _phrase_query(phrase)
        assert matching.matching(searcher, query) == found, phrase
        assert list(matching.scored(searcher, query)) == found, phrase


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "pickled"])
@pytest.mark.parametrize("seed", range(4))
def test_tokens_are_confirmed_at_any_offsets_as_a_plain_search_would(seed, packed):
    """The cover's offsets need not be 0, 1, 2...: both ways of confirming starts against
    the obvious test."""
    from search.backends.whoosh_matching import _at_offsets
    from tests.search.test_matching import _encoded

    rng = random.Random(seed)
    for _ in range(300):
        count = rng.randint(1, 4)
        offsets = sorted(rng.sample(range(6), count))
        lists = [sorted(rng.sample(range(400), rng.choice([1, 3, 20, 60, 200])))
                 for _ in range(count)]
        expected = any(all(s - offsets[0] + o in set(p) for o, p in zip(offsets, lists,
                                                                          strict=True))
                       for s in lists[0])
        assert _at_offsets([_encoded(p, packed) for p in lists], offsets) is expected
