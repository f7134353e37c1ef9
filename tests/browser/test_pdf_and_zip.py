"""A PDF's page (its download, then its text with hits marked) and the results page's zip
links, at a phone's width (390 px) and a laptop's (1366 px): no sideways scrolling, the
main content in the first screenful, and the zip link downloads the search's documents
(test-artifacts/pdf-zip-*.png are the screenshots)."""
import io
import os
import zipfile

import pytest

from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ATS_N = "0001675365-19-000012"  # two PDF schedules
APPLE_LETTER = "0000000000-24-003505"  # a PDF comment letter first
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def collection(ingest_paths):
    summary = ingest_paths(corpus_file(f"{ATS_N}.txt"), corpus_file(f"{APPLE_LETTER}.txt"),
                           corpus_file("0000320193-97-000011.txt"))
    assert summary.failed == 0


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    top = page.evaluate(
        "document.querySelector('[data-es-primary]').getBoundingClientRect().top + scrollY")
    assert top + 40 <= page.evaluate("innerHeight")


@pytest.mark.parametrize("viewport, label", [(PHONE, "phone"), (LAPTOP, "laptop")])
def test_pdf_page_shows_download_then_text_with_hits(live_server, browser, collection,
                                                     artifacts_dir, viewport, label):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/filings/{ATS_N}/2/?q=gallinek")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(artifacts_dir, f"pdf-zip-document-{label}.png"))
        fits(page)
        download = page.locator(".doc-download a.button--primary")
        assert download.inner_text() == "Download BofASFormBDScheduleA.pdf"
        text = page.locator(".filing-doc--pdf pre.filing-text")
        assert text.is_visible()
        # The download comes first, then the text; the hit is marked and in view.
        assert download.bounding_box()["y"] < text.bounding_box()["y"]
        marks = page.locator(".filing-doc--pdf mark.hit")
        assert marks.count() >= 1 and marks.first.inner_text().lower() == "gallinek"
        # Long lines of the PDF's text wrap inside the page.
        box = text.bounding_box()
        assert box["x"] + box["width"] <= viewport["width"]

        page.goto(f"{live_server.url}/filings/{APPLE_LETTER}/")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(artifacts_dir, f"pdf-zip-filing-{label}.png"))
        fits(page)
        assert "Dear Luca Maestri:" in page.locator(".filing-doc--pdf").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("viewport, label", [(PHONE, "phone"), (LAPTOP, "laptop")])
def test_results_page_zip_link_downloads_the_documents(live_server, browser, collection,
                                                       artifacts_dir, viewport, label):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/search/?q=owners")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(artifacts_dir, f"pdf-zip-results-{label}.png"))
        fits(page)
        link = page.get_by_role("link", name="Zip", exact=True)
        assert link.is_visible()
        assert page.get_by_role("link", name="Zip (HTML)").is_visible()
        with page.expect_download() as info:
            link.click()
        download = info.value
        assert download.suggested_filename.startswith("edgar-search-")
        archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
        assert f"{ATS_N}/0002-BofASFormBDScheduleA.pdf" in archive.namelist()
        assert f"{ATS_N}/0003-BofASFormBDScheduleB.pdf" in archive.namelist()
        assert "manifest.csv" in archive.namelist()
    finally:
        context.close()
