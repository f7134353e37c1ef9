"""The engines agree: on the same data every search finds the same entries, with the same
totals and facet counts, whichever engine runs. And the PostgreSQL engine stays exact
where a tsvector cannot: long documents, common words, long phrases."""
import os
import re
import threading
import zlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from filings.models import Document, Filing
from search import backends
from search.backends import postgres
from search.backends.base import ResultPage
from search.filters import SearchRequest
from search.index import GRAM_SEPARATOR, common_grams
from search.query import highlight_pattern, parse
from search.results import _other_values, effective_sort
from tests.conftest import corpus_file
from tests.search.conftest import each_backend

SMALL_8K = "0000320193-99-000010.txt"
OTHER_FILING = "0001140361-25-045534.txt"  # any other small filing

QUERIES = [
    {"q": "revenue"},
    {"q": "macintosh revenue"},
    {"q": "revenue macintosh OR shareholder"},
    {"q": '"net sales"'},
    {"q": '"results of operations"'},
    {"q": '"of the"'},
    {"q": "shareholder OR macintosh"},
    {"q": 'revenue -macintosh -"net sales"'},
    {"q": "revenue NOT macintosh"},
    {"q": "macint*"},
    {"q": "lease*"},
    {"q": "re* -revenue"},
    {"q": '"stock option"~5'},
    {"q": '"option stock"~5'},
    {"q": '"sales net revenue"~4'},
    {"q": '"apple macintosh"~12 revenue'},
    {"q": '"net sales" OR "stock option"~3'},
    {"q": '-"stock option"~5 stock'},
    {"q": "form:10-Q revenue"},
    {"q": "form:10*"},
    {"q": "form:4 McGuirk"},
    {"q": "cik:320193 stock"},
    {"q": "cik:0000320193"},
    {"q": "company:apple revenue"},
    {"q": "company:isabella"},
    {"q": 'company:"apple computer"'},
    {"q": "type:EX-27 revenue"},
    {"q": "type:EX-10"},
    {"q": "10-K"},
    {"q": "ex-99.1"},
    {"q": "revenue", "form": ["10-Q", "8-K"], "filed_from": "1997-01-01",
     "filed_to": "2024-12-31"},
    {"q": "revenue", "doc_type": "EX-99", "company": "320193"},
    {"q": "revenue", "company": "apple computer"},
    {"q": "revenue", "company": "no such company zzz"},
    {"q": "zzzznothing"},
    {"form": "10-Q"},
    {"category": "ownership"},
    {"filed_to": "2001-12-31"},
    {"filed_from": "2020-01-01"},
    {"state_loc": "NY"},
    {"state_inc": "MI"},
    {"sic": "3571"},
    {"item": "2.02"},
    {"q": "-revenue"},
    {"q": "-revenue -macintosh form:10-Q"},
    # Issue 8: parentheses, facet parameters, categories that exclude, states by name.
    {"q": "macintosh OR (shareholder revenue)"},
    {"q": "revenue -(macintosh OR shareholder)"},
    {"q": "(stock OR shares) (option OR award)"},
    {"cik": ["320193", "796343"]},
    {"year": ["1997", "2024"], "q": "revenue"},
    {"category": "not-section16"},
    {"category": ["not-section16", "periodic"], "q": "stock"},
    {"category": "exempt"},
    {"state_inc": "california", "state_loc": ["CA", "michigan"]},
    {"doc_type": ["EX-10", "EX-27"], "q": "revenue"},
    {},
]


@pytest.fixture
def both(db, settings, search_dirs):
    """The package's corpus, as both engines index it."""
    if connection.vendor != "postgresql":
        pytest.skip("comparing the engines needs PostgreSQL (set DATABASE_URL)")
    for name, value in search_dirs.items():
        setattr(settings, name, value)


def request(params) -> SearchRequest:
    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return SearchRequest.from_query(query)


def answer(engine, params, view):
    req = request(params)
    parsed = parse(req.q)
    sort = effective_sort(req, parsed)
    page = engine.search(parsed, req, sort=sort, view=view, page=1, per_page=5)
    entries = [(h.accession, h.sequence) for h in
               engine.iter_results(parsed, req, sort=sort, view="documents")]
    return page, entries


@pytest.mark.parametrize("params", QUERIES, ids=str)
@pytest.mark.parametrize("view", ["filings", "documents"])
def test_both_engines_find_the_same_entries_totals_and_facets(both, params, view):
    answers = {name: answer(engine, params, view) for name, engine in each_backend()}
    (whoosh_page, whoosh_entries), (pg_page, pg_entries) = answers["whoosh"], answers["postgres"]
    assert (pg_page.documents, pg_page.filings) == (whoosh_page.documents, whoosh_page.filings)
    assert len(pg_entries) == len(set(pg_entries)) == pg_page.documents
    assert set(pg_entries) == set(whoosh_entries)
    # Facets: the same values with the same counts, in the same order (ties by value),
    # so the same values are cut off past FACET_SIZE.
    assert whoosh_page.facets.keys() == pg_page.facets.keys()
    for name, values in whoosh_page.facets.items():
        assert [tuple(x) for x in pg_page.facets[name]] == [tuple(x) for x in values], name
    if params.get("q") and whoosh_page.documents:
        assert pg_page.items, "a page of results"


def _outside_the_test_transaction(search):
    """`search()` run in another thread: its connection has no transaction open, so the
    search takes a snapshot of its own and counts its facets with the helper. (The
    package's corpus is committed: that connection sees it.)"""

    def run():
        try:
            return search()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def _page_summary(page):
    items = [(getattr(i, "accession", None), [(h.id, round(h.score, 9)) for h in i.hits])
             if hasattr(i, "hits") else (i.id, round(i.score, 9)) for i in page.items]
    return page.documents, page.filings, items, page.facets


