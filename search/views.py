"""Search pages, the search API, CSV export, Atom feed, OpenSearch and company search."""
from __future__ import annotations

import datetime
import re
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Case, Value, When
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET

from filings import spreadsheet
from filings.models import Company, Filing, Ticker
from filings.templatetags.filings_tags import location, tickers_for
from filings.views import canonical_accession
from search import results as sr
from search.filters import (
    CATEGORIES,
    CATEGORY_BY_SLUG,
    FILTER_LABELS,
    MAX_VALUES,
    PER_PAGE,
    RANGES,
    SORTS,
    VIEWS,
    SearchRequest,
    link_params,
)

FEED_SIZE = 50
PAGE_SIZES = (10, 20, 50, 100)  # the page-size choice on the results page


@require_GET
def results(request):
    req = SearchRequest.from_query(request.GET)
    context = {"req": req, "q": req.q, "categories": CATEGORIES, "ranges": RANGES,
               "sorts": SORTS, "views": VIEWS, "clear_url": _cleared(request)}
    if not req.q and not req.has_filters:
        return render(request, "search/results.html", context)
    accession = _accession(req.q)
    if accession:
        filing = Filing.objects.filter(accession_number=accession).first()
        if filing is not None:
            return redirect(filing)
    try:
        found = sr.run(req)
    except sr.PageNotFound as past:
        # A page past the end (an old link, a typed number): the last page, saying so.
        req.page = past.last
        found = sr.run(req)
        found.messages.insert(0, f"There is no page {past.page:,} of these results; "
                                 f"this is the last page, page {past.last:,}.")
    if accession:
        found.messages.insert(0, f"No stored filing has the accession number {accession}; "
                                 f"these are the documents that mention it.")
    _prepare_rows(found.items)
    context.update(
        req=req,
        results=found,
        company_offers=_company_offers(req, found),
        facets=[_facet_links(request, req, f) for f in found.facets],
        active=_active_filters(request, req),
        page_links=_page_links(request, found),
        suggestion_url=_with(request, q=found.suggestion, page=None) if found.suggestion else "",
        sort_links=[(label, _with(request, sort=key, page=None), key == req.sort)
                    for key, label in SORTS.items()],
        view_links=[(label, _with(request, view=key, page=None), key == req.view)
                    for key, label in VIEWS.items()],
        # Layout (page-size choice, the sortable Filed column): links as the others.
        per_page_links=[(n, _with(request, per_page=None if n == PER_PAGE else n, page=None),
                         n == req.per_page) for n in PAGE_SIZES],
        sort_urls={key: _with(request, sort=key, page=None) for key in SORTS},
        csv_url=reverse("search:csv") + _qs(request, page=None),
        zip_url=reverse("search:zip") + _qs(request, page=None, view=None),
        zip_html_url=reverse("search:zip") + _qs(request, page=None, view=None, files="html"),
        feed_url=reverse("search:feed") + _qs(request, page=None, sort=None),
        api_url=reverse("search:api") + _qs(request),
        qparam=_q_param(request),
    )
    return render(request, "search/results.html", context)


# What "Clear all" keeps: the words and how the results are shown, not what filters them.
_KEPT_BY_CLEAR = ("q", "view", "sort", "per_page")


def _cleared(request) -> str:
    params = _params(request)
    kept = {name: params[name] for name in _KEPT_BY_CLEAR if params.get(name)}
    return reverse("search:results") + (_qs_only(**kept) if kept else "")


def _prepare_rows(items):
    """EDGAR's results show each filing's film number; the index does not hold it, so the
    page's filings are read for it (one query by accession number). And each row's
    parties and file numbers as the row shows them (`Party`, `_file_links`): made here
    once, not by a template tag per value."""
    hits = [h for item in items for h in (item.hits if isinstance(item, sr.Group) else [item])]
    films = Filing.objects.film_numbers({h.accession for h in hits})
    # Each party's tickers (filings.Ticker, by CIK), read in one query too.
    tickers = Ticker.objects.of_ciks({int(p[0]) for h in hits for p in h.parties})
    for hit in hits:
        hit.film_number = films.get(hit.accession, "")
        hit.shown_parties = [Party(cik, name, located, incorporated, tickers)
                             for cik, name, located, incorporated in hit.parties]
        hit.file_links = _file_links(hit.file_number)


class Party:
    """A result row's party: its page, name, tickers, CIK and states as the row shows
    them."""

    __slots__ = ("url", "name", "tickers", "cik", "located", "incorporated")

    def __init__(self, cik, name, located, incorporated, tickers):
        self.url = reverse("filings:company", kwargs={"cik": cik})
        self.name = name
        self.tickers = tickers_for(tickers, cik)
        try:
            self.cik = f"{cik:010d}"
        except (TypeError, ValueError):
            self.cik = ""
        self.located, self.incorporated = location(located), location(incorporated)


