"""Tickers and file numbers at a phone's width (390 px) and a laptop's (1366 px): the
company box suggests a company by its ticker, the company page and the results show the
ticker, a result's file number leads to every filing under it; no page scrolls sideways
and each shows its main content in the first screenful (test-artifacts/tickers-*.png)."""
import os
import re

import pytest
from django.core.management import call_command

from tests.conftest import FIXTURES, corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APPLE_10Q = "0000320193-97-000011"  # file number 000-10030
APPLE_10Q_1999 = "0000320193-99-000002"  # 000-10030 too
ADOBE_8K = "0000796343-23-000044"  # 000-15175


def fits(page, name, label, artifacts_dir, height):
    page.wait_for_load_state("networkidle")
    page.screenshot(path=os.path.join(artifacts_dir, f"tickers-{name}-{label}.png"))
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0, name
    top = page.evaluate("document.querySelector('[data-es-primary]')"
                        ".getBoundingClientRect().top + scrollY")
    assert top + 40 <= height, (name, label, top)


@pytest.mark.parametrize("width, height, label", [(390, 844, "phone"), (1366, 768, "laptop")])
def test_tickers_and_file_numbers_on_the_pages(
    live_server, browser, ingest_paths, artifacts_dir, width, height, label
):
    accessions = (APPLE_10Q, APPLE_10Q_1999, ADOBE_8K)
    summary = ingest_paths(*(corpus_file(f"{a}.txt") for a in accessions))
    assert summary.failed == 0
    call_command("load_tickers", str(FIXTURES / "tickers" / "company_tickers_exchange.json"),
                 verbosity=0)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        box = page.get_by_label("Company or CIK")
        box.fill("AAPL")
        option = page.locator("[role=option]").first
        option.wait_for()
        assert "AAPL" in option.inner_text() and "APPLE" in option.inner_text().upper()
        option.click()
        page.wait_for_url(re.compile(r"/companies/320193/$"))
        fits(page, "company", label, artifacts_dir, height)
        assert "AAPL" in page.locator(".page-head").inner_text()

        page.goto(f"{live_server.url}/search/?q=ticker%3AAAPL")
        fits(page, "results", label, artifacts_dir, height)
        rows = page.locator("tr.result:not(.result--snippet)")
        assert rows.count() == 2
        assert page.locator(".result__entity .ticker").first.inner_text() == "AAPL"

        page.locator(".result__fileno a", has_text="000-10030").first.click()
        page.wait_for_url(re.compile(r"file_number=000-10030"))
        fits(page, "file-number", label, artifacts_dir, height)
        assert page.locator("tr.result:not(.result--snippet)").count() == 2
        assert "ADOBE" not in page.locator("[data-es-primary]").inner_text().upper()
    finally:
        context.close()
