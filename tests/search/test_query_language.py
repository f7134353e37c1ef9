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


def test_a_field_before_parentheses_applies_to_every_term_of_the_group(api, corpus):
    ten_q = doc_keys(api(q="form:10-Q", view="documents"))
    eight_k = doc_keys(api(q="form:8-K", view="documents"))
    assert ten_q and eight_k
    data = api(q="form:(10-Q OR 8-K)", view="documents")
    assert doc_keys(data) == ten_q | eight_k
    assert not data["messages"]
    # Not read as the body words "form", "10", "q", "8", "k".
    assert doc_keys(api(q="revenue -form:(10-Q OR 8-K)", view="documents")) == (
        doc_keys(api(q="revenue", view="documents")) - ten_q - eight_k)
    both = doc_keys(api(q="company:apple company:computer", view="documents"))
    assert both and doc_keys(api(q="company:(apple computer)", view="documents")) == both
    # A term with its own field keeps it; a nested group takes the outer field.
    assert parse("form:(10-K OR cik:320193)").text() == "form:10-K OR cik:320193"
    assert parse('form:(10-K OR (8-K OR "DEF 14A"))').text() == (
        "form:10-K OR form:8-K OR form:DEF 14A")


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


# --- Issue 8: queries people really type ------------------------------------------------------


def test_parentheses_group(api, corpus):
    a = doc_keys(api(q="macintosh", view="documents"))
    b = doc_keys(api(q="shareholder", view="documents"))
    c = doc_keys(api(q="revenue", view="documents"))
    grouped = doc_keys(api(q="macintosh OR (shareholder revenue)", view="documents"))
    assert grouped == a | (b & c)
    # Without the parentheses OR binds tighter: a different set, so they were not dropped.
    assert doc_keys(api(q="macintosh OR shareholder revenue", view="documents")) == (a | b) & c
    assert grouped != (a | b) & c
    assert doc_keys(api(q="revenue -(macintosh OR shareholder)", view="documents")) == (
        c - a - b)
    assert doc_keys(api(q="(macintosh OR shareholder) (revenue)", view="documents")) == (
        (a | b) & c)


def test_unbalanced_parentheses_are_repaired_with_a_message(api, corpus):
    data = api(q="(macintosh OR shareholder")
    assert any("unclosed (" in m for m in data["messages"])
    assert data["total"] == api(q="macintosh OR shareholder")["total"]
    data = api(q="macintosh)")
    assert any("A ) without its (" in m for m in data["messages"])


@pytest.mark.parametrize("q", ["€", "🙂", "*", "-", '""', "()", "(-)", "— –"])
def test_input_without_terms_says_so_and_lists_nothing(client, api, q):
    data = api(q=q)
    assert data["total"] == 0 and data["results"] == []
    assert any("has no words to search for" in m for m in data["messages"]), data["messages"]
    html = client.get("/search/", {"q": q}).content.decode()
    assert "has no words to search for" in html
    assert 'class="result"' not in html
    rows = client.get("/search.csv", {"q": q}).getvalue().decode().splitlines()
    assert len(rows) == 1  # the header only


@pytest.mark.parametrize("q", ["NOT (revenue macintosh)", "-(revenue macintosh)"])
def test_a_dropped_group_is_not_called_a_query_without_words(client, api, q):
    data = api(q=q)
    assert data["total"] == 0 and data["results"] == []
    assert any("cannot be searched: revenue macintosh was not excluded" in m
               for m in data["messages"]), data["messages"]
    assert not any("has no words" in m for m in data["messages"]), data["messages"]
    assert any("No other term was left" in m for m in data["messages"])
    html = client.get("/search/", {"q": q}).content.decode()
    assert "has no words" not in html and "No other term was left" in html


def test_unknown_field_prefix_names_the_known_fields(api, corpus):
    data = api(q="x:revenue")
    assert any("x: is not a field" in m and "form:, cik:, company:" in m and "type:" in m
               and "section:" in m for m in data["messages"]), data["messages"]
    assert data["total"] == api(q='"x revenue"')["total"]  # searched as the words
    assert api(q="http://www.apple.com")["messages"] == []  # an address is not a field


def test_an_accession_number_opens_its_filing(client, corpus):
    for q in ["0000320193-97-000011", "000032019397000011", " 0000320193-97-000011 "]:
        response = client.get("/search/", {"q": q})
        assert response.status_code == 302, q
        assert response["Location"] == "/filings/0000320193-97-000011/"
    unknown = client.get("/search/", {"q": "0000000000-00-000001"})
    assert unknown.status_code == 200
    assert b"No stored filing has the accession number 0000000000-00-000001" in unknown.content


def test_a_cik_or_company_name_offers_the_company_page(client, corpus):
    def offers(q):
        html = client.get("/search/", {"q": q}).content.decode()
        return re.findall(r'<p class="company-offer">Company: <a href="([^"]+)">', html)

    assert offers("320193") == ["/companies/320193/"]
    assert offers("0000320193") == ["/companies/320193/"]
    assert "/companies/320193/" in offers("apple")
    assert "/companies/320193/" in offers("Apple Inc")
    assert offers("revenue") == []
    assert offers("apple -revenue") == [] and offers("form:10-K") == []
    assert offers("999999999") == []  # no such company


def _qualifying(text, words, slop):
    """Independently: the character offsets of the words of `words` (two) that stand
    within `slop` words of the other one."""
    tokens = [(m.start(), m.group().lower()) for m in re.finditer(r"\w+(?:\.?\w+)*", text)]
    a, b = words
    found = []
    for i, (start, token) in enumerate(tokens):
        if token not in words:
            continue
        other = b if token == a else a
        near = tokens[max(0, i - slop) : i] + tokens[i + 1 : i + 1 + slop]
        if any(t == other for _, t in near):
            found.append(start)
    return found


def test_proximity_marks_only_the_words_of_qualifying_pairs(client, api, corpus):
    q = '"stock option"~2'
    pattern = highlight_pattern(q)
    data = api(q=q, view="documents")
    assert data["total"] > 0
    unpaired = 0
    for key in doc_keys(data):
        document = Document.objects.get(filing__accession_number=key[0], sequence=key[1])
        expected = _qualifying(document.text, ("stock", "option"), 2)
        assert [m.start() for m in pattern.finditer(document.text)] == expected
        assert expected
        unpaired += len(re.findall(r"(?i)(?<!\w)(?:stock|option)(?!\w)", document.text)) - len(
            expected)
        if document.kind == "text":  # one text node: the page marks exactly these
            html = client.get(f"/filings/{key[0]}/{key[1]}/", {"q": q}).content.decode()
            marks = re.findall(r'<mark class="hit" id="es-hit-\d+">([^<]*)</mark>', html)
            assert len(marks) == min(len(expected), 2000)
            assert {m.lower() for m in marks} <= {"stock", "option"}
    assert unpaired > 0  # the documents hold lone occurrences, left unmarked
    for result in data["results"]:
        marked = re.findall(r"<mark>([^<]*)</mark>", result["snippet"])
        assert marked and {m.lower() for m in marked} <= {"stock", "option"}
