"""Every page type at a phone's width (390 px) and a laptop's (1366 px): the page never
scrolls sideways, its main content starts in the first screenful, its icon loads, and the
search page's filter panel, result table and long party lists behave as they look
(test-artifacts/layout-*.png are the screenshots)."""
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import CORPUS, corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEN_Q = "0000014272-95-000007"  # plain-text 10-Q, "earnings" 15 times
APPLE_10Q = "0000320193-97-000011"
APPLE_8K = "0000320193-99-000002"
ADOBE_8K = "0000796343-23-000044"
MANY_PARTIES = "0001193125-25-120935"  # a 40-APP naming 399 parties (corpus only)
PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def collection(ingest_paths):
    summary = ingest_paths(*[corpus_file(f"{a}.txt")
                             for a in (TEN_Q, APPLE_10Q, APPLE_8K, ADOBE_8K)])
    assert summary.failed == 0


@pytest.fixture
def with_many_parties(collection, ingest_paths):
    """The collection and, where the corpus is here, the 40-APP of 399 parties: whether
    it is. Only the tests of the filing page load it (1.7 MB: the longest ingest of the
    collection, on a page no other test opens)."""
    many = CORPUS / f"{MANY_PARTIES}.txt"
    if many.exists():
        assert ingest_paths(many).failed == 0
    return many.exists()


@pytest.fixture
def staff(live_server):
    from django.contrib.auth.models import User

    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def page_types(has_many_parties):
    filing = MANY_PARTIES if has_many_parties else APPLE_8K
    return [
        ("home", "/", "[data-es-primary]"),
        ("results-filings", "/search/?q=revenue", "[data-es-primary]"),
        ("results-documents", "/search/?q=revenue&view=documents", "[data-es-primary]"),
        ("company-results", "/companies/?q=apple", "[data-es-primary]"),
        ("filing", f"/filings/{filing}/", "[data-es-primary]"),
        ("document-hits", f"/filings/{TEN_Q}/1/?q=earnings", "[data-es-primary]"),
        ("company", "/companies/320193/", "[data-es-primary]"),
        ("help", "/search/help/", "[data-es-primary]"),
        ("admin-upload", "/admin/filings/filing/upload/", "#content-main"),
        ("not-found", "/filings/0000000000-00-000000/", "[data-es-primary]"),
    ]


def watch(page):
    """Failed responses and console errors while a page loads."""
    seen = {"failed": [], "errors": []}
    page.on("response", lambda r: r.status >= 400 and seen["failed"].append((r.status, r.url)))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen


