"""The Whoosh engine's block matching (search.backends.whoosh_matching) answers exactly as
Whoosh's own matchers do: the same documents, the same BM25F scores, the same ranking; and
the results pages built on it count and page through every match."""
import pytest
from django.http import QueryDict
from whoosh import query as wq

from search.backends import whoosh
from search.backends import whoosh_matching as matching
from search.backends.whoosh_query import whoosh_query as translate
from search.filters import SearchRequest
from search.query import parse


@pytest.fixture
def search_backend(settings):
    """These tests are of the Whoosh engine's internals: Whoosh only."""
    settings.SEARCH_BACKEND = "whoosh"
    return "whoosh"


SEARCHES = [
    {"q": "revenue"},
    {"q": "macintosh revenue"},
    {"q": '"net sales"'},
    {"q": '"results of operations"'},
    {"q": "shareholder OR macintosh"},
    {"q": "revenue -macintosh -\"net sales\""},
    {"q": "macint*"},
    {"q": '"stock option"~5'},
    {"q": '"sales net revenue"~4'},
    {"q": '"apple macintosh"~12 revenue'},
    {"q": "form:10-Q revenue"},
    {"q": "cik:320193 stock"},
    {"q": "company:apple revenue"},
    {"q": "type:EX-27 revenue"},
    {"q": "revenue", "form": ["10-Q", "8-K"], "filed_from": "1997-01-01",
     "filed_to": "2024-12-31"},
    {"q": "revenue", "doc_type": "EX-99", "company": "320193"},
    {"q": "zzzznothing"},
    {"form": "10-Q"},
    {"filed_to": "2001-12-31"},
    {"q": "-revenue"},
]


def whoosh_query(params):
    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    req = SearchRequest.from_query(query)
    return translate(req, parse(req.q), [])


def whoosh_answer(searcher, query):
    """Whoosh's own ranking: [(docnum, score)] best first."""
    return [(docnum, score) for score, docnum in searcher.search(query, limit=None).top_n]


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: str(p))
def test_block_matching_finds_what_whoosh_finds(corpus, params):
    searcher = whoosh.searcher()
    query = whoosh_query(params)
    expected = sorted(searcher.docs_for_query(query))
    assert matching.matching(searcher, query, whoosh.columns(searcher)) == expected


# Scored: searches with words to rank by (only exclusions or filters list newest first).
@pytest.mark.parametrize("params", [p for p in SEARCHES if p.get("q", "-")[0] != "-"],
                         ids=lambda p: str(p))
def test_block_scores_and_ranking_are_whooshs(corpus, params):
    searcher = whoosh.searcher()
    query = whoosh_query(params)
    expected = whoosh_answer(searcher, query)
    scores = matching.scored(searcher, query, whoosh.columns(searcher))
    assert list(scores) == sorted(scores)  # docnum order, which ties keep
    assert scores == pytest.approx(dict(expected), rel=1e-12)
    assert whoosh.by_score(scores) == [docnum for docnum, _ in expected]


def test_a_long_date_range_reads_the_column_and_finds_the_same(corpus, monkeypatch):
    searcher = whoosh.searcher()
    query = whoosh_query({"q": "revenue", "filed_from": "1990-01-01", "filed_to": "2030-01-01"})
    before = matching.scored(searcher, query, whoosh.columns(searcher))
    monkeypatch.setattr(matching, "COLUMN_SCAN_TERMS", 0)
    assert matching.scored(searcher, query, whoosh.columns(searcher)) == before
    assert list(before) == sorted(searcher.docs_for_query(query)) and before


def test_queries_it_does_not_know_go_to_whoosh(api, corpus, monkeypatch):
    searcher = whoosh.searcher()
    with pytest.raises(matching.Unsupported):
        matching.scored(searcher, wq.Term("body", "revenue", boost=2.0))
    with pytest.raises(matching.Unsupported):
        matching.matching(searcher, wq.Wildcard("body", "rev?nue"))
    params = {"q": '"stock option"~5 revenue', "per_page": 100}
    ours = api(**params)

    def unsupported(*args):
        raise matching.Unsupported("test")

    monkeypatch.setattr(matching, "scored", unsupported)
    monkeypatch.setattr(matching, "matching", unsupported)
    whooshs = api(**params)
    assert ours["total"] > 0
    assert ours["results"] == whooshs["results"] and ours["facets"] == whooshs["facets"]
    newest = api(q="revenue", sort="newest", view="documents")  # unscored, by Whoosh
    assert newest["total"] == len(list(searcher.docs_for_query(whoosh_query({"q": "revenue"}))))


