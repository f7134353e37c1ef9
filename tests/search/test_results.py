"""Filters, facets, paging, snippets, the results page and the exports, on real text."""
import csv
import io
import re
from xml.etree import ElementTree

import pytest

from tests.search.conftest import doc_keys


def test_form_filter_takes_several_forms_and_categories(api):
    data = api(form=["10-Q", "8-K"], view="documents")
    assert {r["form_type"] for r in data["results"]} == {"10-Q", "8-K"}
    assert api(form="10-Q,8-K", view="documents")["total"] == data["total"]
    current = api(category="current", view="documents")
    assert {r["form_type"] for r in current["results"]} == {"8-K"}
    section16 = api(category="section16")
    assert [r["form_type"] for r in section16["results"]] == ["4"]
    ownership = api(category="ownership")
    assert {r["form_type"] for r in ownership["results"]} == {"13F-HR/A"}  # amendments too


def test_doc_type_filter_is_a_prefix_at_the_dot(api):
    data = api(doc_type="EX-99", view="documents")
    assert {r["document_type"] for r in data["results"]} == {"EX-99.1"}
    assert api(doc_type="EX-9", view="documents")["total"] == 0
    data = api(doc_type="EX-10", view="documents")
    assert data["total"] > 0 and {r["document_type"] for r in data["results"]} == {"EX-10"}


def test_xbrl_schemas_images_and_generated_reports_are_not_indexed(api):
    data = api(q="cik:796343", view="documents")
    assert {r["document_type"] for r in data["results"]} == {"8-K", "EX-99.1"}


def test_company_filter_by_name_former_name_or_cik(api):
    by_cik = api(company="320193", view="documents")
    assert by_cik["total"] > 0
    assert all(320193 in [e["cik"] for e in r["entities"]] for r in by_cik["results"])
    assert api(company="0000320193", view="documents")["total"] == by_cik["total"]
    # "APPLE COMPUTER INC" is Apple Inc.'s former name: both find every Apple filing.
    assert api(company="apple computer", view="documents")["total"] == by_cik["total"]
    assert api(company="apple inc", view="documents")["total"] == by_cik["total"]
    nothing = api(company="no such company zzz")
    assert nothing["total"] == 0 and nothing["messages"]


def test_date_filters_and_presets(api):
    data = api(filed_from="1997-01-01", filed_to="1997-12-31")
    assert data["total"] == 2
    assert all(r["filed"].startswith("1997") for r in data["results"])
    recent = api(range="30d")
    assert all(r["filed"] >= "2026" for r in recent["results"]) or recent["total"] == 0
    assert api(range="all")["total"] == api()["total"]
    swapped = api(filed_from="1997-12-31", filed_to="1997-01-01")
    assert swapped["total"] == 2 and swapped["messages"]
    bad = api(filed_from="yesterday")
    assert bad["messages"] and bad["total"] == api()["total"]


def test_sic_state_and_item_filters(api):
    assert {r["accession_number"] for r in api(item="2.02")["results"]} == {
        "0000796343-23-000044"
    }
    located_ny = api(state_loc="NY")
    assert {r["accession_number"] for r in located_ny["results"]} == {"0000060086-01-500013"}
    inc_mi = api(state_inc="MI")
    assert {r["accession_number"] for r in inc_mi["results"]} == {"0000842517-24-000086"}
    apple = api(sic="3571")
    assert apple["total"] > 0
    assert all(320193 in [e["cik"] for e in r["entities"]] for r in apple["results"])


def test_filters_without_words_list_newest_first(api):
    data = api(view="documents", form="10-Q")
    filed = [r["filed"] for r in data["results"]]
    assert filed == sorted(filed, reverse=True) and len(set(filed)) == 3


def test_sort_newest_oldest_relevance(api):
    newest = [r["filed"] for r in api(q="revenue", sort="newest")["results"]]
    oldest = [r["filed"] for r in api(q="revenue", sort="oldest")["results"]]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(oldest)
    assert newest[0] > oldest[0]
    relevance = api(q="revenue")["results"]
    assert {r["accession_number"] for r in relevance} == {
        r["accession_number"] for r in api(q="revenue", sort="newest")["results"]
    }


def test_grouped_by_filing_by_default_and_documents_on_request(api):
    grouped = api(q="revenue")
    documents = api(q="revenue", view="documents")
    assert grouped["view"] == "filings"
    assert grouped["total"] == grouped["filings"] == len(grouped["results"])
    assert documents["total"] == documents["documents"] == grouped["documents"]
    assert documents["total"] > grouped["total"]
    assert doc_keys(grouped) <= doc_keys(documents)
    assert sum(r["matching_documents"] for r in grouped["results"]) == documents["total"]


