"""The text read from PDF documents at ingest is indexed, found with snippets, and the hit
links to the document page that marks it, on every search engine."""
from search import backends
from search.filters import SearchRequest
from search.query import parse
from tests.conftest import corpus_file

ATS_N = "0001675365-19-000012"  # two uuencoded PDF schedules, names found only in them


def test_words_only_in_a_pdf_find_that_pdf_with_a_snippet(ingest_paths, client, search_backend):
    ingest_paths(corpus_file(f"{ATS_N}.txt"))
    data = client.get("/api/search", {"q": "Gallinek", "view": "documents"}).json()
    assert data["total"] == 1
    [hit] = data["results"]
    assert (hit["accession_number"], hit["sequence"]) == (ATS_N, 2)
    assert hit["filename"] == "BofASFormBDScheduleA.pdf"
    assert "<mark" in hit["snippet"] and "gallinek" in hit["snippet"].lower()
    assert hit["url"].endswith(f"/filings/{ATS_N}/2/?q=Gallinek")
    page = client.get(hit["url"]).content.decode()
    assert '<mark class="hit"' in page and "Download BofASFormBDScheduleA.pdf" in page


def test_a_phrase_across_lines_of_the_second_pdf_finds_only_that_one(ingest_paths, client,
                                                                      search_backend):
    ingest_paths(corpus_file(f"{ATS_N}.txt"))
    data = client.get("/api/search", {"q": '"sole shareholder"', "view": "documents"}).json()
    assert [(r["accession_number"], r["sequence"]) for r in data["results"]] == [(ATS_N, 3)]
    data = client.get("/api/search", {"q": '"direct owners officers"', "view": "documents"})
    assert sorted(r["sequence"] for r in data.json()["results"]) == [2, 3]


def test_each_pdf_with_text_is_one_entry_of_the_index(ingest_paths, search_backend):
    ingest_paths(corpus_file(f"{ATS_N}.txt"))
    entries = backends.get().iter_results(parse(""), SearchRequest(), sort="newest",
                                          view="documents")
    assert sorted((h.sequence, h.filename) for h in entries if h.accession == ATS_N) == [
        (1, "primary_doc.xml"),
        (2, "BofASFormBDScheduleA.pdf"),
        (3, "BofASFormBDScheduleB.pdf"),
    ]
