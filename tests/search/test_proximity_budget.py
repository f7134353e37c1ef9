"""A proximity clause of common words within a wide distance is refused, not left to hold
a worker for minutes (search.positions.budget), the same way on both engines."""
import time

import pytest

from search import positions
from search.positions import TooBroad, budget, spans_near
from search.results import TOO_BROAD

DENSE = [list(range(k, 3000, 3)) for k in range(3)]  # three words, each every third word


def test_spans_near_is_bounded_only_within_a_budget():
    assert spans_near(DENSE, 50, False, 1) is True  # no budget: decided
    with budget(10), pytest.raises(TooBroad):
        spans_near([[1, 500, 900], [2, 501], [700]], 5, False, 1)
        spans_near([list(range(0, 3000, 2)), list(range(1, 3000, 2)), [5000]], 50, False, 1)
    with budget(10**6):
        assert spans_near([[1], [3], [5]], 2, False, 1) is True


def test_the_budget_is_per_search_and_restored():
    with budget(5):
        with budget(100):
            spans_near([list(range(20)), [50], [60]], 100, False, 1)
        with pytest.raises(TooBroad):
            spans_near([list(range(20)), [50], [60]], 100, False, 1)
    spans_near([list(range(20)), [50], [60]], 100, False, 1)  # unbounded again


def test_a_too_broad_proximity_search_says_so_and_lists_nothing(api, monkeypatch):
    query = '"the of and company"~50'
    assert api(q=query)["total"] > 0  # decided within the real budget on this corpus
    monkeypatch.setattr(positions, "MAX_SPANS", 20)
    started = time.perf_counter()
    data = api(q=query)
    assert time.perf_counter() - started < 10
    assert data["total"] == 0
    assert TOO_BROAD in data["messages"]
    assert api(q='"stock option"~5')["total"] > 0  # two words: linear, never refused
    assert api(q="revenue")["total"] > 0


def test_a_too_broad_export_is_empty_not_broken(client, corpus, monkeypatch):
    monkeypatch.setattr(positions, "MAX_SPANS", 20)
    response = client.get("/search.csv", {"q": '"the of and company"~50'})
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1  # the header alone


def test_postgres_confirms_candidates_a_batch_at_a_time_to_the_same_answer(api, monkeypatch,
                                                                          settings):
    from search.backends import postgres

    if settings.SEARCH_BACKEND != "postgres":
        pytest.skip("about the PostgreSQL engine")
    queries = ['"the company"~3', '"stock option plan"~4', '"results of operations"']
    whole = [api(q=q, view="documents")["total"] for q in queries]
    monkeypatch.setattr(postgres, "CONFIRM_BATCH", 1)
    assert [api(q=q, view="documents")["total"] for q in queries] == whole
    assert all(whole)
