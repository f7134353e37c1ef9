"""In Chromium, at a phone's and a laptop's width: what issue 8's query and filter
semantics look like — chips and messages in the words people read, facet values added
one to another, the capped hit count, a query of noise."""
import re

import pytest

from filings.models import Company, Document, Filing, FilingParty, Kind, Role
from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [390, 1366]


@pytest.fixture
def corpus(ingest_paths):
    ingest_paths(
        corpus_file("0000320193-97-000011.txt"),
        corpus_file("0000320193-99-000002.txt"),
        corpus_file("0000796343-23-000044.txt"),
        corpus_file("0000842517-24-000086.txt"),
    )


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("width", WIDTHS)
def test_chips_and_messages_read_as_the_page_labels_them(live_server, browser, corpus, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/search/?q=revenue&state_inc=california&state_inc=Narnia"
              f"&category=bogus&cik=320193")
    name = Company.objects.get(cik=320193).name  # the company's name, not its CIK
    chips = [c.strip() for c in page.locator(".active-filters li").all_inner_texts()]
    assert [re.sub(r"\s*×$", "", c) for c in chips] == [
        f"Company: {name}", "Incorporated in: California"]
    messages = " ".join(page.locator(".search-messages li").all_inner_texts())
    assert "Unknown form category 'bogus' was ignored." in messages
    assert "“Incorporated in”: 'Narnia' is not a state or country" in messages
    assert "state_inc" not in messages
    assert page.locator(".search-messages").is_visible()
    assert overflow(page) <= 0
    # Removing a chip keeps the other filter.
    page.locator(f".active-filters a[aria-label='Remove filter Company {name}']").click()
    page.wait_for_load_state()
    assert "cik=" not in page.url and "state_inc=california" in page.url
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_query_of_noise_says_so_and_lists_nothing(live_server, browser, corpus, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/search/?q=%E2%82%AC")
    message = page.locator(".search-messages li").first
    assert "has no words to search for" in message.inner_text()
    box = message.bounding_box()
    assert box["y"] + box["height"] <= 900  # seen without scrolling
    assert page.locator(".result").count() == 0
    assert overflow(page) <= 0
    context.close()


def test_facet_values_are_added_and_removed(live_server, page, corpus):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/search/?q=revenue")
    page.locator("[data-facet=form] a", has_text="10-Q").click()
    page.wait_for_url(re.compile(r"form=10-Q"))
    assert set(page.locator(".result__form a").all_inner_texts()) == {"10-Q"}
    # The other forms stay on offer: picking one adds it (OR within the facet).
    page.locator("[data-facet=form] a", has_text="8-K").click()
    page.wait_for_url(re.compile(r"form=10-Q&form=8-K"))
    assert set(page.locator(".result__form a").all_inner_texts()) == {"10-Q", "8-K"}
    chosen = page.locator("[data-facet=form] .facet__value--selected a").all_inner_texts()
    assert sorted(chosen) == ["10-Q", "8-K"]
    page.locator("[data-facet=form] .facet__value--selected a", has_text="10-Q").click()
    page.wait_for_url(re.compile(r"q=revenue&form=8-K$"))
    assert set(page.locator(".result__form a").all_inner_texts()) == {"8-K"}


def test_a_capped_hit_count_reads_hit_1_of_2000_plus(live_server, page, db):
    markup = "<pre>" + "revenue " * 2300 + "</pre>"
    filing = Filing.objects.create(accession_number="0000999999-24-000002", form_type="10-K")
    company = Company.objects.create(cik=999998, name="MANY HITS CORP")
    FilingParty.objects.create(filing=filing, company=company, role=Role.FILER, name=company.name)
    Document.objects.create(filing=filing, sequence=1, type="10-K", filename="a.txt",
                            kind=Kind.TEXT, size=len(markup), html=markup,
                            text=markup[5:-6])
    page.goto(f"{live_server.url}/filings/0000999999-24-000002/1/?q=revenue")
    status = page.locator("[data-es-hit-status]")
    assert status.text_content() == "Hit 1 of 2,000+"
    page.keyboard.press("n")
    assert status.text_content() == "Hit 2 of 2,000+"


@pytest.mark.parametrize("width", WIDTHS)
def test_apply_keeps_every_chosen_form_category(live_server, browser, corpus, width,
                                               artifacts_dir):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/search/?q=revenue&category=annual&category=quarterly")
    if width < 800:
        page.locator("[data-es-filters-toggle]").first.click()
    select = page.locator("#es-f-category")
    assert select.is_visible()
    chosen = select.evaluate("s => [...s.selectedOptions].map(o => o.value)")
    assert chosen == ["annual", "quarterly"]
    page.screenshot(path=f"{artifacts_dir}/category-several-{width}.png", full_page=True)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "category=annual" in page.url and "category=quarterly" in page.url
    # Taking one away in the list keeps the other; one left is the usual drop-down.
    if width < 800:
        page.locator("[data-es-filters-toggle]").first.click()
    page.locator("#es-f-category").select_option(["quarterly"])
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "category=quarterly" in page.url and "category=annual" not in page.url
    assert page.locator("#es-f-category").get_attribute("multiple") is None
    assert overflow(page) <= 0
    context.close()