@pytest.mark.parametrize("q", ["revenue", '"net sales"', "macint*", "revenue -macintosh"])
def test_totals_are_the_count_of_every_match(api, corpus, q):
    searcher = whoosh.searcher()
    docnums = list(searcher.docs_for_query(whoosh_query({"q": q})))
    filings = {searcher.stored_fields(d)["accession"] for d in docnums}
    grouped = api(q=q)
    assert grouped["documents"] == len(docnums) and grouped["total"] == len(filings)
    assert sum(r["matching_documents"] for r in grouped["results"]) == len(docnums)


def _encoded(positions: list[int], packed: bool = False) -> bytes:
    """Positions as the index keeps them: packed (`PackedPositions`), or as an index
    built before it has them (whoosh.formats.Positions, the pickle's stop code cut)."""
    import pickle
    import struct

    from search.backends.whoosh_positions import PackedPositions

    if packed:
        return PackedPositions().encode(positions)
    deltas = [b - a for a, b in zip([0, *positions[:-1]], positions, strict=True)]
    return struct.pack("!I", len(positions)) + pickle.dumps(deltas, 2)[:-1]


@pytest.mark.parametrize("packed", [True, False], ids=["packed", "pickled"])
@pytest.mark.parametrize("seed", range(6))
def test_a_phrase_is_confirmed_as_a_plain_search_of_its_positions_would(seed, packed):
    """Both ways of confirming starts (binary search for a few, a set for many) against
    the obvious test, with words held once to hundreds of times, in positions kept in
    16 or 32 bits, and in an older index's pickles."""
    import random

    from search.backends.whoosh_matching import _consecutive

    rng = random.Random(seed)
    for _ in range(300):
        words = rng.randint(2, 4)
        base = rng.choice([0, 65_300])  # past 65,535: 32-bit positions
        lists = [sorted(rng.sample(range(base, base + 400), rng.choice([1, 3, 20, 60, 200])))
                 for _ in range(words)]
        expected = any(all(s + k in set(lists[k]) for k in range(words)) for s in lists[0])
        assert _consecutive([_encoded(p, packed) for p in lists]) is expected


@pytest.mark.parametrize("batch", [7, 2_000_000], ids=["small batches", "one batch"])
@pytest.mark.parametrize("seed", range(4))
def test_pairs_decided_at_once_are_those_decided_one_by_one(seed, batch, monkeypatch):
    """`pairs_at` and `pairs_near` (every candidate's positions in one array) against
    the one-document tests: two words held once to hundreds of times, far apart or
    interleaved, in 16 and 32 bits in one batch, shifted back past a document's start,
    and in batches of a few documents; an older index's pickles are left to the caller."""
    import random

    from search.backends import whoosh_positions
    from search.positions import pair_near

    monkeypatch.setattr(whoosh_positions, "PAIR_BATCH_BYTES", batch)
    rng = random.Random(seed)
    for _ in range(20):
        first, second = [], []
        for _ in range(rng.randint(1, 60)):
            base = rng.choice([0, 65_400, 2**32 - 600])
            span = rng.choice([12, 80, 500])
            positions = rng.sample(range(base, base + span), min(span, rng.choice([1, 4, 60])))
            cut = rng.randint(0, len(positions))
            a, b = sorted(positions[:cut]), sorted(positions[cut:])  # never the same place
            if not (a and b):
                a, b = a or [base + span], b or [base + span + 1]
            first.append(a)
            second.append(b)
        a_values = [_encoded(a, packed=True) for a in first]
        b_values = [_encoded(b, packed=True) for b in second]
        for shift in (1, 2, -3):
            expected = [i for i, (a, b) in enumerate(zip(first, second, strict=True))
                        if {p + shift for p in a} & set(b)]
            assert whoosh_positions.pairs_at(a_values, b_values, shift) == expected
        for slop in (1, 3, 9):
            for ordered in (False, True):
                expected = [i for i, (a, b) in enumerate(zip(first, second, strict=True))
                            if pair_near(a, b, slop, ordered, 1)]
                assert whoosh_positions.pairs_near(a_values, b_values, slop, ordered,
                                                   1) == expected
        pickled = [*a_values[:-1], _encoded(first[-1], packed=False)]
        assert whoosh_positions.pairs_at(pickled, b_values, 1) is None
        # Reaches past a key's room for a position: left to the caller too.
        assert whoosh_positions.pairs_near(a_values, b_values, 2**31, False, 1) is None
        assert whoosh_positions.pairs_at(a_values, b_values, -(2**31)) is None


