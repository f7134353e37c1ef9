"""Facets and filters as a search product has them (issue 8): every facet's count is what
its filter finds, several values of a facet are ORed and facets ANDed, chips show only
the filters in force with the labels people read, EDGAR's form categories, states and
countries by name, date presets. On the package's real corpus, with each engine."""
import dataclasses
import datetime
import re

import pytest
from django.http import QueryDict

from filings import locations
from search.filters import CATEGORY_BY_SLUG, SearchRequest, range_start, years_ago

# The parameter each facet's values select.
PARAM = {"company": "cik"}
FACETS = ["form", "company", "year", "doc_type", "state_loc", "state_inc", "sic", "item",
          "section"]
EVERYTHING = {"filed_from": "1900-01-01"}  # a filter that keeps every dated filing


@pytest.mark.parametrize("view", ["filings", "documents"])
@pytest.mark.parametrize("search", [{"q": "revenue"}, EVERYTHING, {"q": "stock OR shares"}],
                         ids=str)
def test_every_facet_count_is_what_its_filter_finds(api, view, search):
    data = api(view=view, **search)
    facets = data["facets"]
    assert set(facets) <= set(FACETS)
    checked = set()
    for name, values in facets.items():
        for value in values:
            refined = api(view=view, **search, **{PARAM.get(name, name): value["value"]})
            assert refined["total"] == value["count"], (name, value)
            checked.add(name)
    if search is EVERYTHING:  # the corpus has values for every facet
        assert checked == set(FACETS)


def test_document_types_are_counted_by_family_as_the_filter_matches(api):
    data = api(view="documents", **EVERYTHING)
    values = {v["value"]: v["count"] for v in data["facets"]["doc_type"]}
    assert values and not any("." in v for v in values)  # EX-99.1 counts as EX-99
    assert "EX-99" in values
    assert values["EX-99"] == api(view="documents", doc_type="EX-99", **EVERYTHING)["total"]
    # In the filings view a family counts the filings holding a matching document of it.
    grouped = {v["value"]: v["count"] for v in api(**EVERYTHING)["facets"]["doc_type"]}
    assert all(grouped[v] <= values[v] for v in grouped)
    assert any(grouped[v] < values[v] for v in grouped)  # a filing of several EX-27s


def test_several_values_of_a_facet_are_ored_and_facets_anded(api):
    forms = api(**EVERYTHING)["facets"]["form"]
    assert len(forms) >= 3
    a, b = forms[0], forms[1]
    both = api(form=[a["value"], b["value"]], **EVERYTHING)
    assert both["total"] == a["count"] + b["count"]  # a filing has one form
    years = api(**EVERYTHING)["facets"]["year"]
    y1, y2 = years[0]["value"], years[-1]["value"]
    either = api(year=[y1, y2], **EVERYTHING)
    assert either["total"] == years[0]["count"] + years[-1]["count"]
    # Across facets: AND.
    across = api(form=[a["value"], b["value"]], year=[y1, y2], **EVERYTHING)
    expected = sum(
        api(form=f, year=y, **EVERYTHING)["total"]
        for f in (a["value"], b["value"]) for y in (y1, y2)
    )
    assert across["total"] == expected < both["total"]


def test_a_chosen_facet_still_offers_its_other_values_to_add(client, api):
    every = {v["value"]: v["count"] for v in api(q="revenue")["facets"]["form"]}
    assert len(every) >= 2
    chosen = next(iter(every))
    data = api(q="revenue", form=chosen)
    # The form facet is counted without the form filter: each value still says what it
    # alone finds, and the other values can be added.
    assert {v["value"]: v["count"] for v in data["facets"]["form"]} == every
    html = client.get("/search/", {"q": "revenue", "form": chosen}).content.decode()
    facet = html[html.index('data-facet="form"'):]
    facet = facet[: facet.index("</section>")]
    other = next(v for v in every if v != chosen)
    assert re.search(rf'href="/search/\?q=revenue&amp;form={re.escape(chosen)}'
                     rf'&amp;form={re.escape(other)}"', facet)
    # The chosen value is marked, and its link takes it away.
    assert re.search(r'<li class="facet__value--selected"><a href="/search/\?q=revenue" '
                     r'aria-current="true"', facet)