def _file_links(file_number: str) -> list[tuple[str, str]]:
    """(file number, the search for every filing under it) for each of a row's."""
    base = reverse("search:results")
    return [(n, f"{base}?file_number={quote(n)}") for n in (file_number or "").split()]


@require_GET
def help_page(request):
    return render(request, "search/help.html", {
        "categories": CATEGORIES,
        "zip_max_documents": f"{settings.ZIP_MAX_DOCUMENTS:,}",
        "zip_max_mb": f"{settings.ZIP_MAX_BYTES / 2**20:,.6g}",
    })


# --- Links that keep the rest of the query string ---------------------------------------------


def _params(request):
    """The request's search parameters as links repeat them (bounded: see
    search.filters.link_params), read once per request."""
    if not hasattr(request, "_search_link_params"):
        request._search_link_params = link_params(request.GET)
    return request._search_link_params


def _encoded_params(request) -> dict[str, list[str]]:
    """`_params` with each value already encoded ("name=value"), in order, once per
    request: a results page has a few hundred links that each change one parameter."""
    if not hasattr(request, "_search_encoded_params"):
        request._search_encoded_params = {
            name: [_encode(name, v) for v in values] for name, values in _params(request).lists()
        }
    return request._search_encoded_params


def _encode(name: str, value) -> str:
    return urlencode([(name, str(value))])  # as QueryDict.urlencode encodes each pair


def _changed(name: str, value) -> list[str]:
    if value is None:
        return []
    return [_encode(name, v) for v in (value if isinstance(value, list) else [value])]


def _qs(request, **changes) -> str:
    """The request's query string with these parameters changed: a value, a list of
    values, or None to drop it. A parameter keeps its place; a new one comes last."""
    params = _encoded_params(request)
    pieces = []
    for name, encoded in params.items():
        pieces += _changed(name, changes[name]) if name in changes else encoded
    for name, value in changes.items():
        if name not in params:
            pieces += _changed(name, value)
    return "?" + "&".join(pieces) if pieces else ""


def _with(request, **changes) -> str:
    if not hasattr(request, "_search_results_url"):
        request._search_results_url = reverse("search:results")
    return request._search_results_url + _qs(request, **changes)


FACETS_SHOWN = 8  # values a facet lists before "more"


def _facet_links(request, req, facet):
    """A facet's values as links that add the value to its filter (OR within a facet)
    or, for a chosen value, take it away."""
    param = facet.param
    applied = req.applied.get(param, [])
    chosen = {normal for _raw, normal in applied}
    links = []
    for value, label, count in facet.values:
        selected = value in chosen
        if selected:
            rest = [raw for raw, normal in applied if normal != value]
        elif len(applied) >= MAX_VALUES:  # the filter takes no more: the value alone
            rest = [value]
        else:
            rest = [raw for raw, _normal in applied] + [value]
        url = _with(request, **{param: rest or None, "page": None})
        links.append({"value": value, "label": label, "count": count, "url": url,
                      "selected": selected})
    # A chosen value that finds nothing with the other filters is still shown, to be
    # taken away here too.
    listed = {link["value"] for link in links}
    unlisted = sr.value_labels(param, [n for _raw, n in applied if n not in listed])
    for normal, label in unlisted.items():
        rest = [raw for raw, n in applied if n != normal]
        links.append({"value": normal, "label": label, "count": 0,
                      "url": _with(request, **{param: rest or None, "page": None}),
                      "selected": True})
    # The chosen values first, then the commonest; those past `shown` behind "more".
    links.sort(key=lambda link: not link["selected"])
    for link in links:
        link["count_text"] = f"{link['count']:,}"
    shown = max(FACETS_SHOWN, sum(link["selected"] for link in links))
    return {"name": facet.name, "label": facet.label, "links": links, "shown": shown,
            "more": max(0, len(links) - shown)}


def _active_filters(request, req):
    """Each filter in force, as people read it ("Incorporated in: Delaware"), with a
    link that removes it. Values a filter ignored (with a message) are not shown."""
    active = []
    for name in ("form", "category", "doc_type", "company", "file_number", "cik", "year", "sic",
                 "state_inc", "state_loc", "item", "section", "range", "filed_from", "filed_to",
                 "ingested_after", "ingested_to"):
        applied = req.applied.get(name, [])
        normals = list(dict.fromkeys(n for _raw, n in applied))
        if name == "range":
            labels = {n: RANGES[n][0] for n in normals}
        elif name == "category":
            labels = {n: CATEGORY_BY_SLUG[n].label for n in normals}
        else:
            labels = sr.value_labels(name, normals)  # names read in one query
        for normal in normals:
            rest = [raw for raw, n in applied if n != normal]
            changes = {name: rest or None, "page": None}
            label = labels[normal]
            active.append({"name": FILTER_LABELS[name], "value": label,
                           "url": _with(request, **changes)})
    return active


