"""The insider transactions page at a phone's width (390 px) and a laptop's (1366 px): no
sideways scrolling, the transactions start in the first screenful, sorting by a column
header (on a phone: the sort choice) and filtering by a code chip work by clicking
(test-artifacts/insiders-*.png are the screenshots)."""
import os

import pytest

from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TESLA = "0000950170-25-003585"  # Form 4: an M, 23 S sales and a derivative M
TESLA_CIK = 1318605


@pytest.mark.parametrize("width, height, label", [(390, 844, "phone"), (1366, 768, "laptop")])
def test_insider_page_fits_sorts_and_filters(
    live_server, browser, ingest_paths, artifacts_dir, width, height, label
):
    assert ingest_paths(corpus_file(TESLA + ".txt")).counts["new"] == 1
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/companies/{TESLA_CIK}/")
        page.click(f"a[href='/companies/{TESLA_CIK}/insiders/']")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=os.path.join(artifacts_dir, f"insiders-{label}.png"))
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        top = page.evaluate("document.querySelector('.insider-table tbody tr')"
                            ".getBoundingClientRect().top")
        assert top + 40 <= height, (label, top)
        assert page.locator(".insider-table tbody tr").count() == 25

        # Sorting by price: from its column header on a laptop, from the sort choice on a
        # phone (whose stacked rows show no header). A figure sorts largest first.
        if label == "laptop":
            page.click(".insider-table thead a:text-is('Price')")
        else:
            page.select_option("select[name=sort]", "-price")
            page.click("button:text-is('Apply')")
        page.wait_for_load_state("networkidle")
        assert page.locator("th[aria-sort='descending'] a").text_content() == "Price"
        prices = page.locator(".insider-table td[data-label='Price']").all_inner_texts()
        figures = [float(p.replace(",", "")) for p in prices]
        assert figures == sorted(figures, reverse=True) and len(set(figures)) > 1

        # Only the option exercises (M), from their chip; the sort is kept.
        page.check("input[name=code][value=M]")
        page.click("button:text-is('Apply')")
        page.wait_for_load_state("networkidle")
        assert page.locator(".insider-table tbody tr").count() == 2
        assert "sort=-price" in page.url
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    finally:
        context.close()
