"""Hostile and degenerate search URLs end in a page, never a 500 or a hang: an empty
index, repeated filter parameters, an endless "did you mean" word, odd company queries."""
import re
import time

import pytest
from django.db import connection

from filings.models import Company, Filing
from search import results
from search.filters import MAX_TOTAL_VALUES, MAX_VALUES
from search.query import parse
from tests.search.conftest import doc_keys

pytestmark = pytest.mark.django_db

SEARCH_URLS = [
    "/search/?q=revenue",
    "/search/?q=revenu",  # few results: "did you mean" runs
    "/search/?q=revenue&view=documents&sort=newest",
    "/search/?form=10-K",
    "/search/?q=revenue&company=apple",
    "/search/?company=320193&range=1y",
    "/api/search?q=revenue",
    "/api/search?form=8-K&view=documents",
    "/search.csv?q=revenue",
    "/search/feed/?q=revenue",
    "/search/feed/?q=revenue%01%0b",  # control characters XML 1.0 cannot hold
    "/api/companies?q=apple",
    "/companies/?q=apple",
    "/opensearch.xml",
    "/search/help/",
]


def get(client, url):
    response = client.get(url)
    # Streamed answers (CSV, Atom) fail while streaming, after the status: read them.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.mark.parametrize("collection", ["fresh install", "index lost"])
@pytest.mark.parametrize("url", SEARCH_URLS)
def test_every_search_url_answers_on_an_empty_index(client, url, collection, search_backend):
    # Each test has its own, empty, Whoosh index directory (tests/conftest.py); the
    # PostgreSQL engine's entries are emptied here (and come back when the test's
    # transaction rolls back). The package's corpus rows stay in the database unless
    # this is a fresh install.
    if search_backend == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_entry")
    if collection == "fresh install":
        Filing.objects.all().delete()
        Company.objects.all().delete()
    else:
        assert Filing.objects.exists()
    response, body = get(client, url)
    assert response.status_code == 200, body[:300]
    if url.startswith("/api/search"):
        assert response.json()["total"] == 0
    if url.startswith("/search.csv"):
        assert body.decode().count("\n") == 1  # the header row only
    if url.startswith("/search/?q="):
        assert b"No results" in body or b"no results" in body.lower()


# --- "Did you mean" -------------------------------------------------------------------------------


class CountingBackend:
    """An engine where every word is rare, counting the words looked up."""

    def __init__(self):
        self.lookups = 0

    def doc_frequency(self, words):
        words = list(words)
        self.lookups += len(words)
        return dict.fromkeys(words, 0)


def test_did_you_mean_leaves_a_988_letter_word_alone():
    word = ("qzxv" * 247)[:988]
    backend = CountingBackend()
    assert results.suggest(backend, parse(word)) == ""
    # Before: every edit of it, 53,000 lookups and 2.5 s a request.
    assert backend.lookups == 0


def test_did_you_mean_looks_at_a_few_rare_words_of_a_long_query():
    words = [f"qz{chr(97 + i)}xv{chr(97 + i)}wy" for i in range(26)]  # 26 rare 8-letter words
    q = " ".join(words)
    backend = CountingBackend()
    results.suggest(backend, parse(q))
    per_word = len(results._edits(words[0]))
    assert per_word > 400
    # One lookup per word to see it is rare, then the edits of the first few only.
    assert backend.lookups <= len(words) + results.MAX_SUGGESTED_WORDS * per_word


def test_did_you_mean_still_corrects_a_misspelling(client, corpus):
    data = client.get("/api/search", {"q": "revenu"}).json()
    assert data["suggestion"] == "revenue"
    long_word = "x" + "revenue" * 140
    response = client.get("/api/search", {"q": long_word})
    assert response.status_code == 200 and response.json()["suggestion"] == ""


# --- Repeated filter parameters ------------------------------------------------------------------


def links(html: str) -> list[str]:
    return re.findall(r'href="(/search/[^"]*)"', html)


def test_a_thousand_repeated_form_values_make_a_small_fast_page(client, corpus):
    # 1,000 fields: Django's own limit (DATA_UPLOAD_MAX_NUMBER_FIELDS) refuses more.
    query = "&".join(f"form=F-{i}" for i in range(999))
    started = time.perf_counter()
    response = client.get(f"/search/?{query}&form=10-Q")
    seconds = time.perf_counter() - started
    html = response.content.decode()
    assert response.status_code == 200
    assert seconds < 10  # before: 18 s, the links growing with the square of the values
    assert len(html) < 400_000
    assert f"Only the first {MAX_VALUES} values of “Form type” were used." in html
    for url in links(html):
        assert url.count("form=") <= MAX_VALUES, url[:200]
    assert "F-49" in html and "F-50" not in html  # the first fifty, no more