@pytest.mark.parametrize("positions", [[0], [1, 2, 65_535], [7, 65_536], [2**32 - 1], []])
def test_packed_positions_read_back_as_written(positions):
    from search.backends.whoosh_positions import PackedPositions, position_list

    value = PackedPositions().encode(positions)
    assert list(position_list(value)) == positions
    assert PackedPositions().decode_positions(value) == positions
    assert PackedPositions().decode_frequency(value) == len(positions)
    assert len(value) == 5 + (2 if positions and positions[-1] < 65_536 else 4) * len(positions)


def test_results_carry_the_stored_fields_whoosh_reads(corpus, tmp_path):
    """Hits read each document's stored fields from its segment directly (a CSV export's
    rows), the same dicts as Whoosh's `stored_fields`: one segment, several (with a
    deletion, as a re-ingest leaves them) and none."""
    from whoosh import fields as wf
    from whoosh import index as wi

    reader = whoosh.searcher().reader()
    read = whoosh._stored_fields(reader)
    assert [read(d) for d in reader.all_doc_ids()] == [
        reader.stored_fields(d) for d in reader.all_doc_ids()]

    ix = wi.create_in(tmp_path, wf.Schema(key=wf.ID(stored=True, unique=True),
                                          form=wf.STORED, words=wf.TEXT))
    for batch in (["a", "b"], ["c"], ["d", "e"]):  # a commit each: a segment each
        with ix.writer(merge=False) as writer:
            for key in batch:
                writer.add_document(key=key, form=f"10-{key}", words=f"word {key}")
    with ix.writer(merge=False) as writer:
        writer.delete_by_term("key", "b")
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert len(reader.readers) == 3
        read = whoosh._stored_fields(reader)
        docs = list(reader.all_doc_ids())
        assert [read(d) for d in docs] == [reader.stored_fields(d) for d in docs]
        assert sorted(read(d)["key"] for d in docs) == ["a", "c", "d", "e"]
    (tmp_path / "empty").mkdir()
    empty = wi.create_in(tmp_path / "empty", wf.Schema(key=wf.ID(stored=True)))
    with empty.searcher() as searcher:
        assert whoosh._stored_fields(searcher.reader()) == searcher.reader().stored_fields


def test_the_body_counts_hold_the_bodys_documents_and_weights(corpus):
    """Every body word's postings without positions (`body_counts`): the same documents
    with the same weights as the body's, which ranking then reads instead."""
    reader = whoosh.searcher().reader()
    assert matching.COUNTS in reader.schema
    body = list(reader.lexicon("body"))
    assert len(body) > 1000 and list(reader.lexicon(matching.COUNTS)) == body
    for btext in body:
        expected = list(reader.postings("body", btext).items_as("weight"))
        assert list(reader.postings(matching.COUNTS, btext).items_as("weight")) == expected


def test_ranking_reads_the_body_counts_not_the_positions(corpus, monkeypatch):
    searcher = whoosh.searcher()
    query = whoosh_query({"q": "revenue stock"})
    expected = matching.scored(searcher, query)
    read = []
    leaf = type(searcher.reader().leaf_readers()[0][0])
    postings = leaf.postings
    monkeypatch.setattr(leaf, "postings", lambda self, name, btext, *args, **kw:
                        read.append(name) or postings(self, name, btext, *args, **kw))
    assert matching.scored(searcher, query) == expected
    assert read and set(read) == {matching.COUNTS}
    read.clear()  # a phrase needs the positions: the body's own postings
    matching.scored(searcher, whoosh_query({"q": '"net sales"'}))
    assert "body" in read


def test_an_index_without_body_counts_ranks_as_one_with_them(corpus, tmp_path):
    """An index built before the field reads the body's postings, as before: the same
    documents, the same scores. (Both indexes are built once, for every query.)"""
    from whoosh import index as wi

    from search.index import entries_for

    accessions = sorted({f["accession"] for f in whoosh.searcher().all_stored_fields()})
    old = whoosh.make_schema()
    old.remove(matching.COUNTS)
    searchers = []
    for name, schema in (("new", whoosh.make_schema()), ("old", old)):
        (tmp_path / name).mkdir()
        ix = wi.create_in(tmp_path / name, schema)
        with ix.writer() as writer:
            for entry in entries_for(accessions):
                writer.add_document(**whoosh._document(entry, schema))
        searchers.append(ix.searcher())
    with_counts, without = searchers
    assert matching.COUNTS not in without.schema
    for q in ["revenue", "macintosh revenue", '"net sales"', "macint*",
              '"results of operations" revenue', '"stock option"~5']:
        query = whoosh_query({"q": q})
        by_id = {}
        for searcher in searchers:
            scores = matching.scored(searcher, query)
            by_id[searcher] = {searcher.stored_fields(d)["id"]: s for d, s in scores.items()}
        assert by_id[without] and by_id[without] == by_id[with_counts], q