def _accession(q: str) -> str:
    """The accession number a query is, dashed or not ("" when it is not one)."""
    return canonical_accession(q.strip()) or ""


def _company_offers(req, found) -> list:
    """Companies a query names, offered above its results: the company of a CIK, or
    companies whose name starts with a short plain query ("apple", "ford motor")."""
    q = req.q.strip()
    if not q or req.page > 1 or len(q) > 60 or "\x00" in q:
        return []
    if q.isascii() and q.isdigit():
        return list(Company.objects.filter(cik=int(q))[:1]) if len(q) <= 10 else []
    plain = all(c.field == "body" and c.kind in ("word", "phrase")
                for g in found.parsed.groups for c in g)
    if not plain or len(found.parsed.groups) > 4 or found.parsed.excluded or ":" in q:
        return []
    name = " ".join(q.replace('"', " ").split())
    if len(name) < 2:
        return []
    return list(Company.objects.filter(name__istartswith=name).order_by("name")[:3])


def _page_links(request, found):
    pages, page = found.pages, found.page
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links, last = [], 0
    for number in shown:
        if number - last > 1:
            links.append({"gap": True})
        links.append({"number": number, "url": _with(request, page=number),
                      "current": number == page})
        last = number
    return {
        "links": links if pages > 1 else [],
        "previous": _with(request, page=page - 1) if page > 1 else "",
        "next": _with(request, page=page + 1) if page < pages else "",
    }


# --- For programs -----------------------------------------------------------------------------


def _hit_json(request, hit, with_snippet=True):
    data = {
        "accession_number": hit.accession,
        "sequence": hit.sequence,
        "form_type": hit.form,
        "document_type": hit.doc_type,
        "filename": hit.filename,
        "description": hit.description,
        "filed": hit.filed or None,
        "period": hit.period or None,
        "entities": [
            {"cik": cik, "name": name, "located": loc, "incorporated": inc}
            for cik, name, loc, inc in hit.parties
        ],
        "file_number": hit.file_number,
        "items": hit.item.split(),
        "url": request.build_absolute_uri(hit.url + _q_param(request)),
        "filing_url": request.build_absolute_uri(hit.filing_url),
    }
    if with_snippet:
        data["snippet"] = str(hit.snippet)
    return data


def _q_param(request) -> str:
    q = _params(request).get("q", "")
    return _qs_only(q=q) if q else ""


def _qs_only(**params) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode(params)


@require_GET
def api_search(request):
    req = SearchRequest.from_query(request.GET)
    try:
        found = sr.run(req)
    except sr.PageNotFound:
        return JsonResponse({"error": "There is no such page of results."}, status=404)
    items = []
    for item in found.items:
        if isinstance(item, sr.Group):
            data = _hit_json(request, item.first)
            data["documents"] = [_hit_json(request, h) for h in item.hits]
            data["matching_documents"] = item.count
            items.append(data)
        else:
            items.append(_hit_json(request, item))
    return JsonResponse({
        "query": found.parsed.text(),
        "messages": found.messages,
        "total": found.total,
        "view": req.view,
        "filings": found.filings,
        "documents": found.documents,
        "page": found.page,
        "pages": found.pages,
        "per_page": req.per_page,
        "milliseconds": found.milliseconds,
        "suggestion": found.suggestion,
        "results": items,
        "facets": {f.name: [{"value": v, "label": lab, "count": n} for v, lab, n in f.values]
                   for f in found.facets},
    })


CSV_COLUMNS = ["accession_number", "sequence", "form_type", "document_type", "filed", "period",
               "ciks", "entities", "located", "incorporated", "file_number", "items",
               "filename", "description", "matching_documents", "url"]


@require_GET
def export_csv(request):
    """Every result of the search, one row per result (filing or document, as the view
    counts them), streamed: memory stays flat however many there are."""
    req = SearchRequest.from_query(request.GET)
    base = request.build_absolute_uri("/")[:-1]
    suffix = _q_param(request)

    def rows():
        yield CSV_COLUMNS
        for item in sr.iter_results(req):
            hit, count = (item.first, item.count) if isinstance(item, sr.Group) else (item, 1)
            f = hit.fields  # read as a dict: an attribute of a Hit is a call each
            parties = f["parties"]
            yield [
                f["accession"], f["sequence"], f["form"], f["doc_type"], f["filed"],
                f["period"], " ".join([str(p[0]) for p in parties]),
                "; ".join([p[1] for p in parties]),
                " ".join([p[2] for p in parties if p[2]]),
                " ".join([p[3] for p in parties if p[3]]),
                f["file_number"], f["item"], f["filename"], f["description"], count,
                base + hit.url + suffix,
            ]

    response = StreamingHttpResponse(spreadsheet.stream(rows()),
                                     content_type="text/csv; charset=utf-8")
    stamp = datetime.date.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="edgar-search-{stamp}.csv"'
    return response


