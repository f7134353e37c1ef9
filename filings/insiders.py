"""Insider transactions pages: a company's, as the issuer of the securities or as a
reporting owner, from the rows stored at ingest (`filings.ownership`). Sortable by any
column, filtered by transaction code and date, and the same rows as CSV (streamed)."""
from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from filings import spreadsheet
from filings.models import Company, InsiderTransaction
from filings.xmlview import TRANSACTION_CODES

PAGE_SIZE = 100
ISSUER, OWNER = "issuer", "owner"
ROLE_COLUMN = {ISSUER: "issuer", OWNER: "owner"}  # the page's own company: no column
# Sort keys (the query's `sort`, "-" for descending) and their columns; ties fall back to
# the newest filing first, then the form's own order.
SORTS = {
    "date": "transaction_date",
    "owner": "owner_name",
    "issuer": "issuer_name",
    "security": "security",
    "code": "code",
    "shares": "shares",
    "price": "price",
    "owned_after": "owned_after",
    "filed": "filing__filed_on",
}
DEFAULT_SORT = "-date"
# Each column's name in the sort choice beside the filters (a phone shows no column
# headers to click): every column, both ways.
SORT_LABELS = {"date": "Date", "owner": "Reporting owner", "issuer": "Issuer",
               "security": "Security", "code": "Code", "shares": "Shares", "price": "Price",
               "owned_after": "Owned after", "filed": "Filed"}
CSV_COLUMNS = ["transaction_date", "owner_cik", "owner_name", "issuer_cik", "issuer_name",
               "trading_symbol", "security", "table", "code", "acquired_disposed", "shares",
               "price", "owned_after", "direct_indirect", "nature_of_ownership", "footnotes",
               "form_type", "accession_number", "filed", "url"]


def _date(value: str, messages: list[str], label: str) -> datetime.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:32])
    except ValueError:
        messages.append(f"“{label}” must be a date like 2024-12-31; {value[:32]!r} was "
                        f"ignored.")
        return None


def _codes(request) -> list[str]:
    """The `code` filter: repeated or comma-separated, letters only, upper case."""
    codes = []
    for raw in request.GET.getlist("code")[:30]:
        for value in raw.split(","):
            value = value.strip().upper()[:8]
            if value.isascii() and value.isalpha() and value not in codes:
                codes.append(value)
    return codes[:30]


def _ordering(sort: str) -> list:
    column = SORTS[sort.lstrip("-")]
    expression = F(column).desc(nulls_last=True) if sort.startswith("-") else \
        F(column).asc(nulls_last=True)
    return [expression, F("filing__filed_on").desc(nulls_last=True),
            "-filing__accession_number", "document_sequence", "position"]


def _selection(request, company, role: str) -> dict:
    """The rows the request asks for, and what the page says about them."""
    messages: list[str] = []
    rows = InsiderTransaction.objects.all()
    rows = rows.of_issuer(company.cik) if role == ISSUER else rows.of_owner(company.cik)
    codes_present = list(rows.order_by("code").values("code").annotate(n=Count("id")))
    codes = _codes(request)
    start = _date(request.GET.get("from"), messages, "From")
    end = _date(request.GET.get("to"), messages, "To")
    if start and end and start > end:
        start, end = end, start
        messages.append("The dates were swapped: “From” came after “To”.")
    sort = request.GET.get("sort") or DEFAULT_SORT
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT
    chosen = rows.with_codes(codes).dated(start, end)
    return {
        "all_rows": rows,
        "rows": chosen.select_related("filing").order_by(*_ordering(sort)),
        "codes": codes,
        "codes_present": [
            {**c, "label": TRANSACTION_CODES.get(c["code"], ""), "chosen": c["code"] in codes}
            for c in codes_present
        ],
        "start": start,
        "end": end,
        "sort": sort,
        "notes": messages,
    }


def _link_params(selection: dict) -> QueryDict:
    """What the page's links repeat: its filters and sort as `_selection` read them, not
    the request's query string, which may carry anything (5,000 characters of a
    utm_source, a thousand stray values) into each of its links."""
    params = QueryDict(mutable=True)
    if selection["codes"]:
        params.setlist("code", selection["codes"])
    if selection["start"]:
        params["from"] = selection["start"].isoformat()
    if selection["end"]:
        params["to"] = selection["end"].isoformat()
    params["sort"] = selection["sort"]
    return params