@pytest.mark.parametrize("view", ["filings", "documents"])
def test_facets_counted_beside_the_page_equal_those_counted_with_it(both, settings, view,
                                                                    monkeypatch):
    settings.SEARCH_BACKEND = "postgres"
    engine = backends.get()
    used = []
    run = postgres._helper.run
    monkeypatch.setattr(postgres._helper, "run", lambda *a: used.append(a) or run(*a))
    compared = 0
    for params in QUERIES:
        req = request(params)
        parsed = parse(req.q)

        def search(parsed=parsed, req=req):
            return engine.search(parsed, req, sort=effective_sort(req, parsed), view=view,
                                 page=1, per_page=5)

        inline = search()  # in the test's transaction: one statement, as before
        assert not used
        beside = _outside_the_test_transaction(search)
        assert len(used) == 1, params
        used.clear()
        assert _page_summary(beside) == _page_summary(inline), params
        compared += bool(inline.facets.get("form"))
    assert compared > 30
    # While another search holds the helper, a search counts its facets itself.
    assert postgres._helper.acquire()
    try:
        req = request({"q": "revenue"})
        parsed = parse(req.q)
        alone = _outside_the_test_transaction(lambda: engine.search(
            parsed, req, sort="relevance", view=view, page=1, per_page=5))
    finally:
        postgres._helper.release()
    assert not used
    assert alone.facets["form"] and _page_summary(alone) == _page_summary(
        engine.search(parsed, req, sort="relevance", view=view, page=1, per_page=5))
    # Closed (as before the test database is dropped), it connects again when next used.
    postgres.close_helper()
    again = _outside_the_test_transaction(lambda: engine.search(
        parsed, req, sort="relevance", view=view, page=1, per_page=5))
    assert len(used) == 1 and _page_summary(again) == _page_summary(alone)


def test_facets_counted_after_the_search_returned_are_those_of_its_snapshot(both, settings,
                                                                          monkeypatch):
    """The helper's facets are waited for when first read (after the snippets), so the
    search's transaction may end before they are counted: they still count what the
    page was ranked from, not what was written since."""
    settings.SEARCH_BACKEND = "postgres"
    engine = backends.get()
    held, release = threading.Event(), threading.Event()
    in_snapshot = postgres._in_snapshot
    changed = "UPDATE search_entry SET form = 'CHANGED' WHERE form = '10-Q'"

    class Held:
        """The helper's `imported` event: once set, the helper waits to be released."""

        def __init__(self, event):
            self.event = event

        def set(self):
            if not self.event.is_set():
                self.event.set()
                held.set()
                if not release.wait(10):
                    raise AssertionError("the search waited for its facets to be counted")

    def helper(snapshot, sql, params, imported):
        # A write commits after the search took its snapshot, before the helper starts.
        connection.cursor().execute(changed)
        return in_snapshot(snapshot, sql, params, Held(imported))

    monkeypatch.setattr(postgres, "_in_snapshot", helper)
    req = request({"q": "revenue"})
    parsed = parse(req.q)
    expected = _page_summary(engine.search(parsed, req, sort="relevance", view="filings",
                                           page=1, per_page=5))
    assert dict(expected[3]["form"]).get("10-Q")
    try:
        found = _outside_the_test_transaction(lambda: engine.search(
            parsed, req, sort="relevance", view="filings", page=1, per_page=5))
        # The search has returned and its transaction is over; the helper holds its
        # snapshot and has not counted yet.
        assert held.is_set() and postgres._helper.lock.locked()
        release.set()
        assert _page_summary(found) == expected
    finally:
        release.set()
        _outside_the_test_transaction(lambda: connection.cursor().execute(
            "UPDATE search_entry SET form = '10-Q' WHERE form = 'CHANGED'"))


def test_facets_counted_later_are_waited_for_when_read_and_a_failure_stays_one():
    page = ResultPage(documents=3, filings=2)
    page.facets["form"] = [("10-K", 1)]  # a filtered facet's other values, with the page
    calls = []
    page.count_later(lambda: calls.append(1) or {"form": [("8-K", 2)], "year": [("2001", 2)]})
    assert not calls
    assert page.facets == {"form": [("10-K", 1)], "year": [("2001", 2)]}
    assert page.facets == {"form": [("10-K", 1)], "year": [("2001", 2)]} and calls == [1]

    def failed():
        raise RuntimeError("the helper's connection was lost")

    page.count_later(failed)
    for _ in range(2):  # never read back as merely the page's own facets
        with pytest.raises(RuntimeError):
            _ = page.facets
    page.facets = {}
    assert page.facets == {}


FILTERED = [{"q": "revenue", "form": "10-K"}, {"form": ["8-K", "10-Q"]},
            {"q": "net sales", "form": "10-Q", "year": "1997"},
            {"q": '"stock option"~5', "form": "10-K"}]


@pytest.mark.parametrize("view", ["filings", "documents"])
def test_a_filtered_facets_other_values_are_counted_within_the_search(both, settings, view):
    """`search(others=...)` counts each filtered facet without its own filter, as
    `facet_counts` does alone; every other facet is the search's own. On PostgreSQL
    also beside the helper, in the search's snapshot (outside the test transaction)."""
    counted = 0
    for name, engine in each_backend():
        for params in FILTERED:
            req = request(params)
            parsed = parse(req.q)
            others = _other_values(req)
            assert others, params

            def search(engine=engine, req=req, parsed=parsed, others=others):
                return engine.search(parsed, req, sort=effective_sort(req, parsed), view=view,
                                     page=1, per_page=5, others=others)

            plain = engine.search(parsed, req, sort=effective_sort(req, parsed), view=view,
                                  page=1, per_page=5)
            with CaptureQueriesContext(connection) as queries:
                runs = [search()]
            if name == "postgres":
                # What does not depend on the filters is read once for the whole search.
                for shared in ("SELECT EXISTS (SELECT 1 FROM search_entry WHERE NOT complete",
                               "SELECT DISTINCT c.entry_id FROM search_chunk c"):
                    assert sum(q["sql"].startswith(shared) for q in queries) <= 1, shared
                runs.append(_outside_the_test_transaction(search))
            for found in runs:
                for facet, values in found.facets.items():
                    if facet in others:
                        alone = engine.facet_counts(parsed, others[facet], view=view,
                                                    names=(facet,))[facet]
                        assert values == alone, (name, params, facet)
                        counted += values != plain.facets[facet]  # not merely the same
                    else:
                        assert values == plain.facets[facet], (name, params, facet)
                assert _page_summary(found)[:3] == _page_summary(plain)[:3]
    assert counted >= 2 * (len(FILTERED) - 1)


