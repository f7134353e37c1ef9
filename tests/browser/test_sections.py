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


def _settles_in_view(page, selector: str) -> bool:
    """The element ends up in view. A link's fragment is scrolled to as the page loads,
    which may be after the address already shows it."""
    page.wait_for_function(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                   return r.top >= 0 && r.top < innerHeight; }""",
        arg=selector, timeout=5000)
    return True


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
        assert _settles_in_view(page, "#item-7")
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
    page.wait_for_load_state("load")
    assert _settles_in_view(page, "#item-7a")


@pytest.mark.parametrize("width, height", [(390, 844), (1366, 768)])
def test_hits_in_a_document_opened_at_a_section_start_from_that_section(
    live_server, browser, ingest_paths, width, height
):
    """Opened at a section's heading with the hits of a query marked, the page stays at the
    heading, below the sticky hit bar (which wraps to two rows on a phone), instead of being
    pulled back to the document's first hit; the first move goes to the first hit after the
    heading, or the last one before it."""
    assert ingest_paths(corpus_file(f"{TEN_K}.txt")).failed == 0
    url = f"{live_server.url}/filings/{TEN_K}/1/?q=risk#item-7a"
    marks = """() => { const t = document.getElementById('item-7a');
        return [...document.querySelectorAll('mark.hit')].map(
          (h) => [h.id, !!(t.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING)]); }"""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    status = page.locator("[data-es-hit-status]")
    try:
        page.goto(url)
        page.wait_for_load_state("load")
        hits = page.evaluate(marks)
        before = [h for h, after in hits if not after]
        after = [h for h, after in hits if after]
        assert before and after, hits  # hits on both sides of the heading
        assert _settles_in_view(page, "#item-7a")
        heading_top, bar_bottom = page.evaluate(
            "[document.getElementById('item-7a').getBoundingClientRect().top,"
            " document.querySelector('[data-es-hitbar]').getBoundingClientRect().bottom]")
        assert heading_top >= bar_bottom, (heading_top, bar_bottom)
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        assert page.locator("mark.hit--current").count() == 0
        assert status.text_content().startswith(f"{len(hits)} hits for")
        page.keyboard.press("n")
        assert status.text_content() == f"Hit {len(before) + 1} of {len(hits)}"
        assert page.evaluate("document.querySelector('mark.hit--current').id") == after[0]

        page.goto(url.replace("#item-7a", "&x=1#item-7a"))  # a new load, not a hash change
        page.wait_for_load_state("load")
        page.keyboard.press("p")
        assert status.text_content() == f"Hit {len(before)} of {len(hits)}"
        assert page.evaluate("document.querySelector('mark.hit--current').id") == before[-1]
    finally:
        context.close()