def test_facets_list_the_top_values_then_more(client, api):
    html = client.get("/search/", EVERYTHING).content.decode()
    types = api(**EVERYTHING)["facets"]["doc_type"]
    assert len(types) > 8  # the corpus has nine families of document types
    facet = html[html.index('data-facet="doc_type"'):]
    facet = facet[: facet.index("</section>")]
    shown, more = facet.split('<details class="facet__more">')
    assert shown.count("<li") == 8
    assert f"<summary>{len(types) - 8} more</summary>" in more
    assert more.count("<li") == len(types) - 8
    assert types[-1]["label"] in more and types[0]["label"] in shown


def test_facet_labels_are_names_not_codes(api):
    facets = api(**EVERYTHING)["facets"]
    for name in ("state_loc", "state_inc"):
        for value in facets[name]:
            assert value["label"] == locations.NAMES[value["value"]]
            assert value["label"] != value["value"]
    items = {v["value"]: v["label"] for v in facets["item"]}
    assert items and all(label.startswith(f"{v} · ") for v, label in items.items())
    sic = {v["value"]: v["label"] for v in facets["sic"]}
    assert sic.get("3571") == "3571 · ELECTRONIC COMPUTERS"


def test_states_and_countries_by_name_or_code(api):
    by_code = api(state_inc="CA", **EVERYTHING)
    assert by_code["total"] > 0
    for name in ("california", "California", " CALIFORNIA "):
        assert api(state_inc=name, **EVERYTHING)["total"] == by_code["total"]
    located = api(**EVERYTHING)["facets"]["state_loc"][0]
    assert api(state_loc=located["label"], **EVERYTHING)["total"] == located["count"]
    unknown = api(state_inc="Atlantis", **EVERYTHING)
    assert unknown["total"] == api(**EVERYTHING)["total"]  # ignored, and said
    assert any("“Incorporated in”" in m and "Atlantis" in m for m in unknown["messages"])


def test_location_table_is_edgar_complete():
    us = [c for c in locations.US_STATES if len(c) == 2 and c.isalpha() and c not in
          ("GU", "PR", "VI")]
    assert len(us) == 51  # fifty states and the District of Columbia
    assert locations.name("A6") == "Canada (Ontario)"
    assert locations.name("V8") == "Switzerland"
    assert locations.code_for("Ontario, Canada") == locations.code_for("ontario") == "A6"
    assert locations.code_for("Canada (Ontario)") == "A6"
    assert locations.code_for("delaware") == "DE"
    assert locations.code_for("Georgia") == "GA"  # the state; the country is 2Q
    assert locations.code_for("Georgia (country)") == "2Q"
    assert len(locations.CANADA) == 12 and len(locations.COUNTRIES) > 230
    assert locations.code_for("nowhere") is None
    codes = list(locations.NAMES)
    assert len(codes) == len(set(codes))


def test_chips_show_filters_in_force_with_their_labels(client, corpus):
    html = client.get("/search/", {
        "q": "revenue", "state_inc": ["california", "Narnia"], "category": ["bogus", "exempt"],
        "sic": "abc", "state_loc": "V8", "cik": "320193", "range": "10y",
    }).content.decode()
    chips = re.findall(r'<li>([^<]*) <a href="[^"]*" aria-label="Remove filter', html)
    chips = [c.strip() for c in chips]
    assert "Incorporated in: California" in chips
    assert "Located in: Switzerland" in chips
    assert "Form category: Exempt offerings" in chips
    assert "Company: Apple Inc." in chips
    assert "Filed: Last 10 years" in chips
    assert len(chips) == 5  # Narnia, bogus, abc were ignored: no chip for them
    # Messages name filters as the page does, never by parameter.
    messages = re.findall(r"<li>([^<]*)</li>", html[html.index("search-messages"):])
    assert any("“Incorporated in”" in m for m in messages)
    assert any("“SIC code”" in m for m in messages)
    assert not any("state_inc" in m or "sic" in m for m in messages)
    # Removing a chip removes every spelling of that value.
    removal = re.search(r'aria-label="Remove filter Incorporated in California"', html)
    assert removal