def test_a_forked_process_starts_its_own_facet_helper():
    # A web server forks its workers: a child has no helper thread, and a lock held at
    # the fork would otherwise stay held in the child for ever.
    assert postgres._helper.acquire()
    try:
        pid = os.fork()
        if pid == 0:  # the child: leave at once, touching nothing of the parent's
            os._exit(0 if postgres._helper.pool is None and postgres._helper.acquire()
                     else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        postgres._helper.release()
    assert os.waitstatus_to_exitcode(status) == 0


def test_totals_of_the_corpus_queries_are_not_trivial(both):
    # The comparison above means something only if the queries find things.
    found = [answer(backends.get(), p, "documents")[0].documents for p in QUERIES]
    assert sum(1 for n in found if n) > 30


# --- Exact where a tsvector is not -------------------------------------------------------------


def long_filing(ingest_paths, text: str) -> str:
    """The small 8-K with its document's text replaced, indexed by every engine."""
    ingest_paths(corpus_file(SMALL_8K))
    accession = "0000320193-99-000010"
    Document.objects.filter(filing__accession_number=accession).update(text=text)
    for _name, engine in each_backend():
        engine.update_filings([accession])
    return accession


def found_by(q: str, accession: str) -> dict[str, set]:
    """What each engine finds of this filing (the PostgreSQL engine also holds the
    package's corpus; this test's Whoosh index does not)."""
    req = request({"q": q})
    parsed = parse(req.q)
    return {
        name: {(h.accession, h.sequence) for h in engine.iter_results(
            parsed, req, sort="newest", view="documents") if h.accession == accession}
        for name, engine in each_backend()
    }


@pytest.fixture
def on_postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine needs PostgreSQL (set DATABASE_URL)")


def test_entry_ids_go_to_the_server_as_one_array_literal(on_postgres):
    # A phrase's thousands of matching entries are sent as one literal, not bound one
    # element at a time; each id is an int, so nothing else reaches the statement.
    ids = [2**40, 7, 1, 9_250]
    assert postgres._id_array(ids) == "{1099511627776,7,1,9250}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[], %s::bigint[]",
                       [postgres._id_array(ids), postgres._id_array([])])
        assert cursor.fetchone() == (ids, [])
    with pytest.raises(ValueError):
        postgres._id_array([1, "2}, {3"])
    # Kept frequencies (-1: not kept) go as one literal too, made from a table.
    frequencies = np.array([-1, 0, 32, 7], np.int16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::int2[], %s::int2[]", [
            postgres._int_array(frequencies), postgres._int_array(frequencies[:0])])
        assert cursor.fetchone() == ([-1, 0, 32, 7], [])


FILLER = "the board of directors of the company reviewed the state of the business. "


def test_phrases_past_16383_words_and_256_occurrences_are_found(on_postgres, ingest_paths):
    # 'of' a thousand times and the phrases only at the end, past 42,000 words: a single
    # tsvector would have lost every position they need.
    text = FILLER * 3000 + "Our results of operations improved; stock awards and option grants."
    accession = long_filing(ingest_paths, text)
    entry = (accession, 1)
    for q, expected in [
        ('"results of operations"', True),
        ('"stock awards and option"', True),
        ('"stock option"~3', True),
        ('"option stock"~3', True),
        ('"stock option"~2', False),
        ('"awards option grants"~2', True),  # three words: decided from the positions
        ('"operations of results"', False),
        ('"board of directors of the company"', True),
        ('"directors of the business"', False),
    ]:
        answers = found_by(q, accession)
        assert (entry in answers["postgres"]) is expected, q
        assert answers["postgres"] == answers["whoosh"], q


def test_a_phrase_across_a_chunk_boundary_is_found(on_postgres, ingest_paths):
    # "the" ends each chunk at its 256th occurrence; the numbered words are unique.
    text = " ".join(f"the w{i}" for i in range(2000))
    tokens = postgres.analyse(text)
    chunks, span = postgres.chunk_vectors(tokens)
    end = max(int(p) for item in chunks[0][1].split(" ") for p in item.split(":")[1].split(","))
    assert len(chunks) > 2 and chunks[1][0] < end - 2  # the next chunk overlaps the end
    phrase = " ".join(tokens[end - 2 : end + 2])  # two words either side of it
    assert phrase.count(" w") == 2
    accession = long_filing(ingest_paths, text)
    answers = found_by(f'"{phrase}"', accession)
    assert answers["postgres"] == answers["whoosh"] == {(accession, 1)}


def test_words_apart_by_a_run_of_spaces_are_near_and_highlighted(on_postgres, ingest_paths):
    # A plain-text EDGAR table pads its columns with spaces: the engines count words, and
    # so does the highlighting of a proximity clause.
    text = "Granted stock" + " " * 200 + "option awards; a lone stock " + "x " * 20 + "option"
    accession = long_filing(ingest_paths, text)
    answers = found_by('"stock option"~1', accession)
    assert answers["postgres"] == answers["whoosh"] == {(accession, 1)}
    pattern = highlight_pattern('"stock option"~1')
    assert [m.group() for m in pattern.finditer(text)] == ["stock", "option"]
    assert [m.start() for m in pattern.finditer(text)] == [8, 213]


def test_a_phrase_longer_than_the_overlap_is_confirmed_from_positions(on_postgres,
                                                                      ingest_paths):
    # One word over and over: a chunk holds 256 of it, neighbours share 128.
    accession = long_filing(ingest_paths, "tick " * 3000 + "tock")
    chunks, span = postgres.chunk_vectors(postgres.analyse("tick " * 3000 + "tock"))
    assert len(chunks) > 10 and span < 150
    for q, expected in [(" ".join(["tick"] * 150) + " tock", True),
                        ("tock " + " ".join(["tick"] * 150), False),
                        ('"tick tock"~1', True)]:
        answers = found_by(f'"{q}"' if "~" not in q else q, accession)
        assert ((accession, 1) in answers["postgres"]) is expected, q[:30]
        assert answers["postgres"] == answers["whoosh"], q[:30]


