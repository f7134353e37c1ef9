"""Search filters: the query-string parameters, EDGAR's form categories, date presets.

Every filter is a plain query-string parameter, so a search is its URL:

    q          the query (search.query)
    form       form types, repeated or comma-separated: form=10-K&form=8-K
    category   EDGAR form categories (CATEGORIES below); amendments (/A) included;
               not-section16 is every form but Section 16 reports
    doc_type   document types by prefix: EX-10 matches EX-10, EX-10.1, EX-10.2
    company    a company name (current or former) or CIK, any party of the filing
    file_number   SEC file numbers (001-04482): the filings under them
    cik, year  CIKs and years (what the company and year facets pick)
    filed_from, filed_to   ISO dates; range=30d|1y|5y|10y|all presets (back from today)
    ingested_after, ingested_to   when the filing was stored here (ISO date and time, UTC
               unless it says; after is exclusive, to inclusive): what saved searches
               count as new
    sic, state_inc, state_loc, item        SIC code, states (EDGAR code or name:
               filings.locations), 8-K item numbers

Several values of one filter are alternatives (OR); different filters all apply (AND).
    sort       relevance (default with words), newest (default without), oldest,
               ingested (recently ingested first)
    view       filings (default: results grouped by filing) or documents
    page       1-based

Every parameter is bounded where it is read, and links (filters, facets, pages, sorts)
repeat only what was read: `link_params()`. A URL repeating `form=` a thousand times
costs what fifty do.
"""
from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field

from django.http import QueryDict
from django.utils import timezone

from filings import locations
from search.index import ingested_value


@dataclass(frozen=True)
class Category:
    slug: str
    label: str
    forms: tuple[str, ...]
    exclude: bool = False  # the category is every form but these


def _cat(slug, label, forms, exclude=False):
    """Forms are comma-separated: several of EDGAR's form names hold spaces."""
    return Category(slug, label, tuple(f.strip() for f in forms.split(",") if f.strip()),
                    exclude)


_SECTION16 = "3, 4, 5"
_PERIODIC_ANNUAL = ("10-K, 10-K405, 10-KSB, 10-KSB40, 10-KT, 10-KT405, 20-F, 40-F, 11-K, "
                    "11-KT, N-CSR, N-CSRS, 1-K, 18-K, ANNLRPT, ARS")
_PERIODIC_QUARTERLY = "10-Q, 10-QSB, 10-QT, N-Q, NPORT-P, NPORT-EX, 1-SA, QRTLYRPT"
_PERIODIC_CURRENT = "8-K, 8-K12B, 8-K12G3, 8-K15D5, 6-K, 1-U, 1-Z, 1-Z-W"

