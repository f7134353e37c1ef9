"""In Chromium: type a query, refine it by a facet, open a result with its hits marked."""
import re

import pytest

from tests.conftest import corpus_file

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_query_facet_and_highlighted_result(ingest_paths, live_server, page, artifacts_dir):
    ingest_paths(
        corpus_file("0000320193-97-000011.txt"),
        corpus_file("0000320193-99-000002.txt"),
        corpus_file("0000796343-23-000044.txt"),
    )
    page.goto(f"{live_server.url}/search/")
    box = page.get_by_label("Search filings")
    box.fill("revenue")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=revenue"))
    forms = page.locator(".result__form a").all_inner_texts()
    assert "8-K" in forms and "10-Q" in forms

    page.locator("[data-facet=form] a", has_text="10-Q").click()
    page.wait_for_url(re.compile(r"form=10-Q"))
    forms = page.locator(".result__form a").all_inner_texts()
    assert forms and set(forms) == {"10-Q"}
    page.screenshot(path=f"{artifacts_dir}/search-results.png", full_page=True)

    first = page.locator("a.result__link").first
    href = first.get_attribute("href")
    assert href.endswith("?q=revenue")
    first.click()
    page.wait_for_url(re.compile(r"/filings/0000320193-9\d-\d+/\d+/\?q=revenue"))
    marks = page.locator("mark")
    marks.first.wait_for()
    assert marks.count() > 0
    assert all(t.strip().lower() == "revenue" for t in marks.all_inner_texts()[:20])


@pytest.mark.django_db(transaction=True)
def test_company_box_suggests_as_you_type(ingest_paths, live_server, page):
    # The home page's company box opens the company chosen (the results page's filters
    # by it: tests/browser/test_layout.py).
    ingest_paths(corpus_file("0000320193-99-000002.txt"))
    page.goto(f"{live_server.url}/")
    box = page.get_by_label("Company or CIK")
    box.fill("appl")
    option = page.locator("[role=option]").first
    option.wait_for()
    assert "APPLE COMPUTER INC" in option.inner_text()
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/companies/320193/"))