def test_removing_a_chip_link_drops_that_value_only(client, corpus):
    html = client.get("/search/", {"q": "revenue", "state_inc": ["california", "DE"]})
    text = html.content.decode()
    link = re.search(r'<a href="([^"]*)" aria-label="Remove filter Incorporated in '
                     r'California"', text).group(1)
    assert "state_inc=DE" in link and "california" not in link


# --- Form categories ---------------------------------------------------------------------------


def test_edgar_form_categories_are_complete():
    labels = {c.label for c in CATEGORY_BY_SLUG.values()}
    for label in ("Exclude insider equity awards, transactions, and ownership "
                  "(Section 16 Reports)",
                  "All annual, quarterly, and current reports",
                  "Insider equity awards, transactions, and ownership (Section 16 Reports)",
                  "Beneficial ownership reports", "Exempt offerings",
                  "Registration statements and prospectuses", "Filing review correspondence",
                  "SEC orders and notices", "Proxy materials",
                  "Tender offers and going private transactions", "Trust indentures"):
        assert label in labels
    exempt = CATEGORY_BY_SLUG["exempt"].forms
    assert {"D", "1-A", "C", "253G2"} <= set(exempt)
    assert "DEF 14A" in CATEGORY_BY_SLUG["proxy"].forms  # names with spaces kept whole


def test_excluding_section_16_reports(api):
    every = api(**EVERYTHING)["total"]
    section16 = api(category="section16", **EVERYTHING)["total"]
    assert section16 > 0
    assert api(category="not-section16", **EVERYTHING)["total"] == every - section16
    # With a form filter too: the excluded forms go, the rest stay.
    both = api(category="not-section16", form=["4", "10-Q"], **EVERYTHING)
    assert both["total"] == api(form="10-Q", **EVERYTHING)["total"]


def test_periodic_reports_category_holds_annual_quarterly_and_current(api):
    periodic = api(category="periodic")["total"]
    parts = sum(api(category=c)["total"] for c in ("annual", "quarterly", "current"))
    assert periodic >= parts > 0


# --- Dates -----------------------------------------------------------------------------------


def test_date_presets_count_calendar_years_back_from_today():
    assert years_ago(datetime.date(2024, 2, 29), 1) == datetime.date(2023, 2, 28)
    assert years_ago(datetime.date(2025, 6, 30), 10) == datetime.date(2015, 6, 30)
    today = datetime.date(2026, 12, 1)
    assert range_start("1y", today) == datetime.date(2025, 12, 1)
    assert range_start("5y", today) == datetime.date(2021, 12, 1)
    assert range_start("30d", today) == datetime.date(2026, 11, 1)
    assert range_start("all", today) is None


def test_a_preset_and_a_custom_range(api, settings):
    from django.utils import timezone

    today = timezone.localdate()
    preset = api(range="10y")
    custom = api(filed_from=years_ago(today, 10).isoformat(), filed_to=today.isoformat())
    assert preset["total"] == custom["total"]
    assert api(range="all")["total"] >= preset["total"]
    # A custom start wins over a preset's.
    req = SearchRequest.from_query(QueryDict("range=1y&filed_from=1990-01-01"))
    assert req.filed_from == datetime.date(1990, 1, 1)


