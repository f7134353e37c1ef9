"""`section:` in queries, the section filter and facet (filings.sections, search.index
section_words): words match only inside the named item's sections, exactly as the engines
match the body, on every engine with the same totals."""
import html
import re

import pytest
from django.db import connection

from filings.models import Document
from search.index import words
from search.query import parse
from tests.search.conftest import doc_keys, each_backend
from tests.search.test_backends import answer

# (query, the clause's item, its words, kind) — the truth is computed from the stored
# sections and texts.
SCOPED = [
    ('section:2 "net sales"', "2", ["net", "sales"], "phrase"),
    ('section:1 "net sales"', "1", ["net", "sales"], "phrase"),
    ("section:2 macintosh", "2", ["macintosh"], "word"),
    ("section:6 macintosh", "6", ["macintosh"], "word"),
    ("section:2.02 revenue", "2.02", ["revenue"], "word"),
    ("section:2 macint*", "2", ["macint"], "prefix"),
    ('section:1 "results of operations"', "1", ["results", "of", "operations"], "phrase"),
]


def _holds(tokens: list[str], wanted: list[str], kind: str) -> bool:
    if kind == "word":
        return wanted[0] in tokens
    if kind == "prefix":
        return any(t.startswith(wanted[0]) for t in tokens)
    n = len(wanted)
    return any(tokens[i:i + n] == wanted for i in range(len(tokens) - n + 1))


def _truth(item: str, wanted: list[str], kind: str) -> set:
    found = set()
    for document in Document.objects.exclude(sections=[]).select_related("filing"):
        for s in document.sections:
            if s["item"].lower() == item and _holds(
                    words(document.text[s["start"]:s["end"]]), wanted, kind):
                found.add((document.filing.accession_number, document.sequence))
    return found


@pytest.mark.parametrize(("q", "item", "wanted", "kind"), SCOPED, ids=[s[0] for s in SCOPED])
def test_words_after_section_match_only_inside_that_section(api, q, item, wanted, kind):
    truth = _truth(item, wanted, kind)
    assert doc_keys(api(q=q, view="documents")) == truth
    # Not vacuous: the same words anywhere find more (or at least these) documents.
    unscoped = doc_keys(api(q=q.split(" ", 1)[1], view="documents"))
    assert truth <= unscoped


def test_words_outside_the_section_are_not_found(api):
    # "macintosh" is in the Apple 10-Qs, but never inside their Part II Item 6.
    assert doc_keys(api(q="section:6 macintosh", view="documents")) == set()
    assert {s for s in doc_keys(api(q="macintosh", view="documents")) if s[1] == 1}
    assert doc_keys(api(q="section:2 macintosh", view="documents"))


def test_a_lone_section_finds_filings_whose_main_document_has_it(api):
    data = api(q="section:2.02")
    assert {r["accession_number"] for r in data["results"]} == {"0000796343-23-000044"}
    quarterly = {r["accession_number"] for r in api(q="section:2 form:10-Q")["results"]}
    assert quarterly == {"0000320193-97-000011", "0000320193-97-000014",
                         "0000320193-99-000002"}
    assert api(q="section:1A")["filings"] == 0


def test_the_section_facet_counts_what_its_filter_finds(api):
    data = api(q="revenue")
    facet = {f["value"]: f["count"] for f in data["facets"]["section"]}
    assert {f["value"]: f["label"] for f in data["facets"]["section"]}["2.02"] == "Item 2.02"
    assert facet["2"] == 3 and facet["2.02"] == 1
    for value, count in facet.items():
        assert api(q="revenue", section=value.upper())["filings"] == count


def test_the_section_facet_lists_equal_counts_in_the_forms_order():
    from search.results import facets

    counted = [("1", 5), ("10", 3), ("1a", 3), ("2", 3), ("2.02", 3), ("1b", 3), ("9.01", 1)]
    section = next(f for f in facets({"section": counted}) if f.name == "section")
    assert [v for v, _label, _n in section.values] == ["1", "1a", "1b", "2", "2.02", "10",
                                                      "9.01"]
    assert section.values[1][1] == "Item 1A" and section.label == "Section"


def test_results_link_a_section_search_to_the_sections_heading(client, corpus):
    page = client.get("/search/", {"q": 'section:2 "net sales"'}).content.decode()
    assert "&amp;section=2#item-2" in page