def test_an_entry_too_big_for_one_vector_is_searched_in_its_chunks(on_postgres, ingest_paths,
                                                                   monkeypatch):
    monkeypatch.setattr(postgres, "WORDS_BYTES", 2000)
    text = " ".join(f"w{i}" for i in range(3000)) + " " + FILLER
    accession = long_filing(ingest_paths, text)
    with connection.cursor() as cursor:
        cursor.execute("SELECT complete FROM search_entry WHERE accession = %s", [accession])
        assert cursor.fetchone() == (False,)
    entry = (accession, 1)
    for q, expected in [("w5", True), ("w5 w2999", True), ("w5 -w2999", False),
                        ('"w5 w6"', True), ('"w6 w5"', False), ("w2*", True),
                        ("-w5", False), ("w5 OR nothingzz", True), ('"w5 w9"~4', True)]:
        answers = found_by(q, accession)
        assert (entry in answers["postgres"]) is expected, q
        assert answers["postgres"] == answers["whoosh"], q


def rum_offered() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions "
                       "WHERE name = 'rum')")
        return cursor.fetchone()[0]


def test_the_chunks_have_a_rum_index_where_the_server_offers_rum(on_postgres):
    if not rum_offered():
        pytest.skip("this PostgreSQL server has no RUM extension (postgresql-15-rum)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
                       "WHERE indexrelid = to_regclass(%s)", [postgres.RUM_INDEX])
        valid, definition = cursor.fetchone()
    assert valid and definition.endswith("USING rum (words)"), definition


def postgres_answer(q: str):
    """The PostgreSQL engine's translation of a search, its totals (documents, filings)
    and every entry it finds."""
    req = request({"q": q})
    parsed = parse(req.q)
    with connection.cursor() as cursor:
        translation = postgres._Translation(cursor, parsed, req, [])
    page = postgres.PostgresBackend().search(parsed, req, sort="relevance", view="filings",
                                             page=1, per_page=10)
    entries = {(h.accession, h.sequence) for h in postgres.PostgresBackend().iter_results(
        parsed, req, sort="newest", view="documents")}
    return translation, (page.documents, page.filings), entries


def test_phrases_found_through_the_rum_index_are_those_found_without_it(on_postgres,
                                                                       ingest_paths):
    # The index is optional: a server without RUM tests each candidate's chunks, and
    # both ways find the same entries (long text: phrases past 16,383 words, a proximity
    # past 256 occurrences, a phrase longer than the chunks' overlap; and the corpus's).
    if not rum_offered():
        pytest.skip("this PostgreSQL server has no RUM extension (postgresql-15-rum)")
    accession = long_filing(ingest_paths, FILLER * 3000 + "Our results of operations "
                            "improved; stock awards and option grants. " + "tick " * 600)
    queries = ['"results of operations"', '"operations of results"', '"stock option"~3',
               '"option stock"~2', '"of the company"', '"board of directors"~1 -"of the"',
               '"net sales" OR "stock option"~5', '"' + " ".join(["tick"] * 300) + '"',
               '"awards option grants"~2', 'company:"apple computer"', '"going concern"']

    def everything(q):
        translation, totals, entries = postgres_answer(q)
        return translation.rum, totals, entries

    with_rum = {q: everything(q) for q in queries}
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f"DROP INDEX {postgres.RUM_INDEX}")
    without = {q: everything(q) for q in queries}
    for q in queries:
        assert with_rum[q][0] and not without[q][0], q
        assert with_rum[q][1:] == without[q][1:], q
    assert sum(1 for q in queries if (accession, 1) in with_rum[q][2]) == 7
    assert sum(1 for q in queries if with_rum[q][2] - {(accession, 1)}) >= 3


def test_a_check_says_when_rum_is_offered_but_the_chunks_have_no_rum_index(on_postgres,
                                                                          settings):
    if not rum_offered():
        pytest.skip("this PostgreSQL server has no RUM extension (postgresql-15-rum)")
    settings.SEARCH_BACKEND = "postgres"

    def said():
        return [m for m in checks.run_checks() if m.id == "search.I003"]

    assert not said()
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f"DROP INDEX {postgres.RUM_INDEX}")
    (message,) = said()
    assert "migrate search 0009" in message.hint
    settings.SEARCH_BACKEND = "whoosh"  # the Whoosh engine reads no chunks
    assert not said()


def test_a_rebuild_writes_without_the_rum_index_and_builds_it_again(on_postgres,
                                                                    ingest_paths):
    # Kept up to date row by row, the index made writing three times slower.
    if not rum_offered():
        pytest.skip("this PostgreSQL server has no RUM extension (postgresql-15-rum)")
    ingest_paths(corpus_file(SMALL_8K), corpus_file(OTHER_FILING))

    def rum_index():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = "
                           "to_regclass(%s)", [postgres.RUM_INDEX])
            return cursor.fetchone()

    during = []
    stats = postgres.PostgresBackend().rebuild(batch=1, progress=lambda n: during.append(
        rum_index()))
    assert stats["filings"] >= 2 and len(during) == stats["filings"]
    assert set(during) == {None}
    assert rum_index() == (True,)
    assert found_by('"macintosh"', "0000320193-99-000010")["postgres"]