def test_a_chosen_value_that_finds_nothing_stays_listed_to_be_removed(client, api):
    assert api(q="revenue", form="10-Q", filed_from="2020-01-01")["total"] == 0
    html = client.get("/search/", {"q": "revenue", "form": "10-Q",
                                   "filed_from": "2020-01-01"}).content.decode()
    facet = html[html.index('data-facet="form"'):]
    facet = facet[: facet.index("</section>")]
    assert re.search(r'<li class="facet__value--selected"><a href="/search/\?q=revenue&amp;'
                     r'filed_from=2020-01-01" aria-current="true"[^>]*>10-Q</a> '
                     r'<span class="facet__count">0</span>', facet), facet


def test_a_state_code_edgar_does_not_list_is_taken_as_written():
    # Some headers hold codes outside EDGAR's list; a facet of one must select it.
    req = SearchRequest.from_query(QueryDict("state_loc=on&state_inc=Narnia"))
    assert req.state_loc == ["ON"] and req.state_inc == []
    assert any("Narnia" in m for m in req.messages)


@pytest.mark.parametrize("view", ["filings", "documents"])
def test_a_search_counts_just_the_facets_it_is_asked_for(corpus, view):
    # A chosen facet's other values are counted by a second search of that one facet.
    from search import backends
    from search.query import parse

    engine = backends.get()
    req = SearchRequest.from_query(QueryDict("q=revenue"))
    parsed = parse(req.q)

    def facets(which):
        return engine.search(parsed, req, sort="relevance", view=view, page=1, per_page=5,
                             facets=which).facets

    every = facets(True)
    assert every["form"] and every["doc_type"] and set(every) == set(FACETS)
    assert facets(("doc_type", "form")) == {"form": every["form"], "doc_type": every["doc_type"]}
    assert facets(False) == {}


def test_without_clears_exactly_the_filter_named():
    from search.filters import MULTI_VALUED

    query = QueryDict(mutable=True)
    samples = {"form": "10-K", "category": "annual", "doc_type": "EX-10", "cik": "320193",
               "file_number": "000-10030",
               "year": "2020", "sic": "3571", "state_inc": "DE", "state_loc": "CA",
               "item": "2.02",
               "section": "1A"}
    assert set(samples) == set(MULTI_VALUED)
    for name, value in samples.items():
        query.setlist(name, [value])
    req = SearchRequest.from_query(query)
    full = {f.name: getattr(req, f.name) for f in dataclasses.fields(req)
            if f.name not in ("messages", "applied")}
    assert not req.messages, req.messages
    for name in MULTI_VALUED:
        copy = req.without(name)
        left = {f.name: getattr(copy, f.name) for f in dataclasses.fields(copy)
                if f.name not in ("messages", "applied")}
        cleared = [k for k in full if full[k] != left[k]]
        assert len(cleared) == 1 and left[cleared[0]] == [], (name, cleared)
    with pytest.raises(KeyError):
        req.without("company")  # not a multi-valued filter


@pytest.mark.parametrize("view", ["filings", "documents"])
@pytest.mark.parametrize("query", ["q=revenue", "form=8-K&form=10-Q", "q=stock+OR+shares&year=1997",
                                   "filed_from=1900-01-01", 'q="results+of+operations"'])
def test_facet_counts_alone_are_the_searchs_facets(corpus, view, query):
    from search import backends
    from search.backends.base import FACETS as ENGINE_FACETS
    from search.query import parse

    engine = backends.get()
    req = SearchRequest.from_query(QueryDict(query))
    parsed = parse(req.q)
    whole = engine.search(parsed, req, sort="newest", view=view, page=1, per_page=5).facets
    assert any(whole.values())
    assert engine.facet_counts(parsed, req, view=view, names=ENGINE_FACETS) == whole
    for name in ENGINE_FACETS:  # each alone (on PostgreSQL, read from its own column)
        assert engine.facet_counts(parsed, req, view=view, names=(name,)) == {
            name: whole[name]}
