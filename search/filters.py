"""Search filters: the query-string parameters, EDGAR's form categories, date presets.

Every filter is a plain query-string parameter, so a search is its URL:

    q          the query (search.query)
    form       form types, repeated or comma-separated: form=10-K&form=8-K
    category   EDGAR form categories (CATEGORIES below); amendments (/A) included
    doc_type   document types by prefix: EX-10 matches EX-10, EX-10.1, EX-10.2
    company    a company name (current or former) or CIK, any party of the filing
    filed_from, filed_to   ISO dates; range=30d|1y|5y|10y|all presets
    sic, state_inc, state_loc, item        SIC code, states, 8-K item numbers
    sort       relevance (default with words), newest (default without), oldest
    view       filings (default: results grouped by filing) or documents
    page       1-based

Every parameter is bounded where it is read, and links (filters, facets, pages, sorts)
repeat only what was read: `link_params()`. A URL repeating `form=` a thousand times
costs what fifty do.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils import timezone


@dataclass(frozen=True)
class Category:
    slug: str
    label: str
    forms: tuple[str, ...]


def _cat(slug, label, forms):
    return Category(slug, label, tuple(forms.split()))


# EDGAR full-text search's form groups, with the forms they gather.
CATEGORIES = [
    _cat("annual", "Annual reports", "10-K 10-K405 10-KSB 10-KT 20-F 40-F 11-K N-CSR 1-K"),
    _cat("quarterly", "Quarterly reports", "10-Q 10-QSB 10-QT N-Q NPORT-P 1-SA"),
    _cat("current", "Current reports", "8-K 6-K 1-U 8-K12B 8-K12G3"),
    _cat("section16", "Section 16 reports (insiders)", "3 4 5"),
    _cat(
        "ownership",
        "Beneficial ownership reports",
        "SC 13D SC 13G SCHEDULE 13D SCHEDULE 13G 13F-HR 13F-NT 13H",
    ),
    _cat(
        "registration",
        "Registration statements and prospectuses",
        "S-1 S-3 S-4 S-8 S-11 F-1 F-3 F-4 F-10 S-1MEF S-3ASR POS AM POSASR 424B1 424B2 "
        "424B3 424B4 424B5 424B7 424B8 10-12B 10-12G 8-A12B 8-A12G N-2 N-1A FWP",
    ),
    _cat(
        "proxy",
        "Proxy materials",
        "DEF 14A DEFA14A DEFM14A DEFR14A PRE 14A PREM14A PRER14A DEF 14C PRE 14C DFAN14A",
    ),
    _cat(
        "tender",
        "Tender offers and going-private transactions",
        "SC TO-T SC TO-I SC TO-C SC 14D9 SC 13E3 SC 13E4 SC14D1F",
    ),
    _cat("correspondence", "SEC correspondence", "CORRESP UPLOAD LETTER"),
]
# Forms whose names hold spaces cannot be split on spaces: rebuild them.
_MULTIWORD = {"SC", "SCHEDULE", "DEF", "PRE", "POS"}


def _join_multiword(forms: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for token in forms:
        if out and out[-1] in _MULTIWORD:
            out[-1] = f"{out[-1]} {token}"
        else:
            out.append(token)
    return tuple(out)


CATEGORIES = [Category(c.slug, c.label, _join_multiword(c.forms)) for c in CATEGORIES]
CATEGORY_BY_SLUG = {c.slug: c for c in CATEGORIES}

RANGES = {
    "30d": ("Last 30 days", datetime.timedelta(days=30)),
    "1y": ("Last year", datetime.timedelta(days=365)),
    "5y": ("Last 5 years", datetime.timedelta(days=5 * 365 + 1)),
    "10y": ("Last 10 years", datetime.timedelta(days=10 * 365 + 2)),
    "all": ("All dates", None),
}
SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first"}
VIEWS = {"filings": "Filings", "documents": "Documents"}
PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_VALUES = 50  # values per multi-valued filter
MAX_TOTAL_VALUES = 100  # values of all the multi-valued filters together
MAX_VALUE_CHARS = 64
# The multi-valued filters, in the order the overall cap takes their values.
MULTI_VALUED = ("form", "category", "doc_type", "sic", "state_inc", "state_loc", "item")
# The single-valued parameters links repeat, and how much of each (the query is cut
# where the query language cuts it).
SINGLE_VALUED = {"q": 1000, "company": 200, "filed_from": 32, "filed_to": 32, "range": 16,
                 "sort": 16, "view": 16, "page": 12, "per_page": 12}


@dataclass
class SearchRequest:
    q: str = ""
    forms: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    company: str = ""
    filed_from: datetime.date | None = None
    filed_to: datetime.date | None = None
    range: str = ""
    sic: list[str] = field(default_factory=list)
    state_inc: list[str] = field(default_factory=list)
    state_loc: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    sort: str = ""
    view: str = "filings"
    page: int = 1
    per_page: int = PER_PAGE
    messages: list[str] = field(default_factory=list)

    @property
    def grouped(self) -> bool:
        return self.view == "filings"

    @property
    def has_filters(self) -> bool:
        return bool(
            self.forms or self.categories or self.doc_types or self.company or self.filed_from
            or self.filed_to or self.sic or self.state_inc or self.state_loc or self.items
        )

    def form_set(self) -> list[str]:
        """Every form the form and category filters allow (empty: no restriction)."""
        forms = list(self.forms)
        for slug in self.categories:
            for form in CATEGORY_BY_SLUG[slug].forms:
                forms += [form, f"{form}/A"]
        return list(dict.fromkeys(forms))

    @classmethod
    def from_query(cls, params) -> SearchRequest:
        """Read a QueryDict (or dict of lists); bad values are dropped with a message."""
        req = cls()
        req.q = (params.get("q") or "").strip()
        values = multi_values(params, req.messages)
        req.forms = [f.upper() for f in values["form"]]
        for slug in values["category"]:
            if slug.lower() in CATEGORY_BY_SLUG:
                req.categories.append(slug.lower())
            else:
                req.messages.append(f"Unknown form category {slug!r} was ignored.")
        req.doc_types = [d.upper() for d in values["doc_type"]]
        req.company = (params.get("company") or "").strip()[:SINGLE_VALUED["company"]]
        req.sic = [s for s in values["sic"] if s.isdigit()]
        req.state_inc = [s.upper() for s in values["state_inc"] if s.isalnum()]
        req.state_loc = [s.upper() for s in values["state_loc"] if s.isalnum()]
        req.items = values["item"]
        req.filed_from = req._date(params, "filed_from")
        req.filed_to = req._date(params, "filed_to")
        preset = (params.get("range") or "").strip()
        if preset in RANGES:
            req.range = preset
            delta = RANGES[preset][1]
            if delta is not None and not req.filed_from:
                req.filed_from = timezone.localdate() - delta
        elif preset:
            req.messages.append(f"Unknown date range {preset!r} was ignored.")
        if req.filed_from and req.filed_to and req.filed_from > req.filed_to:
            req.filed_from, req.filed_to = req.filed_to, req.filed_from
            req.messages.append("The dates were swapped: from came after to.")
        sort = params.get("sort") or ""
        req.sort = sort if sort in SORTS else ("relevance" if req.q else "newest")
        view = params.get("view") or "filings"
        req.view = view if view in VIEWS else "filings"
        req.page = _positive_int(params.get("page"), 1)
        req.per_page = min(_positive_int(params.get("per_page"), PER_PAGE), MAX_PER_PAGE)
        return req

    def _date(self, params, name):
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.messages.append(f"{name} must be a date like 2024-12-31; {value!r} was ignored.")
            return None


def _values(params, name) -> list[str]:
    """A filter's values: repeated or comma-separated, deduplicated, each cut to
    MAX_VALUE_CHARS, at most MAX_VALUES. Linear in the parameter's size."""
    raw = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
    if isinstance(raw, str):
        raw = [raw]
    values: dict[str, None] = {}
    for item in raw:
        for value in str(item).split(","):
            value = value.strip()[:MAX_VALUE_CHARS]
            if value:
                values[value] = None
                if len(values) > MAX_VALUES:
                    return list(values)[: MAX_VALUES + 1]
    return list(values)