class AtomFeed(Atom1Feed):
    """An Atom feed whose titles and summaries hold no character XML 1.0 forbids (they
    become spaces): Django's feed writer raises on a control character, so a query or a
    saved search's name with one (q=a%01) failed the feed with a 500."""

    def __init__(self, title, link, description, **kwargs):
        super().__init__(_xml_text(title), link, _xml_text(description), **kwargs)

    def add_item(self, title, link, description, **kwargs):
        super().add_item(_xml_text(title), link, _xml_text(description), **kwargs)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text):
    return _NOT_XML.sub(" ", str(text)) if text is not None else text


@require_GET
def feed(request):
    """An Atom feed of the search, newest first: a saved search as an alert."""
    params = request.GET.copy()
    params["sort"] = "newest"
    params["page"] = "1"
    params["per_page"] = str(FEED_SIZE)
    req = SearchRequest.from_query(params)
    found = sr.run(req, with_facets=False)
    title = f"EDGAR search: {req.q}" if req.q else "EDGAR search"
    atom = AtomFeed(
        title=title,
        link=request.build_absolute_uri(reverse("search:results") + _qs(request)),
        description=f"Newest filings matching {req.q or 'the filters'}",
        feed_url=request.build_absolute_uri(),
        language="en",
    )
    suffix = _q_param(request)
    for item in found.items:
        hit = item.first if isinstance(item, sr.Group) else item
        names = ", ".join(p[1] for p in hit.parties)
        link = request.build_absolute_uri(hit.url + suffix)
        filed = (datetime.datetime.fromisoformat(hit.filed).replace(tzinfo=datetime.UTC)
                 if hit.filed else None)
        atom.add_item(
            title=f"{hit.form} {names} ({hit.doc_type or 'document'} {hit.sequence})",
            link=link,
            description=strip_tags(str(hit.snippet)),
            unique_id=f"{request.build_absolute_uri('/')}{hit.accession}/{hit.sequence}",
            pubdate=filed,
            updateddate=filed,
        )
    return StreamingHttpResponse(
        [atom.writeString("utf-8")], content_type="application/atom+xml; charset=utf-8"
    )


@require_GET
def opensearch(request):
    return render(request, "search/opensearch.xml",
                  {"base": request.build_absolute_uri("/")[:-1]},
                  content_type="application/opensearchdescription+xml")


# --- Companies ----------------------------------------------------------------------------------


def _companies(text):
    """Companies for a name, former name or CIK: names that start with the text first."""
    text = (text or "").strip()[:200]
    if "\x00" in text:  # no name holds one, and PostgreSQL cannot even compare it
        return Company.objects.none()
    matches = Company.objects.matching(text).prefetch_related("former_names")
    if not text:
        return matches
    # The company whose ticker it is first (AAPL), then names that start with it.
    ticker = Ticker.objects.filter(ticker=text.upper()).values("cik")
    starts = Case(When(cik__in=ticker, then=Value(0)),
                  When(name__istartswith=text, then=Value(1)), default=Value(2))
    return matches.annotate(starts=starts).order_by("starts", "name")


@require_GET
def api_companies(request):
    text = request.GET.get("q", "")
    data = []
    companies = list(_companies(text)[:10])
    tickers = Ticker.objects.of_ciks(c.cik for c in companies)
    for company in companies:
        former = [f.name for f in company.former_names.all()
                  if text.strip().lower() in f.name.lower()]
        data.append({
            "cik": company.cik,
            "name": company.name,
            "former_names": former,
            "tickers": tickers.get(company.cik, []),
            "url": company.get_absolute_url(),
            "search_url": reverse("search:results") + _qs_only(company=company.cik),
        })
    return JsonResponse({"results": data})


@require_GET
def companies(request):
    text = request.GET.get("q", "").strip()[:200]
    # A CIK is ASCII digits (int() also reads "²" and "٣") and fits in 64 bits.
    is_cik = text.isascii() and text.isdigit() and len(text) <= 18
    if is_cik and Company.objects.filter(cik=int(text)).exists():
        return redirect("filings:company", cik=int(text))
    paginator = Paginator(_companies(text), 50)
    number = request.GET.get("page") or 1
    try:
        page = paginator.page(number)
    except Exception:
        raise Http404("There is no such page of companies.") from None
    return render(request, "search/company_results.html", {
        "company_q": text, "page": page,
        "tickers": Ticker.objects.of_ciks(c.cik for c in page.object_list),
        "previous_url": reverse("search:companies") + _qs(request, page=page.number - 1)
        if page.has_previous() else "",
        "next_url": reverse("search:companies") + _qs(request, page=page.number + 1)
        if page.has_next() else "",
    })
