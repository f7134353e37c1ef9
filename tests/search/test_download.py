"""/search.zip: every document a search matched, as filed or as sanitized HTML, streamed,
with a manifest, safe names, and a maximum (search.download). On every search engine."""
import csv
import io
import re
import zipfile

import pytest

from filings.models import Document
from search.download import member_name, safe_name
from tests.conftest import corpus_file

CSV_FIELDS = 12


def get_zip(client, **params):
    response = client.get("/search.zip", params)
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


def manifest(archive):
    rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    assert rows[0] == ["file", "accession_number", "sequence", "form_type", "company", "filed",
                       "document_type", "description", "filename", "format", "bytes", "url"]
    return rows[1:]


def api_documents(client, **params):
    params.update(view="documents", per_page=100)
    data = client.get("/api/search", params).json()
    assert data["total"] <= 100
    return [(r["accession_number"], r["sequence"]) for r in data["results"]]


def test_zip_holds_each_matching_document_as_filed_in_result_order(client, corpus):
    expected = api_documents(client, q="revenue")
    assert len(expected) > 5
    archive = get_zip(client, q="revenue")
    rows = manifest(archive)
    assert [(r[1], int(r[2])) for r in rows] == expected
    assert archive.namelist() == [r[0] for r in rows] + ["manifest.csv"]
    for row in rows:
        name, accession, sequence = row[0], row[1], int(row[2])
        document = Document.objects.get(filing__accession_number=accession, sequence=sequence)
        body = archive.read(name)
        if document.file:
            assert body == document.file.read()
        else:
            assert body == document.content.encode("utf-8")
        assert name == member_name(accession, sequence, document.filename, document.kind,
                                   "original")
        assert row[9] == "original" and int(row[10]) == len(body)
        assert row[11] == f"http://testserver/filings/{accession}/{sequence}/?q=revenue"
        assert row[6] == document.type and row[8] == document.filename


def test_filings_view_gives_the_same_documents_as_the_documents_view(client, corpus):
    by_documents = manifest(get_zip(client, q="apple", view="documents"))
    by_filings = manifest(get_zip(client, q="apple", view="filings"))
    assert by_documents and sorted(by_filings) == sorted(by_documents)


def test_zip_of_sanitized_html_is_the_pages_html_in_a_closed_page(client, corpus):
    archive = get_zip(client, q="revenue", files="html", form="10-Q")
    rows = manifest(archive)
    assert rows and all(r[3] == "10-Q" for r in rows)
    for row in rows:
        assert row[0].endswith(".html") and row[9] == "html"
        page = archive.read(row[0]).decode("utf-8")
        document = Document.objects.get(filing__accession_number=row[1], sequence=int(row[2]))
        assert document.html in page
        assert "default-src 'none'" in page
        assert not re.search(r"<script|\son\w+=", page, re.I)


def test_manifest_names_company_form_and_filed_date(client, corpus):
    rows = manifest(get_zip(client, q="revenue", cik="320193"))
    assert rows
    for row in rows:
        assert "APPLE" in row[4].upper()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", row[5])
        assert len(row) == CSV_FIELDS


def test_zip_stops_at_the_document_maximum_and_says_so(client, corpus, settings):
    expected = api_documents(client, q="revenue")
    settings.ZIP_MAX_DOCUMENTS = 3
    archive = get_zip(client, q="revenue")
    rows = manifest(archive)
    assert [(r[1], int(r[2])) for r in rows[:-1]] == expected[:3]
    assert len(archive.namelist()) == 4
    assert rows[-1][0] == (f"Stopped: this zip holds at most 3 documents (ZIP_MAX_DOCUMENTS). "
                           f"{len(expected) - 3} more matching documents are not in it; "
                           f"narrow the search to get them.")


