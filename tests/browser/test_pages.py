"""Filing, document and company pages in a real Chromium: hostile filings stay inert,
hit navigation works by button and key, and every page type is photographed at
desktop and phone widths (test-artifacts/)."""
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HOSTILE = FIXTURES / "hostile" / "hostile-submission.txt"
HOSTILE_ACCESSION = "9999999999-26-000001"
TEN_Q = "0000014272-95-000007"  # IMS-header 10-Q, plain text, "earnings" 15 times
FORM4_NC = "0001127602-25-004598"


def same_site(live_server, url):
    if url.startswith(("data:", "about:")):
        return url.startswith("about:")
    return urlsplit(url).netloc == urlsplit(live_server.url).netloc


@pytest.fixture
def hostile(ingest_paths):
    if not HOSTILE.exists():
        pytest.skip("tests/fixtures/hostile/hostile-submission.txt is absent")
    summary = ingest_paths(HOSTILE)
    assert summary.failed == 0


def watch(page):
    """Record requests, dialogs (alert() from a filing) and console errors."""
    seen = {"requests": [], "dialogs": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen


@pytest.mark.parametrize("path", [f"/filings/{HOSTILE_ACCESSION}/",
                                  f"/filings/{HOSTILE_ACCESSION}/1/?q=EBITDA"])
def test_hostile_filing_runs_nothing_and_requests_nothing_off_site(
    live_server, page, hostile, path
):
    seen = watch(page)
    page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")
    page.mouse.move(300, 500)  # hover handlers, if any survived
    page.wait_for_timeout(200)

    assert seen["dialogs"] == []
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "HOSTILE-TITLE" not in page.title()
    assert page.url == live_server.url + path  # no meta refresh, no <base> navigation
    off_site = [u for u in seen["requests"] if not same_site(live_server, u)]
    assert off_site == []
    # The filing's own logo came from our attachment route.
    assert page.evaluate(
        "Array.from(document.querySelectorAll('[data-es-document] img'))"
        ".some(i => i.naturalWidth === 8 && i.src.endsWith('/files/logo.jpg'))"
    )
    # The would-be overlay is an ordinary block: our header is still what is on top.
    assert page.evaluate(
        """() => {
          const el = [...document.querySelectorAll('[data-es-document] div')]
              .find(d => d.textContent.includes('PHISHING-OVERLAY'));
          return getComputedStyle(el).position;
        }"""
    ) == "static"
    page.evaluate("window.scrollTo(0, 0)")
    top = page.evaluate("document.elementFromPoint(640, 20).closest('.site-header') !== null")
    assert top
    # No CSP violation was needed to stop anything: nothing tried to load or run.
    assert [e for e in seen["errors"] if "Content Security Policy" in e] == []


def test_moving_from_hit_to_hit_with_buttons_and_keys(live_server, page, ingest_paths):
    ingest_paths(corpus_file(TEN_Q + ".txt"))
    seen = watch(page)
    page.goto(f"{live_server.url}/filings/{TEN_Q}/1/?q=earnings")
    status = page.locator("[data-es-hit-status]")
    total = int(page.get_attribute("[data-es-hitbar]", "data-total"))
    assert total >= 10
    assert status.text_content() == f"Hit 1 of {total}"

    def current():
        return page.evaluate("document.querySelector('mark.hit--current').id")

    def settles_in_view(hit_id):
        """The hit ends up in view, below the sticky bar (smooth scrolling takes a moment)."""
        page.wait_for_function(
            """(id) => {
              const m = document.getElementById(id);
              const r = m.getBoundingClientRect();
              const bar = document.querySelector('[data-es-hitbar]').getBoundingClientRect();
              return r.top >= bar.bottom && r.bottom <= innerHeight;
            }""",
            arg=hit_id,
            timeout=5000,
        )
        return True

    assert current() == "es-hit-1" and settles_in_view("es-hit-1")
    assert page.text_content("mark.hit--current").lower() == "earnings"

    page.keyboard.press("n")
    assert status.text_content() == f"Hit 2 of {total}"
    assert current() == "es-hit-2" and settles_in_view("es-hit-2")
    assert page.url.endswith("#es-hit-2")

    page.keyboard.press("j")
    assert status.text_content() == f"Hit 3 of {total}"

    page.click("[data-es-hit-prev]")
    assert status.text_content() == f"Hit 2 of {total}"

    page.keyboard.press("k")
    page.keyboard.press("p")  # from the first hit, back to the last
    assert status.text_content() == f"Hit {total} of {total}"
    assert current() == f"es-hit-{total}" and settles_in_view(f"es-hit-{total}")

    page.click("[data-es-hit-next]")  # and round again
    assert status.text_content() == f"Hit 1 of {total}"

    # Typing in the search box is typing, not navigation.
    page.fill("#es-q-header", "")
    page.type("#es-q-header", "np")
    assert status.text_content() == f"Hit 1 of {total}"
    assert seen["errors"] == [] or all("favicon" in e or "404" in e for e in seen["errors"])


def test_a_bookmarked_hit_opens_at_that_hit(live_server, page, ingest_paths):
    ingest_paths(corpus_file(TEN_Q + ".txt"))
    page.goto(f"{live_server.url}/filings/{TEN_Q}/1/?q=earnings#es-hit-4")
    assert page.locator("[data-es-hit-status]").text_content().startswith("Hit 4 of ")


@pytest.fixture
def paged_ten_q(ingest_paths, monkeypatch):
    """The plain-text 10-Q cut into pages of about 8 KB, as a very large document is cut
    into pages of a megabyte (filings.pages)."""
    from filings import pages

    monkeypatch.setattr(pages, "PAGE_CHARS", 8_000)
    monkeypatch.setattr(pages, "WHOLE_CHARS", 10_000)
    ingest_paths(corpus_file(TEN_Q + ".txt"))


def test_hits_lead_from_page_to_page_of_a_long_document(live_server, page, paged_ten_q):
    url = f"{live_server.url}/filings/{TEN_Q}/1/"
    page.goto(url + "?q=earnings")
    status = page.locator("[data-es-hit-status]")
    total = int(page.get_attribute("[data-es-hitbar]", "data-total"))
    local = page.locator("mark.hit").count()
    assert 1 <= local < total  # hits here and on later pages
    assert status.text_content() == f"Hit 1 of {total}"
    for _ in range(local - 1):
        page.keyboard.press("n")
    assert status.text_content() == f"Hit {local} of {total}"

    page.keyboard.press("n")  # past this page's last hit: the next page holding one
    page.wait_for_url(re.compile(rf"\?page=\d+&q=earnings#es-hit-{local + 1}$"))
    page.wait_for_function(
        "(text) => document.querySelector('[data-es-hit-status]').textContent === text",
        arg=f"Hit {local + 1} of {total}",
    )
    assert "Page 1 of" not in page.text_content("nav.doc-pages")

    page.keyboard.press("p")  # and back to the last hit of the page before
    page.wait_for_url(url + f"?q=earnings#es-hit-{local}")
    page.wait_for_function(
        "(text) => document.querySelector('[data-es-hit-status]').textContent === text",
        arg=f"Hit {local} of {total}",
    )


def test_a_page_of_a_long_document_fits_a_phone_screen(live_server, browser, paged_ten_q):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/filings/{TEN_Q}/1/?page=2&q=earnings")
        page.wait_for_load_state("networkidle")
        assert page.locator("nav.doc-pages").first.is_visible()
        assert "Page 2 of" in page.text_content("nav.doc-pages")
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0
    finally:
        context.close()


SHOTS = [
    ("home", "/"),
    ("filing", f"/filings/{HOSTILE_ACCESSION}/"),
    ("document-hits", f"/filings/{TEN_Q}/1/?q=earnings"),
    ("document-form4", f"/filings/{FORM4_NC}/1/"),
    ("company", "/companies/14272/"),
    ("not-found", "/filings/0000000000-00-000000/"),
]


@pytest.mark.parametrize("width, height, label", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_every_page_type_fits_the_screen_and_is_photographed(
    live_server, browser, ingest_paths, artifacts_dir, hostile, width, height, label
):
    ingest_paths(corpus_file(TEN_Q + ".txt"), corpus_file(FORM4_NC + ".nc"))
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        for name, path in SHOTS:
            response = page.goto(live_server.url + path)
            assert response.status == (404 if name == "not-found" else 200), path
            page.wait_for_load_state("networkidle")
            # Wide filing content scrolls inside its box; the page itself never does.
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, (name, label, overflow)
            assert page.locator("main#es-main").count() == 1
            assert page.locator("h1").count() >= 1
            page.screenshot(path=os.path.join(artifacts_dir, f"page-{name}-{label}.png"))
    finally:
        context.close()