def multi_values(params, messages: list[str] | None = None) -> dict[str, list[str]]:
    """Every multi-valued filter's values, within MAX_VALUES each and MAX_TOTAL_VALUES in
    all; what is left out is said in `messages`."""
    budget, cut = MAX_TOTAL_VALUES, False
    out = {}
    for name in MULTI_VALUED:
        values = _values(params, name)
        if len(values) > MAX_VALUES:
            values = values[:MAX_VALUES]
            if messages is not None:
                messages.append(f"Only the first {MAX_VALUES} {name} values were used.")
        if len(values) > budget:
            values, cut = values[:budget], True
        budget -= len(values)
        out[name] = values
    if cut and messages is not None:
        messages.append(f"Only the first {MAX_TOTAL_VALUES} filter values were used.")
    return out


def link_params(params) -> QueryDict:
    """The search's parameters as the page's links repeat them: the known ones only, each
    as much of it as `SearchRequest.from_query` reads."""
    out = QueryDict(mutable=True)
    for name, limit in SINGLE_VALUED.items():
        value = (params.get(name) or "").strip()[:limit]
        if value:
            out[name] = value
    for name, values in multi_values(params).items():
        if values:
            out.setlist(name, values)
    return out


def _positive_int(value, default) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if number >= 1 else default