def _sort_links(link_params: QueryDict, sort: str) -> dict:
    """Per column: the link that sorts by it (again: the other way) and its aria-sort."""
    links = {}
    for key in SORTS:
        if sort == key:
            state, target = "ascending", f"-{key}"
        elif sort == f"-{key}":
            state, target = "descending", key
        else:
            state, target = "", f"-{key}" if key in ("date", "shares", "price", "owned_after",
                                                      "filed") else key
        params = link_params.copy()
        params["sort"] = target
        links[key] = {"url": "?" + params.urlencode(), "state": state}
    return links


@require_safe
def issuer_transactions(request, cik):
    return _transactions(request, cik, ISSUER)


@require_safe
def owner_transactions(request, cik):
    return _transactions(request, cik, OWNER)


def _transactions(request, cik, role: str):
    from filings.views import _company_or_redirect  # one CIK rule for every company page

    route = "filings:insiders" if role == ISSUER else "filings:insiders-owner"
    company, response = _company_or_redirect(request, cik, route)
    if response:
        return response
    selection = _selection(request, company, role)
    if request.GET.get("format") == "csv":
        return _csv(request, company, role, selection["rows"])
    page = Paginator(selection["rows"], PAGE_SIZE).get_page(request.GET.get("page"))
    # The other party's page is linked where there is one: an owner named only in a
    # report's XML has no company page here.
    parties = {r.owner_cik if role == ISSUER else r.issuer_cik for r in page.object_list}
    linked = set(Company.objects.filter(cik__in=parties - {None})
                 .values_list("cik", flat=True))
    for row in page.object_list:
        row.code_title = TRANSACTION_CODES.get(row.code, "")
        row.party_linked = (row.owner_cik if role == ISSUER else row.issuer_cik) in linked
    params = _link_params(selection)
    params["format"] = "csv"
    other_role = OWNER if role == ISSUER else ISSUER
    other = InsiderTransaction.objects.all()
    other = other.of_owner(company.cik) if role == ISSUER else other.of_issuer(company.cik)
    return render(request, "filings/insider_transactions.html", {
        **selection,
        "company": company,
        "role": role,
        "page": page,
        "total": selection["all_rows"].count(),
        "sort_links": _sort_links(_link_params(selection), selection["sort"]),
        "sort_choices": [
            (f"{way}{key}", f"{label}, {'descending' if way else 'ascending'}")
            for key, label in SORT_LABELS.items() if key != ROLE_COLUMN[role]
            for way in ("-", "")
        ],
        "csv_url": reverse(route, kwargs={"cik": company.cik}) + "?" + params.urlencode(),
        "clear_url": reverse(route, kwargs={"cik": company.cik}),
        "other_url": reverse("filings:insiders" if other_role == ISSUER
                             else "filings:insiders-owner", kwargs={"cik": company.cik}),
        "other_count": other.count(),
    })


def _plain(value) -> str:
    """A figure without the column's trailing zeros: 402.841, not 402.841000."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _csv(request, company, role: str, rows):
    base = request.build_absolute_uri("/")[:-1]

    def lines():
        yield CSV_COLUMNS
        for t in rows.iterator(chunk_size=1000):
            filing = t.filing
            yield [
                t.transaction_date.isoformat() if t.transaction_date else "", t.owner_cik or "",
                t.owner_name, t.issuer_cik or "", t.issuer_name, t.trading_symbol, t.security,
                t.table, t.code, t.acquired_disposed, _plain(t.shares), _plain(t.price),
                _plain(t.owned_after), t.ownership, t.nature, t.footnotes, filing.form_type,
                filing.accession_number, filing.filed_on.isoformat() if filing.filed_on else "",
                base + reverse("filings:document", kwargs={
                    "accession": filing.accession_number, "sequence": t.document_sequence}),
            ]

    response = StreamingHttpResponse(spreadsheet.stream(lines()),
                                     content_type="text/csv; charset=utf-8")
    name = f"insider-transactions-{company.cik}-{'issuer' if role == ISSUER else 'owner'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