def test_chunks_hold_every_position_within_a_tsvectors_limits():
    tokens = postgres.analyse(FILLER * 3000 + "x " * 700)
    grams = common_grams(tokens)
    chunks, span = postgres.chunk_vectors(tokens, grams)
    covered, grams_covered = set(), set()
    for start, text in chunks:
        lexemes = [item.rsplit(":", 1) for item in text.split(" ")]
        for word, positions in lexemes:
            positions = [int(p) for p in positions.split(",")]
            assert len(positions) <= postgres.MAX_OCCURRENCES
            assert max(positions) <= postgres.MAX_POSITIONS
            for p in positions:
                at = start + p - 1
                if GRAM_SEPARATOR in word:  # a common word and the next, at the first's
                    assert word.strip("'") == f"{tokens[at]}{GRAM_SEPARATOR}{tokens[at + 1]}"
                    grams_covered.add(at)
                else:
                    assert tokens[at] == word.strip("'")
                    covered.add(at)
    assert covered == set(range(len(tokens)))
    assert grams_covered == {p for p, _ in grams} and len(grams) > 10_000
    # Any `span` consecutive words lie whole in one chunk.
    ends = [start + max(int(p) for item in text.split(" ")
                        for p in item.rsplit(":", 1)[1].split(","))
            for start, text in chunks]
    windows = list(zip([s for s, _ in chunks], ends, strict=True))
    for first in range(0, len(tokens) - span):
        assert any(s <= first and first + span <= e for s, e in windows), first


def test_phrases_through_common_words_are_asked_through_their_grams(on_postgres,
                                                                   ingest_paths, settings):
    # The chunks hold "of~operations" at the position of "of": such a phrase is asked
    # of the grams' short position lists, and finds what asking word by word finds, with
    # the RUM index or without it, and in entries written before the grams.
    accession = long_filing(ingest_paths, FILLER * 3000 + "Our results of operations "
                            "improved in the year; the sale of the company. Results of")
    queries = ['"results of operations"', '"of the company"', '"the state of the"',
               '"in the year"', '"directors of"', '"of the" -"results of operations"',
               '"the business the board"', '"results of"', 'company:"apple computer"']

    def everything(q):
        translation, totals, entries = postgres_answer(q)
        asked = [translation._phrase(c.words, "b") for g in translation.parsed.groups
                 for c in g if c.kind == "phrase" and c.field == "body"]
        return asked, totals, entries

    settings.SEARCH_BACKEND = "postgres"
    assert not [m for m in checks.run_checks() if m.id == "search.W003"]
    through_grams = {q: everything(q) for q in queries}
    assert through_grams['"results of operations"'][0] == ["'results' <1> 'of~operations'"]
    assert through_grams['"the business the board"'][0] == [
        "'the~business' <2> 'the~board'"]  # "business" is in the first gram
    for q in queries:  # and what the Whoosh engine finds
        assert len({frozenset(e) for e in found_by(q, accession).values()}) == 1, q
    answers = [through_grams]
    with connection.cursor() as cursor:  # undone with the test's transaction
        if rum_offered():
            cursor.execute(f"DROP INDEX {postgres.RUM_INDEX}")
            answers.append({q: everything(q) for q in queries})
        cursor.execute("UPDATE search_entry SET grams = '' WHERE accession = %s", [accession])
    (warning,) = [m for m in checks.run_checks() if m.id == "search.W003"]
    assert "rebuild_index" in warning.hint
    word_by_word = {q: everything(q) for q in queries}
    assert word_by_word['"results of operations"'][0] == ["'results' <-> 'of' <-> 'operations'"]
    for q in queries:
        for answer in answers:
            assert answer[q][1:] == word_by_word[q][1:], q
    found = [q for q in queries if (accession, 1) in word_by_word[q][2]]
    assert len(found) == 8, found


def test_long_words_are_stored_as_a_digest_and_still_found(on_postgres, ingest_paths):
    word = "z" * 600
    accession = long_filing(ingest_paths, f"a {word} b")
    assert len(postgres.lexeme(word).encode()) < postgres.LONG_WORD
    answers = found_by(word, accession)
    assert answers["postgres"] == answers["whoosh"] == {(accession, 1)}


def _ranked(params) -> list[tuple]:
    req = request(params)
    engine = backends.get()
    page = engine.search(parse(req.q), req, sort="relevance", view="documents", page=1,
                         per_page=1000)
    return [(h.accession, h.sequence, round(h.score, 9)) for h in page.items]


def _ranking_plan(params) -> str:
    """EXPLAIN (VERBOSE) of the statement that ranks a search's matches (its facets
    counted apart, as outside a transaction)."""
    statements = []

    def keep(execute, sql, params, many, context):
        if sql.startswith("WITH"):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    req = request(params)
    with connection.execute_wrapper(keep):
        assert backends.get().search(parse(req.q), req, sort="relevance", view="documents",
                                     page=1, per_page=1000, facets=False).items
    sql, params = statements[-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (VERBOSE) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_ranking_arithmetic_is_float8_not_numeric(both, settings):
    # An untyped constant with a decimal point is `numeric` in PostgreSQL, and `numeric`
    # arithmetic on every match's length was a tenth of a common word's search.
    settings.SEARCH_BACKEND = "postgres"
    plan = _ranking_plan({"q": "net sales"})
    assert "ts_rank" in plan and "length" in plan
    assert "numeric" not in plan


@pytest.mark.parametrize("q", ["net sales", '"results of operations"', '"stock option"~5'])
def test_the_matches_are_read_for_ranking_with_the_covering_indexs_columns_only(both,
                                                                               settings, q):
    # Every column the ranking reads of a match is in search_entry_form (form) INCLUDE
    # (accession, id, length): matches listed by id (a phrase found in the RUM index)
    # can then be read from that index without their rows. The whole vector, for an
    # entry without search_tf rows, is read by id where it is needed.
    settings.SEARCH_BACKEND = "postgres"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(to_regclass('search_entry_form'))")
        assert cursor.fetchone()[0].endswith("(form) INCLUDE (accession, id, length)")
    lines = _ranking_plan({"q": q}).splitlines()
    read = []
    for n, line in enumerate(lines):
        scan = re.search(r" on public\.search_entry (\w+)\b", line)
        if scan and not re.fullmatch(r"x(_\d+)?", scan[1]):  # x: a whole vector, by id
            (output,) = [v for v in lines[n + 1 :] if v.strip().startswith("Output:")][:1]
            read.append(set(re.findall(rf"\b{scan[1]}\.(\w+)", output)))
    assert read and all(columns <= {"id", "accession", "length"} for columns in read), read


def test_ranking_reads_a_words_bucket_and_scores_as_the_whole_vector_does(both):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT entry_id) FROM search_tf")
        rows, entries = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM search_entry WHERE complete")
        assert entries == cursor.fetchone()[0] > 0
        assert rows == entries * postgres.BUCKETS
    queries = [{"q": "revenue"}, {"q": "net sales"}, {"q": "apple OR microsoft"},
               {"q": '"results of operations"'}, {"q": "stock -option"}, {"q": "revenu*"}]
    from_buckets = [_ranked(params) for params in queries]
    assert all(from_buckets) and any(score for r in from_buckets for *_, score in r)
    assert not [m for m in checks.run_checks() if m.id == "search.W004"]
    with connection.cursor() as cursor:
        # As entries written before migration 0013 wrote them: their words in 16
        # buckets, 0..15, by the word's CRC-32.
        cursor.execute("SELECT t.entry_id, u.lexeme, coalesce(array_length(u.positions, "
                       "1), 0) FROM search_tf t, unnest(t.words) u")
        old: dict[tuple[int, int], list[str]] = {}
        for entry_id, word, count in cursor.fetchall():
            old.setdefault((entry_id, zlib.crc32(word.encode()) % 16), []).append(
                f"'{word}'{postgres._POSITIONS[count]}")
        assert len({b for _, b in old}) == 16
        cursor.execute("DELETE FROM search_tf")
        cursor.executemany("INSERT INTO search_tf (entry_id, bucket, words) VALUES "
                           "(%s, %s, %s::tsvector)",
                           [(e, b, " ".join(words)) for (e, b), words in old.items()])
        cursor.execute("SELECT min(bucket), max(bucket) FROM search_tf")
        assert cursor.fetchone() == (0, 15)
    assert [_ranked(params) for params in queries] == from_buckets
    (warning,) = [m for m in checks.run_checks() if m.id == "search.W004"]
    assert "rebuild_index" in warning.hint
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_tf")  # as entries written before the table
    assert [_ranked(params) for params in queries] == from_buckets