def test_zip_stops_before_the_document_that_would_pass_the_byte_maximum(client, corpus,
                                                                      settings):
    expected = api_documents(client, q="revenue")
    sizes = dict(((d.filing.accession_number, d.sequence), d.size)
                 for d in Document.objects.select_related("filing"))
    settings.ZIP_MAX_BYTES = sizes[expected[0]] + sizes[expected[1]]
    rows = manifest(get_zip(client, q="revenue"))
    assert [(r[1], int(r[2])) for r in rows[:-1]] == expected[:2]
    assert sum(int(r[10]) for r in rows[:-1]) == settings.ZIP_MAX_BYTES
    mb = f"{settings.ZIP_MAX_BYTES / 2**20:.6g}"
    assert rows[-1][0] == (f"Stopped: this zip holds at most {mb} MB of documents (ZIP_MAX_MB)."
                           f" {len(expected) - 2} more matching documents are not in it; "
                           f"narrow the search to get them.")
    assert rows[-1][1:] == [""] * (CSV_FIELDS - 1)


def test_the_byte_maximum_counts_the_html_zips_bytes_not_characters(client, corpus,
                                                                     settings):
    # The sanitized HTML's length in characters was its size: the page around it and
    # multi-byte characters (a no-break space is two) passed the maximum.
    expected = api_documents(client, q="revenue", form="10-Q")
    whole = manifest(get_zip(client, q="revenue", form="10-Q", files="html"))
    second = Document.objects.get(filing__accession_number=expected[1][0],
                                  sequence=expected[1][1]).html
    assert whole[1][9] == "html" and len(second.encode()) + 200 < int(whole[1][10])
    # Room for the first page and the second's characters, not for its page.
    settings.ZIP_MAX_BYTES = int(whole[0][10]) + len(second)
    rows = manifest(get_zip(client, q="revenue", form="10-Q", files="html"))
    assert sum(int(r[10]) for r in rows[:-1]) <= settings.ZIP_MAX_BYTES
    assert [(r[1], int(r[2])) for r in rows[:-1]] == expected[:1]
    assert rows[-1][0].startswith("Stopped: this zip holds at most")


def test_a_search_with_no_results_is_a_zip_with_an_empty_manifest(client, corpus):
    archive = get_zip(client, q="zzyzxqqq")
    assert archive.namelist() == ["manifest.csv"]
    assert manifest(archive) == []


def test_an_unknown_format_is_refused_with_a_reason(client, corpus):
    response = client.get("/search.zip", {"q": "revenue", "files": "exe"})
    assert response.status_code == 400
    assert b"files must be original" in response.content


def test_results_page_links_both_zips_beside_the_csv(client, corpus):
    html = client.get("/search/", {"q": "revenue", "view": "filings", "page": "2"})
    html = html.content.decode()
    nav = re.search(r'<nav class="results-export".*?</nav>', html).group(0)
    assert re.search(r'href="/search.csv\?q=revenue[^"]*">CSV</a> <a href="/search.zip\?q=revenue"'
                     r'[^>]*>Zip</a> <a href="/search.zip\?q=revenue&amp;files=html"', nav)


# --- Hostile file names ---------------------------------------------------------------------


def test_safe_name_keeps_the_last_component_and_plain_characters():
    assert safe_name("../../etc/passwd", "x") == "passwd"
    assert safe_name("..", "x") == "x"
    assert safe_name("/abs/path.htm", "x") == "path.htm"
    assert safe_name("C:\\Windows\\evil.exe", "x") == "evil.exe"
    assert safe_name("C:evil.txt", "x") == "evil.txt"
    assert safe_name("ré sumé\x00.pdf", "x") == "r_sum_.pdf"
    assert safe_name(".hidden", "x") == "hidden"
    assert len(safe_name("a" * 300 + ".txt", "x")) == 100


HOSTILE_NAMES = ["../../../etc/cron.d/evil", "/etc/passwd", "..\\..\\boot.ini", "..",
                 "same.txt", "same.txt", "ünïcode name.htm", "x" * 300]


