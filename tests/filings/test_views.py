"""Filing, document and company pages, their files, and EDGAR-shaped URLs, on real filings."""
import gzip
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from filings import views
from filings.models import Document, Filing
from tests.conftest import corpus_file

pytestmark = pytest.mark.django_db

FORM4 = "0000842517-24-000086"  # indented SEC-HEADER, reporting owner + issuer
FORM4_NC = "0001127602-25-004598"  # daily-feed .nc
PEM_8K = "0000320193-99-000010"  # PEM-wrapped 1999 8-K
HEADER_ONLY = "0001062993-24-012217"  # .hdr.sgml, two parties, no documents
APPLE_8K = "0001193125-19-292676"  # 19 documents: HTML, XBRL, images, zip


@pytest.fixture
def form4(ingest_paths):
    ingest_paths(corpus_file(f"{FORM4}.txt"))
    return Filing.objects.get(accession_number=FORM4)


@pytest.fixture
def apple(ingest_paths):
    ingest_paths(corpus_file(f"{APPLE_8K}.txt"))
    return Filing.objects.get(accession_number=APPLE_8K)


def text_of(response):
    return response.content.decode()


def squash(html):
    """The page's text with tags removed and whitespace collapsed, for fact checks."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- Filing page --------------------------------------------------------------------------


def test_filing_page_shows_both_parties_of_an_indented_header_form_4(client, form4):
    response = client.get(f"/filings/{FORM4}/")
    assert response.status_code == 200
    text = squash(text_of(response))
    assert "Reporting owner McGuirk Richard L" in text
    assert "Issuer ISABELLA BANK Corp" in text
    assert "6022 STATE COMMERCIAL BANKS" in text
    assert "Fiscal year end December 31" in text
    assert "IRS no. 382830092" in text
    assert "401 NORTH MAIN STREET MT PLEASANT, MI 48858" in text
    assert "Former names ISABELLA BANK CORP until 2008-06-02 IBT BANCORP INC /MI/" in text
    html = text_of(response)
    assert 'href="/companies/842517/"' in html
    assert 'href="/companies/1849440/"' in html
    # Parties in header order: the owner first.
    assert html.index("McGuirk Richard L") < html.index("ISABELLA BANK Corp")


def test_filing_page_shows_acceptance_time_in_new_york_time(client, form4):
    text = squash(text_of(client.get(f"/filings/{FORM4}/")))
    # <ACCEPTANCE-DATETIME>20240501130722 is Eastern time, stored in UTC.
    assert "Accepted May 1, 2024 13:07:22 EDT" in text
    assert "Filed May 1, 2024" in text
    assert "Period Apr 29, 2024" in text
    assert "Film no. 24901899" in text


def test_filing_page_lists_documents_and_renders_the_primary_one(client, form4):
    response = client.get(f"/filings/{FORM4}/")
    html = text_of(response)
    assert f'href="/filings/{FORM4}/1/"' in html
    document = form4.documents.get(sequence=1)
    assert f'href="/filings/{FORM4}/files/{document.filename}"' in html
    # The ownership XML is rendered as tables at ingest.
    assert "Table I: Non-derivative securities" in html
    assert 'data-es-document' in html


def test_8k_items_are_shown_with_their_titles(client, apple):
    text = squash(text_of(client.get(f"/filings/{APPLE_8K}/")))
    assert "8.01 Other Events" in text
    assert "9.01 Financial Statements and Exhibits" in text


def test_pem_wrapped_filing_page_shows_its_filer(client, ingest_paths):
    ingest_paths(corpus_file(f"{PEM_8K}.txt"))
    response = client.get(f"/filings/{PEM_8K}/")
    text = squash(text_of(response))
    assert response.status_code == 200
    assert "Filer APPLE COMPUTER INC" in text
    assert "3571 ELECTRONIC COMPUTERS" in text
    assert "Fiscal year end September 30" in text
    assert "1 INFINITE LOOP CUPERTINO, CA 95014" in text


def test_nc_filing_page_shows_parties_and_xml_tables(client, ingest_paths):
    ingest_paths(corpus_file(f"{FORM4_NC}.nc"))
    html = text_of(client.get(f"/filings/{FORM4_NC}/"))
    text = squash(html)
    assert "Reporting owner Jean-Claude Carine Lamercie" in text
    assert "Issuer ARROW ELECTRONICS, INC." in text
    assert "Incorporated NY" in text
    assert "Former names ARROW ELECTRONICS, INC until 2022-11-17" in text
    assert "SVP, CLO &amp; Secretary" in html  # the owner's title, from the XML
    assert "2,193" in text and "106.82" in text


def test_header_only_filing_page_says_it_has_no_documents(client, ingest_paths):
    ingest_paths(corpus_file(f"{HEADER_ONLY}.hdr.sgml"))
    response = client.get(f"/filings/{HEADER_ONLY}/")
    text = squash(text_of(response))
    assert response.status_code == 200
    assert "header only" in text
    assert "Reporting owner Hassett Joseph" in text
    assert "Issuer UFP TECHNOLOGIES INC" in text
    assert "Documents 0 (header lists 1)" in text
    assert "data-es-document" not in text_of(response)


def test_filing_page_never_loads_the_large_columns_of_other_documents(client, apple):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/filings/{APPLE_8K}/")
    assert response.status_code == 200
    document_selects = [q["sql"] for q in queries if 'FROM "filings_document"' in q["sql"]]
    assert document_selects
    for sql in document_selects:
        assert '"filings_document"."content"' not in sql
        assert '"filings_document"."text"' not in sql
    html_loads = [sql for sql in document_selects if '"filings_document"."html"' in sql]
    # The primary document's, and only that, through SUBSTR (SQLite reads it as a blob).
    assert len(html_loads) <= 1
    assert all("SUBSTR(" in sql or "SUBSTRING(" in sql for sql in html_loads)
    assert len(queries) <= 8


def test_dashless_accession_redirects_permanently_to_the_dashed_one(client, form4):
    digits = FORM4.replace("-", "")
    response = client.get(f"/filings/{digits}/")
    assert response.status_code == 301
    assert response["Location"] == f"/filings/{FORM4}/"
    response = client.get(f"/filings/{digits}/1/?q=stock")
    assert response.status_code == 301
    assert response["Location"] == f"/filings/{FORM4}/1/?q=stock"
    response = client.get(f"/filings/{digits}.txt")
    assert response["Location"] == f"/filings/{FORM4}.txt"


@pytest.mark.parametrize(
    "url",
    [
        "/filings/9999999999-99-999999/",
        "/filings/not-an-accession/",
        "/filings/00008425-1724-000086/",  # right digits, wrong dashes
        f"/filings/{FORM4}/2/",
        f"/filings/{FORM4}/files/missing.htm",
        "/filings/9999999999-99-999999.txt",
        "/companies/999999999/",
        "/companies/0/",
        "/companies/apple/",
    ],
)
def test_unknown_things_are_a_404_in_the_site_design(client, form4, url):
    response = client.get(url)
    assert response.status_code == 404
    html = text_of(response)
    assert "Nothing here" in html
    assert 'class="site-header"' in html
    assert response["Content-Security-Policy"].startswith("default-src 'self'")


# --- Document page --------------------------------------------------------------------------


def test_document_page_has_sidebar_and_previous_next_links(client, apple):
    response = client.get(f"/filings/{APPLE_8K}/2/")
    html = text_of(response)
    assert response.status_code == 200
    assert f'rel="prev" href="/filings/{APPLE_8K}/1/"' in html
    assert f'rel="next" href="/filings/{APPLE_8K}/3/"' in html
    assert "Filer" in html and "Apple Inc." in html
    assert "Document 2 of 19" in squash(html)
    first = text_of(client.get(f"/filings/{APPLE_8K}/1/"))
    assert 'rel="prev"' not in first and "First document" in first


def test_image_document_is_shown_inline_and_zip_as_a_download(client, apple):
    image = apple.documents.filter(kind="image").first()
    html = text_of(client.get(image.get_absolute_url()))
    assert f'<img src="/filings/{APPLE_8K}/files/{image.filename}"' in html
    archive = apple.documents.get(filename__endswith=".zip")
    html = text_of(client.get(archive.get_absolute_url()))
    assert f'href="/filings/{APPLE_8K}/files/{archive.filename}" download' in html
    assert "data-es-document" not in html


def test_query_marks_hits_in_the_document_and_escapes_the_query(client, form4):
    q = '<script>alert("q")</script> common'
    response = client.get(f"/filings/{FORM4}/1/", {"q": q})
    html = text_of(response)
    marks = re.findall(r'<mark class="hit" id="es-hit-(\d+)">([^<]*)</mark>', html)
    assert marks, "no hits marked"
    assert [int(n) for n, _ in marks] == list(range(1, len(marks) + 1))
    assert all(word.lower() in {"common", "script", "alert", "q"} for _, word in marks)
    assert sum(word.lower() == "common" for _, word in marks) == 3
    assert '<script>alert("q")' not in html
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt; common" in html
    assert f"{len(marks)} hits for" in html
    assert "js/hits.js" in html


def test_query_without_hits_says_so(client, form4):
    html = text_of(client.get(f"/filings/{FORM4}/1/", {"q": "zyzzyva"}))
    assert "No hits for" in html
    assert '<mark class="hit"' not in html
    assert "js/hits.js" not in html


def test_highlighting_uses_the_search_apps_pattern_when_it_has_one(client, form4, monkeypatch):
    import sys
    import types

    module = types.ModuleType("search.query")
    module.highlight_pattern = lambda q: re.compile(r"held\s+by", re.I)
    monkeypatch.setitem(sys.modules, "search.query", module)
    html = text_of(client.get(f"/filings/{FORM4}/1/", {"q": "anything"}))
    assert re.search(r'<mark class="hit" id="es-hit-1">Held by</mark> minor child', html)


# --- Files -----------------------------------------------------------------------------------


def test_image_attachment_is_served_inline_with_safe_headers(client, apple):
    image = apple.documents.filter(kind="image").first()
    response = client.get(image.get_file_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response.content[:3] == b"\xff\xd8\xff"


def test_html_attachment_is_a_download_never_a_page(client, apple):
    primary = apple.documents.get(sequence=1)
    response = client.get(primary.get_file_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{primary.filename}"'
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response.content.decode() == primary.content


def test_binary_attachment_is_a_download_of_the_decoded_bytes(client, apple):
    archive = apple.documents.get(filename__endswith=".zip")
    response = client.get(archive.get_file_url())
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content[:2] == b"PK"
    assert len(response.content) == archive.size


def test_attachment_filename_header_is_plain_ascii():
    assert views._ascii_filename('ev"il\r\nname;.htm') == "ev_il_name_.htm"
    assert views._ascii_filename("résumé.pdf") == "r_sum_.pdf"
    assert views._ascii_filename("../") == "document"


def test_a_nul_in_a_file_name_is_a_404_not_a_shorter_name(client, form4):
    document = form4.documents.get(sequence=1)
    # SQLite's LIKE stops at a NUL: "x.xml\0.jpg" used to find and serve "x.xml".
    for tail in ("%00.jpg", "%00", "%0a"):
        response = client.get(f"/filings/{FORM4}/files/{document.filename}{tail}")
        assert response.status_code == 404, tail
        folder = f"/Archives/edgar/data/842517/{FORM4.replace('-', '')}"
        assert client.get(f"{folder}/{document.filename}{tail}").status_code == 404
    assert client.get(f"/filings/{FORM4}/files/{document.filename}").status_code == 200


@pytest.mark.parametrize(
    "filename, link",
    [
        ("../../../../cgi-bin/x.htm", None),
        ("..", None),
        ("sub/dir.htm", None),
        ("back\\slash.htm", None),
        ("a b#c?.htm", "a%20b%23c%3F.htm"),
        ("plain-0001.htm", "plain-0001.htm"),
    ],
)
def test_on_edgar_link_is_built_only_from_a_plain_file_name(client, form4, filename, link):
    document = form4.documents.get(sequence=1)
    Document.objects.filter(pk=document.pk).update(filename=filename)
    html = text_of(client.get(f"/filings/{FORM4}/1/"))
    folder = f"https://www.sec.gov/Archives/edgar/data/1849440/{FORM4.replace('-', '')}/"
    edgar = re.findall(r'href="(https://www\.sec\.gov/[^"]*)"[^>]*>On EDGAR', html)
    if link is None:
        assert edgar == []
    else:
        assert edgar == [folder + link]


SECURITY_HEADER_URLS = [
    "/",
    f"/filings/{FORM4}/",
    f"/filings/{FORM4}/1/?q=stock",
    f"/filings/{FORM4}.txt",
    f"/api/filings/{FORM4}",
    "/filings/9999999999-99-999999/",  # a 404
    "/search/?q=stock",
    "/api/search?q=stock",
    "/admin/login/",
]


@pytest.mark.parametrize("url", SECURITY_HEADER_URLS)
def test_every_response_carries_the_security_headers(client, form4, url):
    response = client.get(url)
    assert response.status_code in (200, 404)
    policy = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial",
                    "hid", "display-capture", "xr-spatial-tracking"):
        assert policy[feature] == "()", feature
    assert "default-src" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_file_downloads_carry_the_permissions_policy_too(client, form4):
    document = form4.documents.get(sequence=1)
    response = client.get(f"/filings/{FORM4}/files/{document.filename}")
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Content-Security-Policy"] == views.FILE_CSP


def test_original_is_served_as_ingested(client, form4):
    response = client.get(f"/filings/{FORM4}.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    with form4.original.open("rb") as fh:
        assert response.content == gzip.decompress(fh.read())
    assert response.content.startswith(b"<SEC-DOCUMENT>0000842517-24-000086.txt")


# --- Company page and feed -------------------------------------------------------------------


def test_company_page_lists_filings_with_profile(client, ingest_paths):
    ingest_paths(corpus_file(f"{PEM_8K}.txt"), corpus_file(f"{APPLE_8K}.txt"))
    response = client.get("/companies/320193/")
    html = text_of(response)
    text = squash(html)
    assert response.status_code == 200
    assert "Apple Inc." in text  # the newer filing's name wins
    assert "Fiscal year end September 28" in text
    assert html.index(APPLE_8K) < html.index(PEM_8K)  # newest first
    assert 'href="/companies/320193/feed/"' in html


def test_padded_cik_redirects_to_the_plain_one(client, form4):
    response = client.get("/companies/0000842517/?form=4")
    assert response.status_code == 301
    assert response["Location"] == "/companies/842517/?form=4"


def test_company_filings_filter_by_form_and_paginate(client, ingest_paths, monkeypatch):
    ingest_paths(corpus_file(f"{PEM_8K}.txt"), corpus_file(f"{APPLE_8K}.txt"),
                 corpus_file("0000320193-97-000021.txt"))
    html = text_of(client.get("/companies/320193/", {"form": "10-Q/A"}))
    assert "0000320193-97-000021" in html and APPLE_8K not in html
    monkeypatch.setattr(views, "COMPANY_PAGE_SIZE", 1)
    page1 = text_of(client.get("/companies/320193/", {"form": "8-K"}))
    assert APPLE_8K in page1 and PEM_8K not in page1
    assert 'href="?form=8-K&amp;page=2"' in page1
    page2 = text_of(client.get("/companies/320193/", {"form": "8-K", "page": 2}))
    assert PEM_8K in page2 and APPLE_8K not in page2


def test_company_feed_is_atom_with_newest_filing_first(client, ingest_paths):
    ingest_paths(corpus_file(f"{PEM_8K}.txt"), corpus_file(f"{APPLE_8K}.txt"))
    response = client.get("/companies/320193/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = text_of(response)
    assert body.index(APPLE_8K) < body.index(PEM_8K)
    assert f"http://testserver/filings/{APPLE_8K}/" in body


# --- EDGAR's URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, target",
    [
        ("/Archives/edgar/data/320193/000119312519292676/", f"/filings/{APPLE_8K}/"),
        ("/Archives/edgar/data/320193/000119312519292676", f"/filings/{APPLE_8K}/"),
        (f"/Archives/edgar/data/320193/000119312519292676/{APPLE_8K}-index.htm",
         f"/filings/{APPLE_8K}/"),
        (f"/Archives/edgar/data/320193/000119312519292676/{APPLE_8K}-index.html",
         f"/filings/{APPLE_8K}/"),
        (f"/Archives/edgar/data/320193/000119312519292676/{APPLE_8K}-index-headers.html",
         f"/filings/{APPLE_8K}/"),
        ("/Archives/edgar/data/320193/000119312519292676/d828969d8k.htm",
         f"/filings/{APPLE_8K}/1/"),
        ("/Archives/edgar/data/320193/000119312519292676/d828969dex41.htm",
         f"/filings/{APPLE_8K}/3/"),
        ("/Archives/edgar/data/320193/", "/companies/320193/"),
    ],
)
def test_edgar_paths_redirect_to_our_pages(client, apple, path, target):
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"] == target


def test_edgar_submission_path_serves_the_raw_submission_as_edgar_does(client, apple):
    for cik in ("320193", "0000320193"):
        response = client.get(f"/Archives/edgar/data/{cik}/{APPLE_8K}.txt")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.content == apple.read_original()
    assert b"<SEC-HEADER>" in response.content and b"<DOCUMENT>" in response.content
    # Not a party of the filing, an unknown filing: not found (as on EDGAR).
    assert client.get(f"/Archives/edgar/data/1800/{APPLE_8K}.txt").status_code == 404
    assert client.get("/Archives/edgar/data/320193/0000000000-00-000001.txt").status_code == 404


def test_edgar_path_to_an_unknown_file_or_filing_is_a_404(client, apple):
    assert client.get("/Archives/edgar/data/320193/000119312519292676/R9.htm").status_code == 404
    assert client.get("/Archives/edgar/data/320193/000000000000000001/").status_code == 404


# --- Home ------------------------------------------------------------------------------------


def test_home_shows_search_latest_filings_and_figures(client, ingest_paths):
    ingest_paths(corpus_file(f"{PEM_8K}.txt"), corpus_file(f"{FORM4}.txt"))
    response = client.get("/")
    html = text_of(response)
    text = squash(html)
    assert response.status_code == 200
    assert 'name="q"' in html and 'role="search"' in html
    assert "Company or CIK" in html
    assert "Filings 2" in text
    assert "Companies 3" in text
    assert "1999–2024" in text
    assert html.index(FORM4) < html.index(PEM_8K)


def test_home_with_an_empty_collection(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No filings yet" in text_of(response)


@pytest.mark.parametrize("path", [
    # Arabic-Indic and full-width digits are \d to Python's re, and int() reads them.
    f"/Archives/edgar/data/\u0663\u0662\u0660\u0661\u0669\u0663/{APPLE_8K}.txt",
    f"/Archives/edgar/data/\uff13\uff12\uff10\uff11\uff19\uff13/{APPLE_8K}.txt",
    "/Archives/edgar/data/\u0663\u0662\u0660\u0661\u0669\u0663/",
    "/Archives/edgar/data/320193/\u0660\u0660\u0660119312519292676/",
    "/Archives/edgar/data/320193/0001193125-\u0661\u0669-292676.txt",
    "/Archives/edgar/data/\u0663\u0662\u0660\u0661\u0669\u0663/000119312519292676/d828969d8k.htm",
    "/filings/\u0660\u0660\u0660\u0661193125-19-292676/",
    "/companies/\u0663\u0662\u0660\u0661\u0669\u0663/",
])
def test_edgar_paths_take_ascii_digits_only(client, apple, path):
    assert client.get(path).status_code == 404