KEPT_QUERIES = [{"q": '"results of operations"'}, {"q": '"net sales"'},
                {"q": '"stock option"~5'}, {"q": '"net sales" OR revenue'}]


def _partition_reads(statements) -> int:
    return sum("FROM search_tf t WHERE t.bucket" in sql for sql in statements)


def _keeping(monkeypatch, keep: bool):
    """Whether this process keeps the frequencies of the searched words (however few
    the entries in the package's corpus), starting with none kept."""
    postgres._kept.clear()
    monkeypatch.setattr(postgres, "KEPT_LEAST", 0 if keep else 10**9)
    monkeypatch.setattr(postgres, "KEPT_SHARE", 0 if keep else 1)


def test_a_phrases_matches_are_ranked_from_kept_frequencies_as_from_the_table(
        both, settings, monkeypatch):
    if not rum_offered():
        pytest.skip("the matches are known beforehand only from the RUM index")
    settings.SEARCH_BACKEND = "postgres"
    _keeping(monkeypatch, False)
    looked_up = [_ranked(params) for params in KEPT_QUERIES]
    assert all(looked_up) and postgres._kept._bytes == 0
    _keeping(monkeypatch, True)
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        assert [_ranked(params) for params in KEPT_QUERIES] == looked_up
    # Each word's partition read once, whatever the queries that rank it.
    words = {"results", "of", "operations", "net", "sales", "stock", "option", "revenue"}
    assert _partition_reads(statements) == len(words) == len(postgres._kept._words)
    assert any("LEFT JOIN unnest(" in sql for sql in statements)
    statements.clear()
    with connection.cursor() as cursor:  # from now on, only what was kept can rank them
        cursor.execute("UPDATE search_tf SET words = ''")
    with connection.execute_wrapper(keep):  # (the OR's other matches are looked up)
        assert [_ranked(params) for params in KEPT_QUERIES[:3]] == looked_up[:3]
    assert _partition_reads(statements) == 0
    # An excluded phrase's entries are not ranked: nothing is read or joined for them.
    statements.clear()
    postgres._kept.clear()
    with connection.execute_wrapper(keep):
        assert _ranked({"q": 'revenue -"results of operations"'})
    assert _partition_reads(statements) == 0 and not postgres._kept._words
    assert not any("LEFT JOIN unnest(" in sql for sql in statements)
    # Another table (here truncated, in the test's transaction) forgets them, at the
    # next search's first look at the table.
    assert _ranked(KEPT_QUERIES[0]) and postgres._kept._words
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE search_entry CASCADE")
        postgres._frequencies(cursor, [postgres.quoted("of")])
    assert not postgres._kept._words and postgres._kept._bytes == 0


def test_an_entry_written_after_the_frequencies_were_kept_is_looked_up(
        on_postgres, ingest_paths, settings, monkeypatch):
    if not rum_offered():
        pytest.skip("the matches are known beforehand only from the RUM index")
    settings.SEARCH_BACKEND = "postgres"
    accession = long_filing(ingest_paths, "results of operations " * 3 + "operations")
    _keeping(monkeypatch, True)
    before = _ranked({"q": '"results of operations"'})
    assert accession in {row[0] for row in before} and "results" in postgres._kept._words
    postgres.PostgresBackend().update_filings([accession])  # new entries, not kept
    monkeypatch.setattr(postgres, "KEPT_LEAST", 10**9)  # and the words not read again
    kept = _ranked({"q": '"results of operations"'})
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM search_entry WHERE accession = %s", [accession])
        new = np.array(sorted(row[0] for row in cursor.fetchall()), np.int64)
    assert (postgres._kept._among(postgres._kept._words["results"], new) == -1).all()
    assert kept == before
    _keeping(monkeypatch, False)
    assert _ranked({"q": '"results of operations"'}) == before