def test_a_check_says_when_the_index_lacks_the_body_counts(db, settings):
    from django.core import checks
    from whoosh import index as wi

    settings.SEARCH_BACKEND = "whoosh"
    whoosh.current_dir()
    assert not [m for m in checks.run_checks() if m.id == "search.W002"]
    old = whoosh.make_schema()
    old.remove(matching.COUNTS)
    generation = settings.SEARCH_INDEX_DIR / "gen-1-1"
    generation.mkdir()
    wi.create_in(str(generation), old)
    whoosh._swap_in(settings.SEARCH_INDEX_DIR, generation)
    whoosh.close_searcher()
    (warning,) = [m for m in checks.run_checks() if m.id == "search.W002"]
    assert "without the field(s) body_counts" in warning.msg
    assert "faster ranking (body_counts)" in warning.hint


def test_a_pages_filings_and_their_documents_come_from_the_ranking_as_before():
    # The Whoosh engine groups matches by filing with numpy (each match's filing as a
    # code), for a page and for an export: the same filings, in rank order, each with
    # its matches best first and their count, as grouping the ranked list itself.
    import random

    import numpy as np

    rng = random.Random(4)
    for _ in range(200):
        names = [f"0000000000-00-{n:06d}" for n in range(rng.randint(1, 30))]
        size = rng.randint(0, 200)
        filing = [rng.randrange(len(names)) for _ in range(size)]  # by docnum
        ranked = rng.sample(range(size), size)
        per_page, page = rng.choice([1, 2, 5, 20]), rng.randint(1, 4)
        members: dict[str, list[int]] = {}
        for docnum in ranked:
            members.setdefault(names[filing[docnum]], []).append(docnum)
        grouped = [(accession, docnums, len(docnums))
                   for accession, docnums in members.items()]
        order = np.array(ranked, dtype=np.int64)
        codes = {"accession": (np.array(filing, dtype=np.int32), names)}
        assert whoosh._leading_groups(order, codes) == [(a, d[:1], n) for a, d, n in grouped]
        filing_of, firsts, _ = whoosh._filings(order, codes)
        assert len(firsts) == len(grouped)
        start = (page - 1) * per_page
        assert whoosh._page_groups(order, filing_of, firsts[start : start + per_page],
                                   names) == grouped[start : start + per_page]


def test_field_lengths_read_at_once_are_whooshs_per_document_lengths(corpus):
    # The body's lengths, which BM25F reads, come from the segment's column of length
    # bytes at once: the same as Whoosh's doc_field_length(d, field, 1) or 1 for every
    # document, on every segment, including a field without lengths.
    import numpy as np

    searcher = whoosh.searcher()
    compared = 0
    for reader, _offset in searcher.reader().leaf_readers():
        for field in ("body", "company", "form"):
            expected = [reader.doc_field_length(d, field, 1) or 1
                        for d in range(reader.doc_count_all())]
            assert matching.field_lengths(reader, field).tolist() == expected, field
            compared += len(expected)
        assert len(set(np.unique(matching.field_lengths(reader, "body")).tolist())) > 10
    assert compared > 0


def test_field_lengths_of_documents_without_words_are_one(tmp_path):
    # A document whose body holds no word stores no length (byte 0; one past the
    # column's end, none at all): Whoosh gives the default, 1, and so must the column.
    from whoosh import index

    ix = index.create_in(str(tmp_path), whoosh.make_schema())
    with ix.writer() as writer:
        for body in ("", "alpha beta gamma", "", "delta " * 40, ""):
            writer.add_document(accession="0000000000-00-000001", body=body)
    with ix.searcher() as searcher:
        for reader, _offset in searcher.reader().leaf_readers():
            expected = [reader.doc_field_length(d, "body", 1) or 1
                        for d in range(reader.doc_count_all())]
            assert matching.field_lengths(reader, "body").tolist() == expected
            assert expected[0] == 1 and expected[-1] == 1 and max(expected) > 3
