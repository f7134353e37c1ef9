"""The sections of a 10-K on its document page at a phone's width (390 px) and a laptop's
(1366 px): the table of contents sits above the document, folded, so the document still
starts in the first screenful; opening it and clicking an item scrolls to that item's
heading; a section search's hit opens at its section. No sideways scrolling
(test-artifacts/sections-*.png are the screenshots)."""
import os

import pytest

from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEN_K = "0001010412-10-000078"  # TGFIN Holdings' 2009 10-K: Items 1 to 15, 1A and 7A


def _in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                   return r.top >= 0 && r.top < innerHeight; }""", selector)


@pytest.mark.parametrize("width, height, label", [(390, 844, "phone"), (1366, 768, "laptop")])
def test_table_of_contents_links_to_each_heading(
    live_server, browser, ingest_paths, artifacts_dir, width, height, label
):
    assert ingest_paths(corpus_file(f"{TEN_K}.txt")).failed == 0
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/filings/{TEN_K}/1/")
        toc = page.locator("details.section-toc")
        assert toc.is_visible()
        assert "19 items found" in toc.locator("summary").inner_text()
        # Folded, the document itself starts in the first screenful.
        top = page.evaluate("document.querySelector('[data-es-document]')"
                            ".getBoundingClientRect().top")
        assert top < height, top
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        toc.locator("summary").click()
        link = toc.get_by_role("link", name="Part II, Item 7 Management")
        assert link.is_visible()
        page.screenshot(path=os.path.join(artifacts_dir, f"sections-toc-{label}.png"))
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        link.click()
        page.wait_for_function("location.hash === '#item-7'")
        assert _in_view(page, "#item-7")
        heading = page.evaluate(
            "(() => { const r = document.createRange();"
            " r.setStartBefore(document.getElementById('item-7'));"
            " r.setEndAfter(document.querySelector('[data-es-document]').lastChild);"
            " return r.toString().trim().slice(0, 7); })()")
        assert heading == "ITEM 7."
        page.screenshot(path=os.path.join(artifacts_dir, f"sections-item7-{label}.png"))
    finally:
        context.close()


def test_a_section_search_hit_opens_at_its_section(live_server, page, ingest_paths):
    assert ingest_paths(corpus_file(f"{TEN_K}.txt")).failed == 0
    page.goto(f"{live_server.url}/search/?q=section%3A7A+%22market+risk%22&view=documents")
    page.locator("a.result__link").first.click()
    page.wait_for_function("location.hash === '#item-7a'")
    assert "section=7a" in page.url
    assert _in_view(page, "#item-7a")
