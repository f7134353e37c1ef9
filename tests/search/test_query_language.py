"""Each operator of the query language, on real corpus text: the index's answer is
checked against the documents' stored text (the ground truth)."""
import re

import pytest

from filings.models import Document
from search.index import is_indexable
from search.query import highlight_pattern, parse
from tests.search.conftest import doc_keys


def texts(corpus):
    return {
        (d.filing.accession_number, d.sequence): d.text
        for d in Document.objects.filter(filing__accession_number__in=corpus).select_related(
            "filing"
        )
        if is_indexable(d)
    }


def having(corpus, *regexes):
    """Documents whose text matches every regex (case-insensitive)."""
    compiled = [re.compile(r, re.I) for r in regexes]
    return {k for k, t in texts(corpus).items() if all(c.search(t) for c in compiled)}


def word(w):
    return rf"(?<![\w.]){w}(?!\.?\w)"


def test_words_are_anded(api, corpus):
    expected = having(corpus, word("macintosh"), word("revenue"))
    assert expected
    assert doc_keys(api(q="macintosh revenue", view="documents")) == expected


def test_exact_phrase_needs_the_words_together(api, corpus):
    expected = having(corpus, r"(?<!\w)net\W+sales(?!\w)")
    found = doc_keys(api(q='"net sales"', view="documents"))
    assert found == expected
    assert found < having(corpus, word("net"), word("sales")) | found


def test_or_finds_either_word(api, corpus):
    a = doc_keys(api(q="macintosh", view="documents"))
    b = doc_keys(api(q="shareholder", view="documents"))
    both = doc_keys(api(q="macintosh OR shareholder", view="documents"))
    assert a and b and a != b
    assert both == a | b


def test_or_binds_tighter_than_and(api, corpus):
    found = doc_keys(api(q="revenue macintosh OR shareholder", view="documents"))
    expected = doc_keys(api(q="revenue", view="documents")) & (
        doc_keys(api(q="macintosh", view="documents"))
        | doc_keys(api(q="shareholder", view="documents"))
    )
    assert found == expected and found


def test_minus_excludes_a_word_and_a_phrase(api, corpus):
    base = doc_keys(api(q="revenue", view="documents"))
    without = doc_keys(api(q="revenue -macintosh", view="documents"))
    assert without == base - having(corpus, word("macintosh"))
    assert without < base
    without_phrase = doc_keys(api(q='revenue -"net sales"', view="documents"))
    assert without_phrase == base - having(corpus, r"(?<!\w)net\W+sales(?!\w)")
    assert doc_keys(api(q="revenue NOT macintosh", view="documents")) == without


def test_trailing_wildcard_matches_word_starts(api, corpus):
    found = doc_keys(api(q="macint*", view="documents"))
    assert found == having(corpus, r"(?<![\w.])macint\w*")
    assert doc_keys(api(q="macintosh", view="documents")) <= found


def test_proximity_finds_words_near_each_other_in_any_order(api, corpus):
    near = doc_keys(api(q='"stock option"~5', view="documents"))
    phrase = doc_keys(api(q='"stock option"', view="documents"))
    both = doc_keys(api(q="stock option", view="documents"))
    assert phrase <= near <= both
    assert near
    assert doc_keys(api(q='"option stock"~5', view="documents")) == near


def test_no_stemming_words_match_as_written(api, corpus):
    singular = having(corpus, word("lease"))
    assert doc_keys(api(q="lease", view="documents")) == singular
    assert doc_keys(api(q="lease*", view="documents")) >= singular


def test_field_prefixes(api, corpus):
    data = api(q="form:10-Q revenue", view="documents")
    assert data["results"] and {r["form_type"] for r in data["results"]} == {"10-Q"}
    data = api(q="cik:320193", view="documents")
    assert data["results"]
    assert all(320193 in [e["cik"] for e in r["entities"]] for r in data["results"])
    assert doc_keys(api(q="cik:0000320193", view="documents")) == doc_keys(data)
    data = api(q="company:isabella", view="documents")
    assert {r["accession_number"] for r in data["results"]} == {"0000842517-24-000086"}
    data = api(q="type:EX-10 stock", view="documents")
    assert data["results"] and all(
        r["document_type"] == "EX-10" or r["document_type"].startswith("EX-10.")
        for r in data["results"]
    )
    data = api(q="type:EX-99", view="documents")
    assert {r["document_type"] for r in data["results"]} == {"EX-99.1"}


def test_form_field_of_an_xml_form_finds_its_text(api, corpus):
    data = api(q="form:4 McGuirk", view="documents")
    assert [r["accession_number"] for r in data["results"]] == ["0000842517-24-000086"]


@pytest.mark.parametrize(
    "q, message",
    [
        ('"going concern', "unbalanced quote"),
        ("OR", "lone OR"),
        ("revenue OR", "lone OR"),
        ("*venue", "Wildcards work only at the end"),
        ("a*", "at least 2 letters"),
        ("rev*nue", "Wildcards work only at the end"),
        ("cik:apple", "cik: takes a number"),
        ("x" * 5000, "cut to its first"),
        ("revenue " * 100, "first 32 terms"),
    ],
)
def test_malformed_queries_are_repaired_with_a_message(client, api, q, message):
    data = api(q=q)
    assert any(message in m for m in data["messages"]), data["messages"]
    page = client.get("/search/", {"q": q})
    assert page.status_code == 200
    assert message.encode() in page.content


@pytest.mark.parametrize(
    "q",
    ["-", '"', '""', "~5", '"a"~999999', "NOT", "AND AND", "()", "form:", ":::", "\x00",
     "-revenue", 'form:"', "type:*", "🙂 émission", "%%% ||| &&&", "revenue~2", "*"],
)
def test_junk_never_fails(client, corpus, q):
    assert client.get("/search/", {"q": q}).status_code == 200
    assert client.get("/api/search", {"q": q}).status_code == 200


def test_only_exclusions_lists_documents_without_the_word(api, corpus):
    data = api(q="-revenue", view="documents")
    assert data["total"] == len(texts(corpus)) - len(having(corpus, word("revenue")))


def test_highlight_pattern_marks_words_phrases_and_prefixes_not_exclusions():
    pattern = highlight_pattern('revenue "net sales" macint* -apple form:10-K')
    text = "Apple: Net\n sales and REVENUE of Macintosh; revenues, x.revenue, 10-K"
    assert [m.group() for m in pattern.finditer(text)] == [
        "Net\n sales", "REVENUE", "Macintosh"
    ]
    assert highlight_pattern("-apple form:10-K") is None
    assert highlight_pattern("") is None


def test_parse_writes_the_query_back():
    assert parse('a  OR b -"c d" ef*  "f g"~3 form:10-k').text() == (
        'a OR b ef* "f g"~3 form:10-K -"c d"'
    )