def test_a_hit_opens_at_the_section_its_snippet_comes_from(client, api, corpus):
    # With two items searched, every hit opened at the query's first item, and took its
    # snippet from the whole text (Item 1's statements) when that item held no match.
    q = 'section:6 zzqxw OR section:2 "net sales"'
    page = client.get("/search/", {"q": q}).content.decode()
    assert "&amp;section=2#item-2" in page and "#item-6" not in page
    data = api(q=q, view="documents")
    assert data["results"]
    for result in data["results"]:
        document = Document.objects.get(filing__accession_number=result["accession_number"],
                                        sequence=result["sequence"])
        inside = " ".join(" ".join(document.text[s["start"]:s["end"]].split())
                          for s in document.sections if s["item"] == "2")
        passages = html.unescape(re.sub(r"<[^>]*>", "", result["snippet"])).split("…")
        assert all(" ".join(p.split()) in inside for p in passages)


def test_an_item_that_is_no_item_is_refused_with_a_message(api):
    data = api(q="section:zz revenue")
    assert any("section: takes an item number" in m for m in data["messages"])


def test_a_section_query_is_written_back_with_its_scope():
    assert parse("section:1A cyber -breach").text() == "section:1A cyber section:1A -breach"
    assert parse("section:7 section:1A cyber").text() == "section:7 section:1A cyber"
    again = parse(parse("section:1A cyber -breach").text())
    assert [(c.words, c.section) for c in again.excluded] == [(["breach"], "1a")]


@pytest.mark.parametrize("params", [
    {"q": 'section:2 "net sales"'}, {"q": "section:2 macint* OR shareholder"},
    {"q": 'section:2 "net sales increased"~4'}, {"q": "section:2 revenue -macintosh"},
    {"q": "section:2.02"}, {"q": "revenue", "section": "2"}, {"q": "section:1 -section:6"},
], ids=str)
@pytest.mark.parametrize("view", ["filings", "documents"])
def test_both_engines_agree_on_section_searches(db, settings, search_dirs, params, view):
    if connection.vendor != "postgresql":
        pytest.skip("comparing the engines needs PostgreSQL (set DATABASE_URL)")
    for name, value in search_dirs.items():
        setattr(settings, name, value)
    answers = {name: answer(engine, params, view) for name, engine in each_backend()}
    (w_page, w_entries), (p_page, p_entries) = answers["whoosh"], answers["postgres"]
    assert (p_page.documents, p_page.filings) == (w_page.documents, w_page.filings)
    assert set(p_entries) == set(w_entries)
    assert w_page.facets["section"] == [tuple(x) for x in p_page.facets["section"]]


def test_a_section_searchs_snippet_comes_from_inside_the_section(api):
    # "net sales" is all over the Apple 10-Qs' financial statements (Item 1) too.
    import html
    import re

    data = api(q='section:2 "net sales"', view="documents")
    assert data["results"]
    for result in data["results"]:
        document = Document.objects.get(filing__accession_number=result["accession_number"],
                                        sequence=result["sequence"])
        inside = " ".join(document.text[s["start"]:s["end"]] for s in document.sections
                          if s["item"] == "2")
        assert "<mark" in result["snippet"]
        for passage in html.unescape(re.sub(r"<[^>]*>", "", result["snippet"])).split("…"):
            passage = " ".join(passage.split())
            if passage:
                assert passage in " ".join(inside.split()), passage


def test_an_index_built_before_sections_says_to_rebuild(ingest_paths, client, settings):
    """A Whoosh index without the section fields opens and takes new filings; a section
    search says to run rebuild_index, and after it finds the section."""
    from django.core.management import call_command
    from whoosh import index as wi

    from search.backends import whoosh
    from tests.conftest import corpus_file

    settings.SEARCH_BACKEND = "whoosh"
    root = settings.SEARCH_INDEX_DIR
    generation = root / "gen-1-1"
    generation.mkdir(parents=True)
    schema = whoosh.make_schema()
    schema.remove("section")
    schema.remove("section_body")
    wi.create_in(str(generation), schema)
    (root / "current").symlink_to(generation.name)
    whoosh.close_searcher()

    assert ingest_paths(corpus_file("0001010412-10-000078.txt")).failed == 0  # a 10-K
    assert client.get("/api/search", {"q": "form:10-K"}).json()["total"] == 1
    data = client.get("/api/search", {"q": "form:10-K section:7 operations"}).json()
    assert data["total"] == 0
    assert any("rebuild_index" in m for m in data["messages"])
    call_command("rebuild_index", verbosity=0)
    data = client.get("/api/search", {"q": "form:10-K section:7 operations"}).json()
    assert data["total"] == 1 and not any("rebuild_index" in m for m in data["messages"])
