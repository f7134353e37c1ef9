"""The results page's layout as the server renders it: one filter panel (one company box,
one Apply, one Clear all), EDGAR's Film number column, the page-size choice and the
sortable Filed column. (tests/browser/test_layout.py looks at the same in Chromium.)"""
import re

from filings.models import Filing


def get(client, **params):
    response = client.get("/search/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_one_filter_panel_with_one_company_box_apply_and_clear_all(client, corpus):
    html = get(client, q="revenue", company="320193")
    assert html.count(">Company or CIK</label>") == 1
    assert html.count('name="company"') == 1
    assert 'value="320193"' in html  # the box shows the filter in force
    assert "data-es-company" in html and 'data-es-suggest-mode="filter"' in html
    assert 'action="/companies/"' not in html  # no second box searching companies
    assert html.count('class="filter-form"') == 1
    assert len(re.findall(r"<button[^>]*>Apply</button>", html)) == 1
    assert len(re.findall(r">Clear all</a>", html)) == 1
    assert re.search(r'<a class="button filter-form__clear" href="/search/\?q=revenue">', html)


def test_film_numbers_are_the_filings_own(client, corpus):
    html = get(client, q="revenue")
    rows = re.findall(
        r'<td class="result__form"[^>]*><a href="/filings/([\d-]+)/">.*?'
        r'<td class="result__filmno"[^>]*>([^<]*)</td>', html, re.S)
    assert rows
    films = dict(Filing.objects.values_list("accession_number", "film_number"))
    assert any(film != "—" for _, film in rows)
    for accession, film in rows:
        assert film == (films[accession] or "—")


def test_page_size_choice_and_sortable_filed_column(client, corpus):
    html = get(client, q="revenue", per_page=50)
    sizes = re.search(r'aria-label="Results per page">(.*?)</nav>', html, re.S)
    links = re.findall(r'<a href="([^"]+)"( aria-current="true")?>(\d+)</a>', sizes.group(1))
    assert [n for _, _, n in links] == ["10", "20", "50", "100"]
    assert [n for _, current, n in links if current] == ["50"]
    urls = {n: url.replace("&amp;", "&") for url, _, n in links}
    assert urls["10"] == "/search/?q=revenue&per_page=10"
    assert urls["20"] == "/search/?q=revenue"  # the default is not repeated

    th = re.search(r'<th scope="col" class="results-table__filed"([^>]*)>(.*?)</th>', html, re.S)
    assert "aria-sort" not in th.group(1)  # relevance: no column sorts
    assert 'href="/search/?q=revenue&amp;per_page=50&amp;sort=newest"' in th.group(2)
    html = get(client, q="revenue", sort="newest")
    th = re.search(r'<th scope="col" class="results-table__filed"([^>]*)>(.*?)</th>', html, re.S)
    assert 'aria-sort="descending"' in th.group(1)
    assert 'href="/search/?q=revenue&amp;sort=oldest"' in th.group(2)
    html = get(client, q="revenue", sort="oldest")
    th = re.search(r'<th scope="col" class="results-table__filed"([^>]*)>(.*?)</th>', html, re.S)
    assert 'aria-sort="ascending"' in th.group(1)
    assert 'href="/search/?q=revenue&amp;sort=newest"' in th.group(2)


def test_result_rows_name_the_states_their_codes_stand_for(client, corpus):
    html = client.get("/search/", {"q": "revenue"}).content.decode()
    assert '<abbr title="California">CA</abbr>' in html


def test_a_location_code_edgar_lacks_is_shown_as_written_and_escaped():
    from filings.templatetags.filings_tags import location

    assert location("") == "—"
    assert location("ZZ") == "ZZ"
    assert location("a6") == '<abbr title="Canada (Ontario)">a6</abbr>'
    from django.template import Context, Template

    rendered = Template("{% load filings_tags %}{{ code|location }}").render(
        Context({"code": "<b>"}))
    assert rendered == "&lt;b&gt;"


def test_clear_all_drops_the_filters_and_keeps_the_words_view_sort_and_page_size(client, corpus):
    import html
    import re

    page = client.get("/search/", {"q": "revenue", "form": "10-Q", "state_inc": "CA",
                                   "view": "documents", "sort": "newest", "per_page": "50",
                                   "page": "1"}).content.decode()
    href = html.unescape(re.search(r'class="button filter-form__clear" href="([^"]*)"', page)[1])
    assert href == "/search/?q=revenue&view=documents&sort=newest&per_page=50"
    page = client.get("/search/", {"form": "8-K"}).content.decode()
    assert 'class="button filter-form__clear" href="/search/"' in page


def test_links_change_one_parameter_in_place_and_keep_the_others(rf):
    from search.views import _qs, _with

    request = rf.get("/search/?q=net+sales&form=10-K&form=8-K&page=3&company=caf%C3%A9")
    base = _qs(request)  # the known parameters, in the order links give them
    assert sorted(base[1:].split("&")) == sorted(
        ["q=net+sales", "form=10-K", "form=8-K", "page=3", "company=caf%C3%A9"])
    pairs = base[1:].split("&")
    # A changed parameter keeps its place; None drops it; a new one comes last.
    assert _qs(request, page=4) == "?" + "&".join(
        "page=4" if p == "page=3" else p for p in pairs)
    assert _qs(request, form=["8-K"], page=None) == "?" + "&".join(
        p for p in pairs if p not in ("form=10-K", "page=3"))
    assert _qs(request, year=["1997", "a&b"], company=None) == "?" + "&".join(
        [p for p in pairs if not p.startswith("company=")] + ["year=1997", "year=a%26b"])
    assert _with(request, q=None, form=None, page=None, company=None) == "/search/"
    assert _qs(request) == base  # a link never changes what the next one starts from