def main_top(page, selector):
    """Where the page's main content starts, in page coordinates (not the scrolled view:
    a document opened at its first hit has scrolled)."""
    return page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel);
          if (!el) return null;
          const r = el.getBoundingClientRect();
          return {top: r.top + scrollY, height: r.height};
        }""",
        selector,
    )


@pytest.mark.parametrize("viewport, label", [(PHONE, "phone"), (LAPTOP, "laptop")])
def test_every_page_type_fits_and_shows_its_main_content_first(
    live_server, browser, with_many_parties, staff, artifacts_dir, viewport, label
):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        sign_in(page, live_server)
        for name, path, primary in page_types(with_many_parties):
            seen = watch(page)
            response = page.goto(live_server.url + path)
            assert response.status == (404 if name == "not-found" else 200), path
            page.wait_for_load_state("networkidle")
            page.screenshot(path=os.path.join(artifacts_dir, f"layout-{name}-{label}.png"))

            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, (name, label, overflow)
            box = main_top(page, primary)
            assert box is not None and box["height"] > 0, (name, primary)
            inner = page.evaluate("innerHeight")
            # The main content starts in the first screenful, with room to show some of it.
            assert box["top"] + 40 <= inner, (name, label, box["top"], inner)

            # The icon every page links loads (no 404 in the console for it).
            icons = page.eval_on_selector_all("link[rel=icon]", "ls => ls.map(l => l.href)")
            assert icons, name
            for href in icons:
                icon = page.request.get(href)
                assert icon.status == 200 and icon.headers["content-type"].startswith("image/")
            expected = [(404, live_server.url + path)] if name == "not-found" else []
            assert seen["failed"] == expected, (name, seen["failed"])
            assert [e for e in seen["errors"] if "404" not in e or name != "not-found"] == [], (
                name, seen["errors"])
    finally:
        context.close()


def test_favicon_ico_leads_to_the_icon(live_server, page):
    response = page.request.get(f"{live_server.url}/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    assert response.body()[:8] == b"\x89PNG\r\n\x1a\n"


def test_on_a_phone_results_come_first_and_filters_open_from_a_button(
    live_server, browser, collection, artifacts_dir
):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/search/?q=revenue")
        panel = page.locator("#es-filters")
        first_result = page.locator(".results-table tbody").first
        assert first_result.is_visible()
        assert first_result.bounding_box()["y"] < PHONE["height"]
        assert not panel.is_visible()  # behind the button

        toggle = page.locator("[data-es-filters-toggle]").first
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert panel.is_visible()
        assert toggle.get_attribute("aria-expanded") == "true"
        box = panel.bounding_box()
        assert box["x"] == 0 and box["width"] == PHONE["width"] and box["y"] <= 0
        page.screenshot(path=os.path.join(artifacts_dir, "layout-filters-open-phone.png"))
        assert page.get_by_label("Company or CIK").is_visible()

        page.locator("[data-es-filters-close]").click()
        assert not panel.is_visible()
        toggle.click()
        page.keyboard.press("Escape")
        assert not panel.is_visible()
        # From the keyboard: the button has the focus back, and Space opens the panel.
        assert page.evaluate("document.activeElement.hasAttribute('data-es-filters-toggle')")
        page.keyboard.press(" ")
        assert panel.is_visible()
    finally:
        context.close()


def test_without_script_the_filters_button_leads_to_the_panel_after_the_results(
    live_server, browser, collection
):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/search/?q=revenue")
        results = page.locator(".results-table").bounding_box()
        panel = page.locator("#es-filters")
        assert panel.bounding_box()["y"] > results["y"] + results["height"] - 1
        page.locator("[data-es-filters-toggle]").first.click()
        assert urlsplit(page.url).fragment == "es-filters"
        assert panel.is_visible()
        top = page.evaluate("document.getElementById('es-filters').getBoundingClientRect().top")
        assert top < 5
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_one_filter_panel_with_styled_controls_that_do_not_overlap(
    live_server, browser, collection, viewport
):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/search/?q=revenue&state_inc=DE")
        if viewport is PHONE:
            page.locator("[data-es-filters-toggle]").first.click()
        assert page.get_by_label("Company or CIK").count() == 1
        assert page.locator("form.filter-form").count() == 1
        assert page.get_by_role("button", name="Apply").count() == 1
        assert page.get_by_role("link", name="Clear all").count() == 1
        panel = page.locator("#es-filters")
        assert panel.is_visible()
        if page.locator("details.more-filters").get_attribute("open") is None:
            page.locator("details.more-filters > summary").click()
        controls = page.evaluate(
            """() => [...document.querySelectorAll(
                 '#es-filters input:not([type=hidden]), #es-filters select, #es-filters button')]
               .map(el => {
                 const r = el.getBoundingClientRect(), s = getComputedStyle(el);
                 return {name: el.name || el.textContent.trim(), tag: el.tagName,
                         x: r.left, y: r.top, w: r.width, h: r.height,
                         radius: s.borderTopLeftRadius, appearance: s.appearance,
                         border: s.borderTopColor};
               })"""
        )
        names = {c["name"] for c in controls}
        assert {"company", "range", "filed_from", "filed_to", "category", "form", "doc_type",
                "state_inc", "state_loc", "sic", "item", "Apply"} <= names
        frame = panel.bounding_box()
        for c in controls:
            assert c["w"] > 0 and c["h"] > 0, c
            # Inside the panel ...
            assert frame["x"] <= c["x"] and c["x"] + c["w"] <= frame["x"] + frame["width"] + 0.5, c
            # ... styled as the site's controls, not the browser's defaults.
            assert c["radius"] == "6px", c
            if c["tag"] == "SELECT":
                assert c["appearance"] == "none", c
        for i, a in enumerate(controls):
            for b in controls[i + 1:]:
                apart = (a["x"] + a["w"] <= b["x"] + 0.5 or b["x"] + b["w"] <= a["x"] + 0.5
                         or a["y"] + a["h"] <= b["y"] + 0.5 or b["y"] + b["h"] <= a["y"] + 0.5)
                assert apart, (a, b)
    finally:
        context.close()


def test_the_company_box_suggests_companies_and_filters_by_the_one_chosen(
    live_server, page, collection
):
    page.goto(f"{live_server.url}/search/?q=revenue")
    box = page.get_by_label("Company or CIK")
    assert box.count() == 1
    box.fill("appl")
    option = page.locator("#es-filters [role=option]").first
    option.wait_for()
    assert "APPLE" in option.inner_text().upper()
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(re.compile(r"company=320193"))
    params = parse_qs(urlsplit(page.url).query)
    assert params["q"] == ["revenue"] and params["company"] == ["320193"]
    assert page.get_by_label("Company or CIK").input_value() == "320193"
    ciks = page.locator(".result__entity .cik").all_inner_texts()
    assert ciks and all("0000320193" in c for c in ciks)


def test_result_table_dates_stay_on_one_line_with_film_numbers_page_sizes_and_sorting(
    live_server, browser, collection
):
    from filings.models import Filing

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/search/?q=revenue")
        lines = page.eval_on_selector_all(
            ".result__filed time, .result__period, th.results-table__filed",
            """els => els.map(e => {
                 // Lines of text: boxes whose tops lie more than half a line apart.
                 const range = document.createRange();
                 range.selectNodeContents(e);
                 const half = parseFloat(getComputedStyle(e).lineHeight) / 2;
                 const tops = [...range.getClientRects()].map(x => x.top).sort((a, b) => a - b);
                 return tops.filter((t, i) => i === 0 || t - tops[i - 1] > half).length;
               })""",
        )
        assert lines and set(lines) == {1}, lines

        # Film numbers as the filings have them.
        rows = page.evaluate(
            """() => [...document.querySelectorAll('tr.result:not(.result--snippet)')]
               .map(tr => [tr.querySelector('.result__form a').getAttribute('href'),
                           tr.querySelector('.result__filmno').textContent.trim()])"""
        )
        films = dict(Filing.objects.values_list("accession_number", "film_number"))
        shown = {href.split("/")[2]: film for href, film in rows}
        assert any(film != "—" for film in shown.values())
        for accession, film in shown.items():
            assert film == (films[accession] or "—"), accession

        # Sorting by the Filed column: newest first, then oldest first.
        page.locator("th.results-table__filed a").click()
        page.wait_for_url(re.compile(r"sort=newest"))
        assert page.get_attribute("th.results-table__filed", "aria-sort") == "descending"
        dates = page.locator(".result__filed time").all_inner_texts()
        assert dates == sorted(dates, reverse=True)
        page.locator("th.results-table__filed a").click()
        page.wait_for_url(re.compile(r"sort=oldest"))
        assert page.get_attribute("th.results-table__filed", "aria-sort") == "ascending"
        dates = page.locator(".result__filed time").all_inner_texts()
        assert dates == sorted(dates)

        # Page size: every document filed since 1990 (no words: newest first).
        page.goto(f"{live_server.url}/search/?filed_from=1990-01-01&view=documents")
        total = int(page.get_attribute("[data-total]", "data-total"))
        assert total > 10
        page.get_by_role("navigation", name="Results per page").get_by_role(
            "link", name="10", exact=True).click()
        page.wait_for_url(re.compile(r"per_page=10"))
        assert page.locator(".results-table tbody").count() == 10
        current = page.locator("nav[aria-label='Results per page'] [aria-current]")
        assert current.inner_text() == "10"
        page.get_by_role("navigation", name="Results per page").get_by_role(
            "link", name="50", exact=True).click()
        page.wait_for_url(re.compile(r"per_page=50"))
        assert page.locator(".results-table tbody").count() == min(total, 50)
    finally:
        context.close()


def test_a_long_party_list_collapses_behind_show_all(live_server, browser,
                                                     with_many_parties):
    if not with_many_parties:
        pytest.skip(f"{MANY_PARTIES}.txt (399 parties) is in the corpus only")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/filings/{MANY_PARTIES}/")
        parties = page.locator("section.party")
        assert parties.count() == 399
        visible = [parties.nth(i).is_visible() for i in range(5)]
        assert visible == [True, True, True, False, False]
        more = page.locator("[data-es-parties-more] > summary")
        assert re.fullmatch(r"Show all 399 parties\s+\(396 more\)", more.inner_text().strip())
        # The documents come before the parties, in the first screenful.
        documents = page.locator("[data-es-primary]").bounding_box()
        assert documents["y"] < PHONE["height"] - 40
        assert documents["y"] < parties.first.bounding_box()["y"]
        # The whole page is a fraction of what it was (170,000 px down to the documents).
        assert page.locator(".filing-primary").bounding_box()["y"] < 6000
        more.click()
        assert parties.nth(398).is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/search/?q=revenue", "/search/?q=revenue&view=documents",
                                  "/companies/?q=apple", "/companies/320193/"])
def test_no_sideways_scrolling_at_any_width_between(live_server, browser, collection, path):
    """Between the phone and the laptop, tablets and narrow windows: the result table
    turns into cards where its eight columns would not fit beside the filter panel."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        for width in (320, 600, 801, 960, 1024, 1181, 1280, 1920):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(live_server.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, (width, overflow)
    finally:
        context.close()