def test_kept_frequencies_stay_within_their_bytes(on_postgres, ingest_paths, monkeypatch):
    long_filing(ingest_paths, "alpha beta gamma")
    monkeypatch.setattr(postgres, "KEPT_LEAST", 0)
    monkeypatch.setattr(postgres, "KEPT_SHARE", 0)
    kept = postgres._KeptFrequencies()
    entries = np.array([0], np.int64)
    with connection.cursor() as cursor:
        assert kept.frequencies(cursor, "alpha", entries, 1, 1).tolist() == [-1]
        kept.budget = 2 * kept._bytes - 1  # room for one word's
        for word in ["beta", "gamma"]:
            assert kept.frequencies(cursor, word, entries, 1, 1) is not None
    assert list(kept._words) == ["gamma"] and 0 < kept._bytes <= kept.budget


def test_flush_leaves_no_entries_behind(on_postgres, ingest_paths):
    long_filing(ingest_paths, "some text")
    Filing.objects.all().delete()  # as `flush` does, without telling the index
    assert postgres.remove_orphans() >= 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_entry")
        assert cursor.fetchone() == (0,)


def test_sqlite_has_no_postgres_tables_and_refuses_the_engine(db, settings):
    if connection.vendor != "sqlite":
        pytest.skip("about SQLite deployments")
    from django.apps import apps

    models = {m._meta.db_table for m in apps.get_app_config("search").get_models()}
    tables = connection.introspection.table_names()
    assert not [t for t in tables if t.startswith("search_") and t not in models]
    assert "search_entry" not in tables  # (the saved searches' table is the app's model)
    settings.SEARCH_BACKEND = "postgres"
    with pytest.raises(ImproperlyConfigured, match="needs PostgreSQL"):
        backends.get()


def _frequency(word: str) -> int:
    with connection.cursor() as cursor:
        postgres._statistics(cursor)
        return postgres._frequencies(cursor, [postgres.quoted(word)])[0]


def test_word_frequencies_are_remembered_until_the_index_changes(on_postgres, ingest_paths):
    postgres.cursor_stats_reset()
    accession = long_filing(ingest_paths, "zygote one")
    assert _frequency("zygote") == 1
    with connection.cursor() as cursor:  # the figure is remembered: not counted again
        cursor.execute("UPDATE search_entry SET words = '' WHERE words @@ 'zygote'")
    assert _frequency("zygote") == 1
    # Any entry written (by any process: new entries get higher ids) forgets them all.
    ingest_paths(corpus_file(OTHER_FILING))
    assert _frequency("zygote") == 0
    # So does a removal in this process, of entries older than the newest.
    other = Filing.objects.exclude(accession_number=accession).first().accession_number
    backends.get().update_filings([accession])  # its words again, from its text
    backends.get().update_filings([other])  # now the newest entries
    assert _frequency("zygote") == 1
    backends.get().remove_filings([accession])
    assert _frequency("zygote") == 0