def test_facets_count_and_refine(client, api):
    data = api(q="revenue")
    facets = data["facets"]
    assert set(facets) >= {"form", "company", "year", "doc_type"}
    for value in facets["form"]:
        refined = api(q="revenue", form=value["value"])
        assert refined["total"] == value["count"]
    for value in facets["year"]:
        refined = api(q="revenue", filed_from=f"{value['value']}-01-01",
                      filed_to=f"{value['value']}-12-31")
        assert refined["total"] == value["count"]
    for value in facets["company"]:
        assert api(q="revenue", company=value["value"])["total"] == value["count"]
    for value in facets["doc_type"]:
        refined = api(q="revenue", doc_type=value["value"])
        assert refined["total"] == value["count"]
    apple = [v for v in facets["company"] if v["value"] == "320193"]
    assert apple and apple[0]["label"] == "Apple Inc."
    page = client.get("/search/", {"q": "revenue"})
    assert b'href="/search/?q=revenue&amp;form=10-Q"' in page.content


def test_paging_edges(client, api):
    all_docs = api(q="revenue", view="documents", per_page=100)
    total = all_docs["total"]
    assert total > 3
    seen = []
    pages = -(-total // 3)
    for number in range(1, pages + 1):
        data = api(q="revenue", view="documents", per_page=3, page=number)
        assert data["pages"] == pages
        seen += [(r["accession_number"], r["sequence"]) for r in data["results"]]
    assert len(seen) == total == len(set(seen))
    assert len(api(q="revenue", view="documents", per_page=3, page=pages)["results"]) == (
        total - 3 * (pages - 1)
    )
    # A page past the last one shows the last page, saying so (the API answers 404).
    past = client.get("/search/", {"q": "revenue", "view": "documents", "per_page": 3,
                                   "page": pages + 5})
    assert past.status_code == 200
    html = past.content.decode()
    assert f"There is no page {pages + 5} of these results; this is the last page, page " \
           f"{pages}." in html
    assert re.search(rf'aria-current="page">{pages}<', html)
    assert html.count('class="result"') == total - 3 * (pages - 1)
    assert client.get("/api/search", {"q": "revenue", "page": 999}).status_code == 404
    assert client.get("/search/", {"q": "zzzznothing"}).status_code == 200
    nothing = client.get("/search/", {"q": "zzzznothing", "page": 2})
    assert nothing.status_code == 200
    assert b"There is no page 2 of these results; this is the last page, page 1." in (
        nothing.content)
    assert client.get("/search/", {"q": "revenue", "page": "x"}).status_code == 200


@pytest.mark.parametrize("params", [{"q": "revenue"}, {"q": "revenue", "sort": "oldest"},
                                    {"form": "10-Q", "view": "documents"},
                                    {"q": "stock", "view": "documents"}])
def test_pages_cover_every_result_once_in_one_order(api, params):
    whole = api(**params, per_page=100)
    assert 3 < whole["total"] <= 100
    seen = []
    for number in range(1, -(-whole["total"] // 2) + 1):
        page = api(**params, per_page=2, page=number)
        assert page["total"] == whole["total"]
        seen += [(r["accession_number"], r["sequence"]) for r in page["results"]]
    assert seen == [(r["accession_number"], r["sequence"]) for r in whole["results"]]
    assert len(set(seen)) == len(seen) == whole["total"]


@pytest.mark.parametrize("q", ["revenue", '"net sales"', "macint*", '"stock option"~5',
                               "shareholder OR macintosh", "revenue -macintosh"])
def test_every_snippet_holds_a_highlighted_hit(api, q):
    data = api(q=q, view="documents")
    assert data["results"]
    for r in data["results"]:
        assert "<mark>" in r["snippet"], (r["accession_number"], r["sequence"], r["snippet"])


@pytest.mark.parametrize("q", ["revenue", '"net sales"', '"stock option"~5', "macintosh", ""])
def test_snippets_read_in_parts_are_those_of_the_whole_texts(api, monkeypatch, q):
    # A page reads the start of each text first, more only where that leaves the snippet
    # undecided: the snippets must be those cut from the whole texts at once.
    from search import results

    params = {"q": q} if q else {"form": "8-K"}
    monkeypatch.setattr(results, "FIRST_READ", 10**9)
    whole = [r["snippet"] for r in api(**params, view="documents")["results"]]
    monkeypatch.setattr(results, "FIRST_READ", 2_000)
    monkeypatch.setattr(results, "SNIPPET_HEAD", 10**9)
    read = []
    original = results._heads
    monkeypatch.setattr(results, "_heads", lambda hits, size: read.append(len(hits))
                        or original(hits, size))
    assert [r["snippet"] for r in api(**params, view="documents")["results"]] == whole
    assert whole and read[0] == len(whole)
    if q == "revenue":  # some decided from their start, some read again
        assert 0 < read[1] < len(whole)


@pytest.mark.parametrize("size", [1, 3, 4, 5, 100, 120, 10**6])
def test_a_texts_head_is_its_first_characters_on_every_database(corpus, size):
    """A head is cut by characters, not bytes, whether the database cut it or read the
    text whole (PostgreSQL, up to four bytes a character): accented and wide characters
    included."""
    from types import SimpleNamespace

    from filings.models import Document
    from search.results import _heads
    text = "Résumé — 株式 ✓ " * 7
    document = Document.objects.order_by("pk").first()
    Document.objects.filter(pk=document.pk).update(text=text)
    assert _heads([SimpleNamespace(pk=document.pk)], size) == {document.pk: text[:size]}


def test_snippets_are_escaped_text(api):
    data = api(q="cik:320193 stock", view="documents")
    for r in data["results"]:
        without_marks = r["snippet"].replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks


def test_results_page_shows_edgar_columns_and_links_with_the_query(client, corpus):
    page = client.get("/search/", {"q": "macintosh"})
    html = page.content.decode()
    for header in ["Form &amp; document", "Filed", "Period", "Entity", "Located",
                   "Incorporated", "File number", "Film number"]:
        assert re.search(rf"<th [^>]*>(<a [^>]*>)?{header}<", html), header
    assert "CIK 0000320193" in html
    assert re.search(r'href="/filings/0000320193-9\d-\d+/\d+/\?q=macintosh"', html)
    assert "<mark>" in html and re.search(r"in \d+ ms", html)
    assert "<script>" not in html and "onclick" not in html


def test_did_you_mean_when_little_is_found(client, api):
    data = api(q="macintosch")
    assert data["total"] == 0 and data["suggestion"] == "macintosh"
    assert b"Did you mean" in client.get("/search/", {"q": "macintosch"}).content
    assert api(q="macintosh")["suggestion"] == ""


def test_csv_streams_exactly_total_rows(client, api):
    for params in ({"q": "revenue"}, {"q": "revenue", "view": "documents"}, {"form": "10-Q"}):
        total = api(**params)["total"]
        response = client.get("/search.csv", params)
        assert response.status_code == 200 and response.streaming
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][0] == "accession_number"
        assert len(rows) - 1 == total
        # Each row links to its own document (or filing, for a header-only one).
        suffix = "?q=revenue" if "q" in params else ""
        for row in rows[1:]:
            accession, sequence, url = row[0], row[1], row[-1]
            path = f"/filings/{accession}/" + (f"{sequence}/" if sequence != "0" else "")
            assert url == f"http://testserver{path}{suffix}", url


def test_csv_of_filings_lists_each_filings_best_document_and_its_count(client, api):
    for params in ({"q": "revenue"}, {"q": "stock OR shares", "sort": "newest"}):
        page = api(**params)
        response = client.get("/search.csv", params)
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert [(r["accession_number"], int(r["sequence"]), int(r["matching_documents"]))
                for r in rows] == [
            (f["accession_number"], f["sequence"], f["matching_documents"])
            for f in page["results"]
        ]
        assert any(int(r["matching_documents"]) > 1 for r in rows)


def test_atom_feed_lists_newest_first(client, corpus):
    response = client.get("/search/feed/", {"q": "revenue"})
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(b"".join(response.streaming_content))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    updated = [e.findtext("a:updated", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert updated and updated == sorted(updated, reverse=True)
    links = [e.find("a:link", ns).get("href") for e in root.findall("a:entry", ns)]
    assert all(link.endswith("?q=revenue") for link in links)


def test_opensearch_description(client, corpus):
    response = client.get("/opensearch.xml")
    assert response["Content-Type"].startswith("application/opensearchdescription+xml")
    root = ElementTree.fromstring(response.content)
    templates = [u.get("template") for u in root]
    assert any(t and t.endswith("/search/?q={searchTerms}") for t in templates)


def test_help_page_explains_the_syntax(client, corpus):
    html = client.get("/search/help/").content.decode()
    for example in ['"going concern"', "OR", "semicond*", '"stock option"~5', "form:10-K",
                    "type:EX-10", "form:(10-K OR 8-K)"]:
        assert example.replace('"', "&quot;") in html or example in html


def test_company_suggestions_and_results_page(client, corpus):
    data = client.get("/api/companies", {"q": "apple comp"}).json()["results"]
    assert data[0]["cik"] == 320193 and "APPLE COMPUTER INC" in data[0]["former_names"]
    assert client.get("/api/companies", {"q": "320193"}).json()["results"][0]["name"] == (
        "Apple Inc."
    )
    page = client.get("/companies/", {"q": "apple"})
    assert page.status_code == 200 and b"Apple Inc." in page.content
    assert client.get("/companies/", {"q": "320193"}).status_code == 302
    assert client.get("/api/companies", {"q": ""}).json()["results"] == []


@pytest.mark.django_db
def test_a_facet_is_labelled_as_the_filter_its_values_select():
    from search.filters import FILTER_LABELS
    from search.results import FACET_NAMES, FACET_PARAMS, facets

    counts = {name: [("1", 1)] for name in FACET_NAMES}
    labelled = {f.name: f.label for f in facets(counts)}
    assert labelled.keys() == set(FACET_NAMES)
    for name, label in labelled.items():
        assert label == FILTER_LABELS[FACET_PARAMS.get(name, name)], name
    assert labelled["sic"] == "SIC code"  # the filter box's label, the chip's, the count's
