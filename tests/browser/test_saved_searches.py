"""Saved searches in Chromium at a phone's width (390 px) and a laptop's (1366 px): sign in
from the header, save a search from its results page, see it on /searches/ with no
sideways scrolling and the list in the first screenful, then a filing back-filled later
(a 1995 10-Q) counted as new and reached by clicking (test-artifacts/saved-*.png)."""
import os

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECENT = "0001104659-26-017097.txt"  # Nuvectis Pharma, CORRESP of 2026
OLD = "0000014272-95-000007.txt"  # Bristol-Myers Squibb, 10-Q of 1995


def no_sideways_scrolling(page):
    return page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0


@pytest.mark.parametrize("width, height, label", [(390, 844, "phone"), (1366, 768, "laptop")])
def test_save_a_search_and_see_a_backfilled_filing_as_new(
    live_server, browser, ingest_paths, artifacts_dir, settings, width, height, label
):
    settings.ALERTS_SETTLE_SECONDS = 0
    get_user_model().objects.create_user("ann", "ann@example.org", "a-long-pass-phrase")
    assert ingest_paths(corpus_file(RECENT)).counts["new"] == 1
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/search/?cik=1875558&cik=14272")
        page.click(".site-header__account a:text-is('Sign in')")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(artifacts_dir, f"saved-login-{label}.png"))
        assert no_sideways_scrolling(page)
        top = page.evaluate("document.querySelector('input[name=username]')"
                            ".getBoundingClientRect().top")
        assert top + 40 <= height, (label, top)
        page.fill("input[name=username]", "ann")
        page.fill("input[name=password]", "a-long-pass-phrase")
        page.click("button:text-is('Sign in')")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/search/?cik=1875558&cik=14272")  # back where they were
        assert no_sideways_scrolling(page)

        page.fill("#es-save-name", "Pharma filings")
        page.click(".save-search button:text-is('Save')")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/searches/")
        item = page.locator(".saved-search")
        assert item.count() == 1
        assert item.locator(".saved-search__name").text_content() == "Pharma filings"
        assert item.locator("[data-new]").get_attribute("data-new") == "0"
        assert "Company" in item.locator(".saved-search__query").text_content()

        # A 1995 filing loaded now is news to the saved search.
        assert ingest_paths(corpus_file(OLD)).counts["new"] == 1
        page.reload()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(artifacts_dir, f"saved-{label}.png"))
        assert no_sideways_scrolling(page)
        new = page.locator("button.saved-search__new")
        assert new.text_content() == "1 new filing"
        top = page.evaluate("document.querySelector('.saved-search').getBoundingClientRect().top")
        assert top + 80 <= height, (label, top)
        # Renaming and alerts sit behind a disclosure, open on request.
        page.click(".saved-search__edit summary")
        assert page.locator(".saved-search__form input[type=checkbox]").is_visible()
        assert no_sideways_scrolling(page)

        new.click()
        page.wait_for_load_state("networkidle")
        assert "sort=ingested" in page.url and "ingested_after=" in page.url
        page.screenshot(path=os.path.join(artifacts_dir, f"saved-new-{label}.png"))
        rows = page.locator(".results-table tbody")
        assert rows.count() == 1 and "0000014272-95-000007" in rows.inner_html()
        assert no_sideways_scrolling(page)
        page.goto(f"{live_server.url}/searches/")
        assert page.locator("[data-new]").get_attribute("data-new") == "0"  # seen now
    finally:
        context.close()