def hostile_submission(accession):
    parts = [f"<SEC-DOCUMENT>{accession}.txt : 20240402\n<SEC-HEADER>\n"
             f"ACCESSION NUMBER:\t\t{accession}\nCONFORMED SUBMISSION TYPE:\t8-K\n"
             f"FILED AS OF DATE:\t\t20240402\n\nFILER:\n\n\tCOMPANY DATA:\t\n"
             f"\t\tCOMPANY CONFORMED NAME:\t\t\tHOSTILE NAMES INC\n"
             f"\t\tCENTRAL INDEX KEY:\t\t\t0000999002\n</SEC-HEADER>\n"]
    for sequence, name in enumerate(HOSTILE_NAMES, 1):
        parts.append(f"<DOCUMENT>\n<TYPE>EX-99\n<SEQUENCE>{sequence}\n<FILENAME>{name}\n<TEXT>\n"
                     f"Quokka exhibit {sequence}.\n</TEXT>\n</DOCUMENT>\n")
    return "".join(parts + ["</SEC-DOCUMENT>\n"]).encode()


@pytest.mark.django_db
def test_hostile_filenames_become_safe_unique_names_under_the_accession(
        client, ingest_paths, tmp_path, search_backend):
    accession = "0000999002-24-000001"
    path = tmp_path / f"{accession}.txt"
    path.write_bytes(hostile_submission(accession))
    summary = ingest_paths(path)
    assert summary.failed == 0, [str(o) for o in summary.outcomes]
    archive = get_zip(client, q="quokka", sort="oldest")
    names = [n for n in archive.namelist() if n != "manifest.csv"]
    assert len(names) == len(HOSTILE_NAMES) == len(set(names))
    for name in names:
        assert re.fullmatch(rf"{accession}/\d{{4}}-[A-Za-z0-9._-]+", name), name
        assert not name.split("/")[1].startswith(".")
    assert sorted(names)[:4] == [f"{accession}/0001-evil.txt", f"{accession}/0002-passwd.txt",
                                 f"{accession}/0003-boot.ini", f"{accession}/0004-document.txt"]
    # Unpacked, every file lands inside the target directory.
    target = tmp_path / "unpacked"
    archive.extractall(target)
    for file in target.rglob("*"):
        assert file.resolve().is_relative_to(target.resolve())
    rows = manifest(archive)
    assert [r[8] for r in sorted(rows, key=lambda r: int(r[2]))] == [
        n[:255] for n in HOSTILE_NAMES]
    assert {archive.read(r[0]).decode().strip() for r in rows} == {
        f"Quokka exhibit {n}." for n in range(1, len(HOSTILE_NAMES) + 1)}


def test_every_corpus_pdf_zip_member_is_the_stored_pdf(client, ingest_paths, search_backend):
    ingest_paths(corpus_file("0001675365-19-000012.txt"))
    archive = get_zip(client, q="gallinek")
    [row] = manifest(archive)
    assert row[0] == "0001675365-19-000012/0002-BofASFormBDScheduleA.pdf"
    document = Document.objects.get(filing__accession_number=row[1], sequence=2)
    assert archive.read(row[0]) == document.file.read()
    assert archive.read(row[0]).startswith(b"%PDF")
    assert archive.getinfo(row[0]).compress_type == zipfile.ZIP_STORED


def test_a_stored_file_gone_missing_is_a_manifest_line_not_a_broken_zip(
        client, ingest_paths, search_backend):
    # The stored file was opened only once its zip entry had begun: a file gone (deleted
    # on disk, or replaced by a re-ingest while the zip streams) broke the stream with
    # FileNotFoundError, and the browser's download failed midway.
    ingest_paths(corpus_file("0001675365-19-000012.txt"))
    document = Document.objects.get(filing__accession_number="0001675365-19-000012",
                                    sequence=2)
    document.file.storage.delete(document.file.name)
    archive = get_zip(client, q="gallinek")
    [row] = manifest(archive)
    assert archive.namelist() == ["manifest.csv"]
    assert row[:3] == ["", "0001675365-19-000012", "2"]
    assert row[9] == "left out: its stored file could not be read" and row[10] == "0"


def test_help_page_states_the_maximum_from_the_settings(client, settings, db):
    settings.ZIP_MAX_DOCUMENTS = 2500
    settings.ZIP_MAX_BYTES = 50 * 2**20
    html = client.get("/search/help/").content.decode()
    assert "at most 2,500 documents and 50 MB of them" in html