# EDGAR full-text search's form categories, each with the forms it gathers (amendments,
# `/A`, included), then this site's finer annual/quarterly/current split. The slugs of
# the first version (annual, quarterly, current, section16, ownership, registration,
# proxy, tender, correspondence) are kept: they are in bookmarked searches.
CATEGORIES = [
    _cat("not-section16",
         "Exclude insider equity awards, transactions, and ownership (Section 16 Reports)",
         _SECTION16, exclude=True),
    _cat("periodic", "All annual, quarterly, and current reports",
         ", ".join([_PERIODIC_ANNUAL, _PERIODIC_QUARTERLY, _PERIODIC_CURRENT,
                    "10-D, 13F-HR, 13F-NT, 15-12B, 15-12G, 15-15D, 15F-12B, 15F-12G, "
                    "15F-15D, 24F-2NT, 25, 25-NSE, 40-17F2, 40-17G, ABS-15G, ABS-EE, "
                    "DSTRBRPT, IRANNOTICE, N-30B-2, N-30D, N-CEN, N-MFP, N-MFP1, N-MFP2, "
                    "N-MFP3, N-PX, NSAR-A, NSAR-B, NSAR-U, NT 10-D, NT 10-K, NT 10-Q, "
                    "NT 11-K, NT 20-F, NT N-CEN, NT NCSR, SD, SP 15D2"])),
    _cat("section16", "Insider equity awards, transactions, and ownership (Section 16 Reports)",
         _SECTION16),
    _cat("ownership", "Beneficial ownership reports",
         "SC 13D, SC 13G, SCHEDULE 13D, SCHEDULE 13G, 13F-HR, 13F-NT, 13H"),
    _cat("exempt", "Exempt offerings",
         "D, 1-A, 1-A POS, 1-A-W, 253G1, 253G2, 253G3, 253G4, DOS, C, C-U, C-AR, C-TR, "
         "C-W, 1-K, 1-SA, 1-U, 1-Z, 1-Z-W, 24F-2NT"),
    _cat("registration", "Registration statements and prospectuses",
         "S-1, S-1MEF, S-3, S-3ASR, S-3D, S-3DPOS, S-3MEF, S-4, S-4 POS, S-4EF, S-4MEF, S-6, "
         "S-8, S-8 POS, S-11, S-11MEF, S-20, S-B, S-BMEF, SF-1, SF-3, F-1, F-1MEF, F-3, "
         "F-3ASR, F-3D, F-3DPOS, F-3MEF, F-4, F-4 POS, F-4MEF, F-6, F-6 POS, F-6EF, F-7, "
         "F-7 POS, F-8, F-8 POS, F-9, F-9 POS, F-10, F-10EF, F-10POS, F-80, F-80POS, F-N, "
         "F-X, POS AM, POS EX, POS462B, POS462C, POSASR, 424A, 424B1, 424B2, 424B3, 424B4, "
         "424B5, 424B7, 424B8, 424H, 425, 485APOS, 485BPOS, 485BXT, 487, 497, 497AD, 497J, "
         "497K, 10-12B, 10-12G, 18-12B, 20FR12B, 20FR12G, 40FR12B, 40FR12G, 8-A12B, 8-A12G, "
         "N-1A, N-2, N-2ASR, N-14, DRS, FWP, RW, RW WD, AW, AW WD, DEL AM, SUPPL, UNDER"),
    _cat("correspondence", "Filing review correspondence",
         "CORRESP, UPLOAD, LETTER, DOSLTR, DRSLTR"),
    _cat("orders", "SEC orders and notices",
         "EFFECT, ORDER, 40-APP, 40-OIP, APP NTC, APP ORDR, APP WD, APP WDG, NO ACT, "
         "N-54A, N-54C, N-6F, N-8A, N-8F, 34-12H, 33-12H"),
    _cat("proxy", "Proxy materials",
         "DEF 14A, DEF 14C, DEFA14A, DEFA14C, DEFC14A, DEFC14C, DEFM14A, DEFM14C, DEFN14A, "
         "DEFR14A, DEFR14C, DFAN14A, DFRN14A, PRE 14A, PRE 14C, PREC14A, PREC14C, PREM14A, "
         "PREM14C, PREN14A, PRER14A, PRER14C, PRRN14A, PX14A6G, PX14A6N, SC 14N, ARS"),
    _cat("tender", "Tender offers and going private transactions",
         "SC TO-T, SC TO-I, SC TO-C, SC 14D9, SC 14D1, SC 13E3, SC 13E4, SC 13E1, SC 14F1, "
         "SC14D1F, SC14D9C, SC14D9F, SC13E4F, CB"),
    _cat("trust", "Trust indentures", "T-3, T-6, 305B2"),
    _cat("annual", "Annual reports", _PERIODIC_ANNUAL),
    _cat("quarterly", "Quarterly reports", _PERIODIC_QUARTERLY),
    _cat("current", "Current reports", _PERIODIC_CURRENT),
]
CATEGORY_BY_SLUG = {c.slug: c for c in CATEGORIES}

# Date presets, relative to today: (label, days or years back; None is every date).
RANGES = {
    "30d": ("Last 30 days", ("days", 30)),
    "1y": ("Last year", ("years", 1)),
    "5y": ("Last 5 years", ("years", 5)),
    "10y": ("Last 10 years", ("years", 10)),
    "all": ("All dates", None),
}
SORTS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first",
         "ingested": "Recently ingested"}
VIEWS = {"filings": "Filings", "documents": "Documents"}
PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_VALUES = 50  # values per multi-valued filter
MAX_TOTAL_VALUES = 100  # values of all the multi-valued filters together
MAX_VALUE_CHARS = 64
# The multi-valued filters, in the order the overall cap takes their values. `cik` and
# `year` are what the company and year facets select (several at once: OR).
# Each maps to the SearchRequest attribute holding its values (from_query and without()).
ATTRIBUTES = {"form": "forms", "category": "categories", "doc_type": "doc_types",
              "cik": "ciks", "year": "years", "sic": "sic", "state_inc": "state_inc",
              "file_number": "file_numbers",
              "state_loc": "state_loc", "item": "items", "section": "sections"}
MULTI_VALUED = tuple(ATTRIBUTES)
# The single-valued parameters links repeat, and how much of each (the query is cut
# where the query language cuts it).
SINGLE_VALUED = {"q": 1000, "company": 200, "filed_from": 32, "filed_to": 32, "range": 16,
                 "ingested_after": 40, "ingested_to": 40,
                 "sort": 16, "view": 16, "page": 12, "per_page": 12}