def test_the_same_value_a_thousand_times_counts_once(client, corpus):
    query = "&".join(["form=10-Q"] * 999)
    response = client.get(f"/search/?q=revenue&{query}")
    html = response.content.decode()
    assert response.status_code == 200
    # (The form facet's links add a second form: OR within a facet.)
    assert all(url.count("form=10-Q") <= 1 for url in links(html))
    assert "Only the first" not in html


def test_values_of_every_filter_together_are_capped(client, corpus):
    params = {name: [f"V{i}" for i in range(60)]
              for name in ("form", "doc_type", "item", "sic", "state_inc")}
    response = client.get("/search/", {"q": "revenue", **params})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Only the first {MAX_TOTAL_VALUES} filter values were used." in html
    for url in links(html):
        assert len(re.findall(r"(?:form|doc_type|item|sic|state_inc)=", url)) <= MAX_TOTAL_VALUES
    assert len(html) < 1_000_000


def test_links_repeat_the_search_parameters_only(client, corpus):
    response = client.get("/search/", {"q": "revenue", "utm_source": "x" * 5000,
                                       "company": "a" * 5000})
    html = response.content.decode()
    assert response.status_code == 200
    assert "utm_source" not in html
    assert all(url.count("a") < 400 for url in links(html))


# --- Odd company queries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["\u00b2", "\u0663\u0662", "9" * 30, "1" * 5000, "0", "\x00", "%", "_"],
    ids=["superscript", "arabic-indic", "over-2^63", "over-int-digits", "zero", "nul",
         "percent", "underscore"],
)
@pytest.mark.parametrize("url", ["/companies/", "/api/companies", "/search/?q=revenue&company="])
def test_odd_company_queries_are_answered(client, corpus, url, text):
    if url.endswith("="):
        response = client.get(url + text)
    else:
        response = client.get(url, {"q": text})
    assert response.status_code in (200, 302), response.content[:300]


@pytest.mark.parametrize("q", [
    "(" * 100_000,
    "(" * 50_000 + ")" * 50_000,
    "()" * 50_000,
    "(-(" * 33_333,
    "(revenue " * 20_000 + ")" * 20_000,
    ")(" * 50_000,
])
def test_deeply_nested_parentheses_are_answered_fast(client, corpus, q):
    for url in ("/search/", "/api/search"):
        started = time.monotonic()
        response = client.get(url, {"q": q})
        assert response.status_code == 200
        assert time.monotonic() - started < 5


def test_parentheses_past_the_depth_limit_are_read_as_spaces(api, corpus):
    deep = "(" * 40 + "macintosh OR (shareholder revenue" + ")" * 41
    data = api(q=deep, view="documents")
    assert any("nested more than 32 deep" in m for m in data["messages"]), data["messages"]
    # Read as spaces: OR binds tighter than the AND around it.
    flat = api(q="macintosh OR shareholder revenue", view="documents")
    assert doc_keys(data) == doc_keys(flat) and data["total"] > 0
    # Every ")" of a flattened "(" is taken with it: none is reported as stray.
    assert not any("without its (" in m for m in data["messages"])
    shallow = "(" * 30 + "macintosh OR (shareholder revenue" + ")" * 31
    assert parse(shallow).text() == parse("macintosh OR (shareholder revenue)").text()
    assert not any("deep" in m for m in parse(shallow).messages)


def test_many_cik_and_sic_values_are_named_in_a_few_queries(
        client, corpus, django_assert_max_num_queries):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def url(n):
        ciks = "&".join(f"cik={320193 + i}" for i in range(n))
        sics = "&".join(f"sic={3571 + i}" for i in range(n))
        return f"/search/?q=revenue&{ciks}&{sics}"

    with CaptureQueriesContext(db) as one:
        assert client.get(url(1)).status_code == 200
    # Each value was named by a query of its own (132 queries for 100 values); now the
    # chips and the facets' chosen values not counted name all of a filter's at once.
    with django_assert_max_num_queries(len(one.captured_queries) + 4):
        response = client.get(url(MAX_VALUES))
    html = response.content.decode()
    assert "CIK 320194" in html and "Company: Apple" in html