def test_a_search_runs_without_jit_and_sorts_in_memory(on_postgres):
    with postgres._snapshot(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem'), "
                       "current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("off", "32MB", "off")


@pytest.mark.parametrize("q", ["revenue", "the", "net sales"])
def test_a_word_is_found_through_the_index_never_by_reading_every_entry(both, q):
    # Testing an entry's words decompresses its whole vector: reading every entry for a
    # common word cost five times its index (the planner sees no difference).
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    req = request({"q": q})
    with connection.execute_wrapper(keep):
        postgres.PostgresBackend().search(parse(q), req, sort="relevance", view="filings",
                                          page=1, per_page=10)
    sql, params = max(statements, key=lambda s: len(s[0]))
    with postgres._snapshot(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "search_entry_words" in plan and "Seq Scan on search_entry" not in plan, plan


def test_did_you_mean_counts_words_in_a_searchs_settings(both):
    # Its count of a common word's entries would otherwise scan the table too.
    seen = []

    def settings_then(execute, sql, params, many, context):
        if "count(*) FROM search_entry e WHERE e.words @@" in sql:
            seen.append(context["connection"].connection.execute(
                "SELECT current_setting('enable_seqscan')").fetchone()[0])
        return execute(sql, params, many, context)

    postgres._frequency_cache.clear()
    with connection.execute_wrapper(settings_then):
        counts = postgres.PostgresBackend().doc_frequency(["revenue", "zzqnothing"])
    assert counts["revenue"] > 0 and counts["zzqnothing"] == 0
    assert seen == ["off"]


def test_every_vector_column_is_compressed_alike(on_postgres):
    # LZ4 where the server has it (ranking decompresses a search_tf row per match).
    # search_tf's partitions too: a partition does not take its table's setting.
    with connection.cursor() as cursor:
        cursor.execute("SELECT attrelid::regclass::text, attcompression FROM pg_attribute "
                       "WHERE attname = 'words' AND attrelid IN ('search_entry'::regclass, "
                       "'search_chunk'::regclass, 'search_tf'::regclass) OR attname = 'words' "
                       "AND attrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = "
                       "'search_tf'::regclass)")
        methods = dict(cursor.fetchall())
    partitions = postgres.OLD_BUCKETS + postgres.BUCKETS
    assert len(methods) == 3 + partitions and len(set(methods.values())) == 1, methods


def test_a_words_frequencies_are_stored_in_its_buckets_partition(on_postgres, ingest_paths):
    # One partition per bucket (migration 0008): ranking a word reads one partition,
    # whose rows lie together, not an entry's sixteen rows spread over the whole table.
    ingest_paths(corpus_file(SMALL_8K))
    postgres.PostgresBackend().update_filings(["0000320193-99-000010"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'search_tf'::regclass")
        assert cursor.fetchone()[0] == postgres.OLD_BUCKETS + postgres.BUCKETS
        word = "macintosh"
        cursor.execute(f"SELECT count(*) FROM search_tf_{postgres.bucket(word)} "
                       "WHERE words @@ %s::tsquery", [postgres.quoted(word)])
        assert cursor.fetchone()[0] > 0
        cursor.execute("SELECT count(*) FROM search_tf WHERE words @@ %s::tsquery AND "
                       "bucket <> %s", [postgres.quoted(word), postgres.bucket(word)])
        assert cursor.fetchone()[0] == 0


def test_an_entrys_facets_array_holds_its_facet_columns_values(on_postgres, ingest_paths):
    # Migration 0009's generated column: what a whole search's facets count, one array
    # per entry instead of eight columns; empty values left out.
    ingest_paths(corpus_file(SMALL_8K), corpus_file(OTHER_FILING))
    postgres.PostgresBackend().update_filings(["0000320193-99-000010", "0001140361-25-045534"])
    columns = [column for column, _ in postgres._LEADER_FACETS.values()]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT facets, {', '.join(columns)} FROM search_entry")
        rows = cursor.fetchall()
    assert rows
    for facets, *values in rows:
        expected = [f"{name}:{value}" for (name, (_, multi)), held
                    in zip(postgres._LEADER_FACETS.items(), values, strict=True)
                    for value in (held if multi else [held]) if value]
        assert sorted(facets) == sorted(expected)
        assert any(v.startswith("form:") for v in facets)
        assert any(v.startswith("company:") for v in facets)


def _record_tiered(engine, monkeypatch) -> list:
    """What each call of the engine's `_tiered_page` returned (None: not settled), in a
    list that the caller may clear."""
    returned = []
    tiered = engine._tiered_page

    def recorded(*args):
        returned.append(tiered(*args))
        return returned[-1]

    monkeypatch.setattr(engine, "_tiered_page", recorded)
    return returned


TIERED = [{"q": "revenue"}, {"q": "net sales"}, {"q": "stock"}, {"q": "apple"},
          {"q": "revenue macintosh OR shareholder"}, {"q": "company"},
          {"q": "macint* sales"}, {"q": "revenue", "form": "10-Q"}, {"q": "the"}]
POSITIONAL = [{"q": '"results of operations"'}, {"q": '"net sales"~3'},
              {"q": '"stock option"~5 apple'}]


@pytest.mark.parametrize("rum", ["rum", "no rum"])
@pytest.mark.parametrize("view", ["filings", "documents"])
def test_pages_ranked_by_tiers_are_those_ranked_from_every_match(both, settings, view, rum,
                                                                 monkeypatch):
    """A page settled among the entries where a word is dense (`_tiered_page`) is the
    page ranked from every match: the same results, scores, order, counts and facets.
    Phrases and proximity are ranked by tiers only where the RUM index (optional) has
    not already found their matches."""
    settings.SEARCH_BACKEND = "postgres"
    engine = backends.get()
    if rum == "no rum":
        with connection.cursor() as cursor:  # undone with the test's transaction
            cursor.execute(f"DROP INDEX IF EXISTS {postgres.RUM_INDEX}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {postgres.RUM_READY}")
        (found_by_rum,) = cursor.fetchone()
    settled = _record_tiered(engine, monkeypatch)
    # The corpus is small: its common words are in most entries, which would leave them
    # out of the tiers.
    monkeypatch.setattr(postgres, "BROAD", 1.0)
    compared = Counter()
    for params in TIERED + POSITIONAL:
        req = request(params)
        parsed = parse(req.q)
        for per_page in (1, 4):
            for page in (1, 3):
                def search(parsed=parsed, req=req, page=page, per_page=per_page):
                    found = engine.search(parsed, req, sort="relevance", view=view,
                                          page=page, per_page=per_page)
                    return _page_summary(found), [getattr(i, "count", 1) for i in found.items]

                settled.clear()
                by_tiers = search()
                monkeypatch.setattr(postgres, "TIERED", False)
                try:
                    assert search() == by_tiers, (params, page, per_page)
                finally:
                    monkeypatch.setattr(postgres, "TIERED", True)
                compared[params in POSITIONAL] += any(r is not None for r in settled)
    assert compared[False] >= 15
    # With RUM, a phrase's or a proximity's matches are those the index found: ranking
    # them by tiers cost more than it saved (docs/scaling.md). Without, tiers rank them.
    assert compared[True] == 0 if found_by_rum else compared[True] >= 6


def test_the_tiers_list_each_word_held_twice_or_more_by_its_density(on_postgres, ingest_paths):
    # Migration 0014's index: `word^j` for the least j with min(tf, TF_CAP) * 2^j >= the
    # entry's length, j <= 10; a word held once is left out.
    ingest_paths(corpus_file(SMALL_8K))
    postgres.PostgresBackend().update_filings(["0000320193-99-000010"])
    from search.index import entries_for

    (entry, *_) = [e for e in entries_for(["0000320193-99-000010"]) if e["body"]]
    tokens = postgres.analyse(entry["body"])
    expected = set()
    for word, tf in Counter(tokens).items():
        held = min(tf, postgres.TF_CAP)
        tier = next((j for j in range(11) if held * 2**j >= len(tokens)), None)
        if held >= 2 and tier is not None:
            expected.add(f"{word}^{tier}")
    assert len(expected) > 20
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(search_tiers(words, length)) FROM "
                       "search_entry WHERE accession = %s AND sequence = %s",
                       [entry["accession"], entry["sequence"]])
        assert set(cursor.fetchone()[0]) == expected
        # Exact at powers of two, where a float8 logarithm may overshoot: 2 of 8 words is
        # 2^-2 and 4 of 8 is 2^-1; 2 of 2,048 is 2^-10, and 2 of 2,049 below every tier.
        cursor.execute("SELECT tsvector_to_array(search_tiers(%s::tsvector, n)) FROM "
                       "(VALUES (8), (2048), (2049)) v(n) ORDER BY n", ["a:1,2 b:1,2,3,4"])
        assert [sorted(row[0]) for row in cursor.fetchall()] == [
            ["a^2", "b^1"], ["a^10", "b^9"], ["b^10"]]


def test_without_the_tiers_index_every_match_is_ranked(both, settings, monkeypatch):
    settings.SEARCH_BACKEND = "postgres"
    monkeypatch.setattr(postgres, "BROAD", 1.0)
    engine = backends.get()
    req = request({"q": "revenue"})

    def search():
        return _page_summary(engine.search(parse(req.q), req, sort="relevance",
                                           view="filings", page=1, per_page=1))

    settled = _record_tiered(engine, monkeypatch)
    ranked = search()
    assert settled[-1] is not None
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(f"DROP INDEX {postgres.TIERS_INDEX}")
    assert search() == ranked and settled[-1] is None