# What each filter is called on the page: messages and chips use these, never the
# parameter names.
FILTER_LABELS = {
    "form": "Form type", "category": "Form category", "doc_type": "Document type",
    "company": "Company", "cik": "Company", "year": "Year filed", "sic": "SIC code",
    "state_inc": "Incorporated in", "state_loc": "Located in", "item": "8-K item",
    "file_number": "File number",
    "section": "Section",
    "filed_from": "Filed from", "filed_to": "Filed to", "range": "Filed",
    "ingested_after": "Ingested after", "ingested_to": "Ingested up to",
}


def years_ago(today: datetime.date, years: int) -> datetime.date:
    """The same day `years` years before (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def range_start(preset: str, today: datetime.date) -> datetime.date | None:
    spec = RANGES[preset][1]
    if spec is None:
        return None
    unit, amount = spec
    if unit == "days":
        return today - datetime.timedelta(days=amount)
    return years_ago(today, amount)


@dataclass
class SearchRequest:
    q: str = ""
    forms: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    company: str = ""
    ciks: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    filed_from: datetime.date | None = None
    filed_to: datetime.date | None = None
    range: str = ""
    sic: list[str] = field(default_factory=list)
    state_inc: list[str] = field(default_factory=list)
    state_loc: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    file_numbers: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # items of sections: "1a", "7"
    # Ingest-time bounds as the index holds them (search.index.ingested_value), or "".
    ingested_after: str = ""
    ingested_to: str = ""
    sort: str = ""
    view: str = "filings"
    page: int = 1
    per_page: int = PER_PAGE
    messages: list[str] = field(default_factory=list)
    # The values each filter took, by parameter, as the page shows them: (value as
    # read, value in force). What was ignored is not here.
    applied: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def grouped(self) -> bool:
        return self.view == "filings"

    @property
    def has_filters(self) -> bool:
        return bool(
            self.file_numbers
            or self.forms or self.categories or self.doc_types or self.company or self.ciks
            or self.years or self.filed_from or self.filed_to or self.sic or self.state_inc
            or self.state_loc or self.items or self.ingested_after or self.ingested_to
            or self.sections
        )

    def form_set(self) -> list[str]:
        """Every form the form and category filters allow (empty: no restriction)."""
        allowed, _excluded = self.form_filter()
        return allowed or []

    def form_filter(self) -> tuple[list[str] | None, list[str]]:
        """(the forms allowed, None for any; the forms excluded), amendments included.
        A form both allowed and excluded is excluded."""
        included = [c for c in self.categories if not CATEGORY_BY_SLUG[c].exclude]
        excluded_slugs = [c for c in self.categories if CATEGORY_BY_SLUG[c].exclude]
        allowed = None
        if self.forms or included:
            allowed = list(self.forms)
            for slug in included:
                for form in CATEGORY_BY_SLUG[slug].forms:
                    allowed += [form, f"{form}/A"]
            allowed = list(dict.fromkeys(allowed))
        excluded = []
        for slug in excluded_slugs:
            for form in CATEGORY_BY_SLUG[slug].forms:
                excluded += [form, f"{form}/A"]
        excluded = list(dict.fromkeys(excluded))
        if allowed is not None and excluded:
            gone = set(excluded)
            allowed = [f for f in allowed if f not in gone]
        return allowed, excluded

    def without(self, name: str) -> SearchRequest:
        """A copy with one multi-valued filter (a parameter name) cleared: what a facet
        of that filter counts over, so that its other values can be added (OR)."""
        attribute = ATTRIBUTES[name]
        copy = dataclasses.replace(self, messages=[], applied={})
        assert hasattr(copy, attribute), attribute
        setattr(copy, attribute, [])
        return copy

    @classmethod
    def from_query(cls, params) -> SearchRequest:
        """Read a QueryDict (or dict of lists); bad values are dropped with a message."""
        req = cls()
        req.q = (params.get("q") or "").strip()
        values = multi_values(params, req.messages)
        for name, raw in values.items():
            kept = []
            for value in raw:
                normal = normalize(name, value)
                if normal is None:
                    req.messages.append(_ignored(name, value))
                    continue
                kept.append((value, normal))
            req.applied[name] = kept
        for name, pairs in req.applied.items():
            setattr(req, ATTRIBUTES[name], list(dict.fromkeys(n for _, n in pairs)))
        req.company = (params.get("company") or "").strip()[:SINGLE_VALUED["company"]]
        if req.company:
            req.applied["company"] = [(req.company, req.company)]
        req.filed_from = req._date(params, "filed_from")
        req.filed_to = req._date(params, "filed_to")
        preset = (params.get("range") or "").strip()
        if preset in RANGES:
            req.range = preset
            start = range_start(preset, timezone.localdate())
            if start is not None and not req.filed_from:
                req.filed_from = start
                req.applied["range"] = [(preset, preset)]
        elif preset:
            req.messages.append(f"Unknown date range {preset[:16]!r} was ignored.")
        if req.filed_from and req.filed_to and req.filed_from > req.filed_to:
            req.filed_from, req.filed_to = req.filed_to, req.filed_from
            req.messages.append("The dates were swapped: “Filed from” came after “Filed to”.")
        for name in ("filed_from", "filed_to"):
            value = getattr(req, name)
            if value and not (name == "filed_from" and "range" in req.applied):
                req.applied[name] = [(value.isoformat(), value.isoformat())]
        for name in ("ingested_after", "ingested_to"):
            value = req._moment(params, name)
            if value:
                setattr(req, name, value)
                req.applied[name] = [(value, value)]
        sort = params.get("sort") or ""
        req.sort = sort if sort in SORTS else ("relevance" if req.q else "newest")
        view = params.get("view") or "filings"
        req.view = view if view in VIEWS else "filings"
        req.page = _positive_int(params.get("page"), 1)
        req.per_page = min(_positive_int(params.get("per_page"), PER_PAGE), MAX_PER_PAGE)
        return req

    def _moment(self, params, name) -> str:
        """An ingest-time bound: an ISO date and time (UTC unless an offset is given;
        a date alone is its midnight), as the index holds it; "" when absent or bad."""
        value = (params.get(name) or "").strip()[:SINGLE_VALUED[name]]
        if not value:
            return ""
        try:
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
            return ingested_value(moment)
        except (ValueError, OverflowError):  # not a date; or out of range once in UTC
            self.messages.append(f"“{FILTER_LABELS[name]}” must be a date and time like "
                                 f"2024-12-31T09:30:00Z; {value!r} was ignored.")
            return ""

    def _date(self, params, name):
        value = (params.get(name) or "").strip()
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.messages.append(f"“{FILTER_LABELS[name]}” must be a date like 2024-12-31; "
                                 f"{value[:32]!r} was ignored.")
            return None


def normalize(name: str, value: str) -> str | None:
    """A multi-valued filter's value as the engines take it, or None when it is not one
    (then the filter ignores it, with a message)."""
    value = value.strip()
    if name in ("form", "doc_type"):
        return value.upper() or None
    if name == "category":
        return value.lower() if value.lower() in CATEGORY_BY_SLUG else None
    if name == "cik":
        return str(int(value)) if value.isascii() and value.isdigit() and len(value) <= 18 \
            and int(value) else None
    if name == "year":
        return value if value.isascii() and value.isdigit() and len(value) == 4 else None
    if name == "sic":
        return value if value.isascii() and value.isdigit() else None
    if name in ("state_inc", "state_loc"):
        code = locations.code_for(value)
        if code is None and value.isascii() and value.isalnum() and len(value) <= 2:
            # A code EDGAR's list lacks, as some filings' headers hold: taken as written,
            # so that a facet of such a value selects what it counts.
            code = value.upper()
        return code
    if name == "item":
        return value if _ITEM.fullmatch(value) else None
    if name == "file_number":  # 001-04482, 333-249374, 028-10118
        return value.upper() if _FILE_NUMBER.fullmatch(value) else None
    if name == "section":  # as the index holds it: "1a", "7", "2.02"
        item = _SECTION.fullmatch(value.upper())
        return (item[1].lstrip("0") or "0") + item[2].lower() if item else None
    return value


_ITEM = re.compile(r"\d{1,2}(?:\.\d{1,2})?")
_FILE_NUMBER = re.compile(r"[0-9A-Za-z]{1,10}(?:-[0-9A-Za-z]{1,12}){0,3}")
_SECTION = re.compile(r"(?:ITEM\s*)?(\d{1,2}(?:\.\d{2})?)([A-C]?)")


def _ignored(name: str, value: str) -> str:
    label = FILTER_LABELS[name]
    shown = value[:MAX_VALUE_CHARS]
    if name == "category":
        return f"Unknown form category {shown!r} was ignored."
    if name in ("state_inc", "state_loc"):
        return (f"“{label}”: {shown!r} is not a state or country EDGAR knows "
                f"(a name such as Delaware or a code such as DE); it was ignored.")
    if name in ("cik", "sic", "year"):
        return f"“{label}” takes a number; {shown!r} was ignored."
    return f"“{label}”: {shown!r} was ignored."


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
                messages.append(
                    f"Only the first {MAX_VALUES} values of “{FILTER_LABELS[name]}” were used.")
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
