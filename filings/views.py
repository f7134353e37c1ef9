"""Filing, document and company pages, the files they offer, and EDGAR-shaped URLs.

Every heavy step (parsing, sanitizing, text, XML tables, page breaks) happened at ingest: a
page reads stored rows and, for the documents table, leaves the big text columns in the
database. A very large document is read and shown a page at a time (`filings.pages`). The
one piece of work done per request is marking `?q=` hits in the page shown.
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.db.models.functions import Substr
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from filings import highlight, pages
from filings.items import titled_items
from filings.models import (
    Company,
    Document,
    Filing,
    FilingParty,
    InsiderTransaction,
    Kind,
    Ticker,
)

COMPANY_PAGE_SIZE = 50
LATEST_ON_HOME = 15
MAX_QUERY_LENGTH = 500

# The documents table needs none of the large columns.
LISTED_FIELDS = ("id", "filing_id", "sequence", "type", "filename", "description", "kind",
                 "size", "file")
# Raster images a browser shows as an image and nothing else; SVG is not one of them.
INLINE_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"}
TEXT_TYPES = {"text/plain", "text/html", "text/xml", "application/xml", "application/json"}
# Files we serve are data, never a page of ours: no script, no plugins, no same-origin.
FILE_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"

_DIGITS = re.compile(r"^[0-9]+$")  # \d and str.isdigit() take any script's digits
# No file name holds these. A NUL would end the name inside SQLite's LIKE (the lookup of
# "a.htm\x00.jpg" finding "a.htm") and is refused by PostgreSQL: such a URL is a 404.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Hit counts of each page of a long document, per query: paging through the hits of one
# search then reads the whole document once, not once per page.
HIT_COUNTS_SECONDS = 3600


def canonical_accession(value: str) -> str | None:
    """The dashed accession number for `value` (dashed or not), or None."""
    digits = value.replace("-", "")
    if len(digits) != 18 or not _DIGITS.match(digits):
        return None
    if "-" in value and value != f"{digits[:10]}-{digits[10:12]}-{digits[12:]}":
        return None
    return f"{digits[:10]}-{digits[10:12]}-{digits[12:]}"


def _canonical_redirect(request, route: str, accession: str, **kwargs):
    """A permanent redirect to the dashed form of the URL, or None when it is canonical;
    Http404 when `accession` cannot be an accession number."""
    dashed = canonical_accession(accession)
    if dashed is None:
        raise Http404("Not an accession number")
    if dashed == accession:
        return None
    url = reverse(route, kwargs={"accession": dashed, **kwargs})
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    return redirect(url, permanent=True)


def _filing_or_404(accession: str) -> Filing:
    return get_object_or_404(Filing, accession_number=accession)


def _listed_documents(filing: Filing) -> list[Document]:
    documents = list(filing.documents.in_order().only(*LISTED_FIELDS))
    for document in documents:
        document.filing = filing  # get_absolute_url() without a query per row
    return documents


def _stored_html(document: Document) -> str:
    return Document.objects.filter(pk=document.pk).values_list("html", flat=True).first() or ""


class StoredHtml:
    """Slices of one document's stored display HTML, read without the rest where the
    database allows. SQLite's SUBSTR() loads the whole value first (200 MB for a page of a
    200 MB document, in the web process), so on SQLite a page is read through its
    incremental blob I/O at the page's byte offsets; elsewhere through SUBSTR()."""

    def __init__(self, document: Document):
        self.document = document
        self._blob = None
        self._tried = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Let go of the blob handle: an UPDATE of the row makes SQLite abort its reads."""
        if self._blob is not None:
            self._blob.close()
        self._blob, self._tried = None, False

    def blob(self):
        """SQLite's handle on the stored HTML's UTF-8 bytes, or None."""
        if not self._tried and connection.vendor == "sqlite":
            self._tried = True
            connection.ensure_connection()
            raw = connection.connection
            try:
                if raw.execute("PRAGMA encoding").fetchone()[0].upper() == "UTF-8":
                    self._blob = raw.blobopen(
                        Document._meta.db_table, "html", self.document.pk, readonly=True
                    )
            except (AttributeError, sqlite3.Error):  # an older SQLite, a vanished row
                self._blob = None
        return self._blob

    def _bytes(self, start: int, end: int | None) -> str:
        blob = self.blob()
        blob.seek(start)
        # Wrong offsets (HTML rewritten without new breaks) show garbage, never a 500.
        return blob.read(-1 if end is None else end - start).decode("utf-8", "replace")

    def _chars(self, start: int, end: int | None) -> str:
        cut = Substr("html", start + 1) if end is None else Substr("html", start + 1,
                                                                   end - start)
        rows = Document.objects.filter(pk=self.document.pk)
        return rows.values_list(cut, flat=True).first() or ""

    def whole(self) -> str:
        if self.blob() is not None:
            return self._bytes(0, None)
        return _stored_html(self.document)

    def whole_if_short(self) -> str | None:
        """The whole HTML when it is short enough to be shown whole, else None."""
        limit = pages.WHOLE_CHARS
        blob = self.blob()
        if blob is not None:
            if len(blob) > 4 * limit:  # more bytes than the most characters could take
                return None
            html = self._bytes(0, None)
        else:
            html = self._chars(0, limit + 1)
        return html if len(html) <= limit else None

    def page(self, breaks: list, number: int) -> str:
        """The raw slice of page `number`."""
        span = pages.byte_bounds(breaks, number)
        if span is not None and self.blob() is not None:
            return self._bytes(*span)
        return self._chars(*pages.bounds(breaks, number))

    def pages(self, breaks: list) -> Iterator[str]:
        """Every page's raw slice, in order, holding one page at a time where it can."""
        numbers = range(1, pages.page_count(breaks) + 1)
        if pages.byte_bounds(breaks, 1) is not None and self.blob() is not None:
            for number in numbers:
                yield self._bytes(*pages.byte_bounds(breaks, number))
            return
        whole = self.whole()
        for number in numbers:
            yield whole[slice(*pages.bounds(breaks, number))]


@dataclass
class DocumentPage:
    """One page of a document's display HTML, with its search hits when searching."""

    html: str
    number: int = 1
    count: int = 1
    hits: int = 0  # marks on this page
    hit_counts: list[int] = field(default_factory=list)  # every page's, when searching

    @property
    def is_paged(self) -> bool:
        return self.count > 1

    @property
    def total_hits(self) -> int:
        return sum(self.hit_counts)

    @property
    def hits_before(self) -> int:
        return sum(self.hit_counts[: self.number - 1])

    @property
    def capped(self) -> bool:
        return any(n >= highlight.MAX_HITS for n in self.hit_counts)

    def page_with_hits(self, step: int) -> int | None:
        """The next (step 1) or previous (step -1) page holding hits, going round the
        document's end; None when no page but this one has any."""
        for i in range(1, self.count):
            number = (self.number - 1 + step * i) % self.count + 1
            if self.hit_counts[number - 1]:
                return number
        return None


def _shows_text(document: Document) -> bool:
    """Textual documents show their display HTML; a PDF shows the text read from it at
    ingest (when any) beside its download; other binaries only the download."""
    return not document.is_binary or document.kind == Kind.PDF


def document_page(document: Document, number: int = 1, pattern=None) -> DocumentPage:
    """Page `number` (kept within the document) of a textual document's display HTML,
    with `pattern`'s hits marked. Reads that page only, or, to count every page's hits
    (once per document and query: they are cached), one page after the other."""
    rows = Document.objects.filter(pk=document.pk)
    breaks = rows.values_list("page_breaks", flat=True).first()
    with StoredHtml(document) as stored:
        if not breaks or not pages.is_valid(breaks):
            short = stored.whole_if_short()
            if short is not None:
                html, hits = highlight.highlight(short, pattern)
                return DocumentPage(html, hits=hits, hit_counts=[hits])
            # Stored before documents had pages: cut it now, once, and keep the cuts.
            breaks = pages.compute_breaks(stored.whole())
            stored.close()
            rows.update(page_breaks=breaks)
        count = pages.page_count(breaks)
        number = min(max(number, 1), count)
        raw, hit_counts = None, []
        if pattern is not None:
            key = _hit_counts_key(document, breaks, pattern)
            hit_counts = cache.get(key)
            if hit_counts is None:
                hit_counts = []
                for n, text in enumerate(stored.pages(breaks), 1):
                    hit_counts.append(highlight.count(text, pattern))
                    if n == number:
                        raw = text
                cache.set(key, hit_counts, HIT_COUNTS_SECONDS)
        if raw is None:
            raw = stored.page(breaks, number)
    html = pages.assemble(raw, breaks, number)
    page = DocumentPage(html, number, count, hit_counts=hit_counts)
    if pattern is not None:
        page.html, page.hits = highlight.highlight(html, pattern, first=page.hits_before + 1)
    return page


def _hit_counts_key(document: Document, breaks: list, pattern) -> str:
    """A cache key that changes with the pattern and with the document's cuts, so that a
    re-ingested document never reuses counts of its former text."""
    digest = hashlib.sha256()
    digest.update(repr([entry[0] for entry in breaks]).encode())
    digest.update(f"{pattern.flags}:{pattern.pattern}".encode())
    return f"filings:hits:{document.pk}:{digest.hexdigest()}"


def edgar_file_url(folder: str, filename: str) -> str:
    """The URL of a filing's file on EDGAR, or "" when `filename` (the filing's own word,
    untrusted) is not one plain file name: a path separator, a dot segment or a control
    character would point the link outside the filing's folder or nowhere."""
    if (not folder or not filename or filename in (".", "..") or "/" in filename
            or "\\" in filename or _CONTROL.search(filename)):
        return ""
    return folder + quote(filename, safe="")


def _page_number(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _page_url(document: Document, number: int, q: str = "", hit: int | None = None) -> str:
    params = {}
    if number > 1:
        params["page"] = number
    if q:
        params["q"] = q
    url = document.get_absolute_url() + (f"?{urlencode(params)}" if params else "")
    return url + (f"#es-hit-{hit}" if hit else "")


def _section_pages(document: Document) -> dict[str, int]:
    """The page of a long document that holds each section's anchor, by anchor."""
    sections = [s for s in document.sections or [] if s.get("anchor")]
    if not sections:
        return {}
    breaks = Document.objects.filter(pk=document.pk).values_list("page_breaks",
                                                                  flat=True).first()
    starts = [b[0] for b in breaks or [] if pages.is_valid(breaks)]
    return {s["anchor"]: 1 + sum(1 for start in starts if start <= s.get("html_offset", -1))
            for s in sections}


def _section_page(document: Document, wanted: str) -> int | None:
    """The page holding a section named by its anchor ("part-ii-item-1") or its item
    ("1a": the first of that item), if the document has one."""
    wanted = wanted.strip()
    anchor = next((s["anchor"] for s in document.sections or []
                   if s.get("anchor") and wanted in (s["anchor"], s["item"].lower(),
                                                     s["item"])), None)
    return _section_pages(document).get(anchor) if anchor else None


def _section_links(document: Document, page: DocumentPage | None, q: str) -> list[dict]:
    """The document's table of contents: each item section found at ingest
    (filings.sections), linked to its heading, on the page that holds it."""
    if page is None:
        return []
    on_page = _section_pages(document) if page.is_paged else {}
    links = []
    for s in document.sections or []:
        if not s.get("anchor"):
            continue
        number = on_page.get(s["anchor"], 1)
        url = "" if number == page.number else _page_url(document, number, q)
        links.append({"item": s["item"], "part": s.get("part", ""), "title": s["title"],
                      "anchor": s["anchor"], "url": f"{url}#{s['anchor']}"})
    return links


def _page_links(document: Document, page: DocumentPage, q: str) -> dict:
    """First, previous, next and last pages of a long document (searches kept)."""
    if not page.is_paged:
        return {}
    n, last = page.number, page.count
    return {
        "first": _page_url(document, 1, q) if n > 1 else "",
        "previous": _page_url(document, n - 1, q) if n > 1 else "",
        "next": _page_url(document, n + 1, q) if n < last else "",
        "last": _page_url(document, last, q) if n < last else "",
    }


def _hit_links(document: Document, page: DocumentPage, q: str) -> dict:
    """The hits before and after this page's, when they are on other pages: the next
    page's first hit and the previous page's last (round the document's ends)."""
    links = {"next": "", "previous": ""}
    following = page.page_with_hits(1)
    if following is not None:
        first = sum(page.hit_counts[: following - 1]) + 1
        links["next"] = _page_url(document, following, q, first)
    preceding = page.page_with_hits(-1)
    if preceding is not None:
        last = sum(page.hit_counts[:preceding])
        links["previous"] = _page_url(document, preceding, q, last)
    return links


def _filing_context(filing: Filing, documents: list[Document]) -> dict:
    parties = list(filing.parties.select_related("company"))
    cik = parties[0].company.cik if parties else None
    return {
        "filing": filing,
        "parties": parties,
        "documents": documents,
        "items": titled_items(filing.items),
        "edgar_cik": cik,
        "edgar_folder": (
            f"https://www.sec.gov/Archives/edgar/data/{cik}/{filing.accession_digits}/"
            if cik else ""
        ),
    }


@require_safe
def home(request):
    latest = Filing.objects.newest_first().with_parties()[:LATEST_ON_HOME]
    span = Filing.objects.date_span()
    figures = {
        "filings": Filing.objects.count(),
        "documents": Document.objects.count(),
        "companies": Company.objects.count(),
        "first": span["first"],
        "last": span["last"],
    }
    return render(request, "filings/home.html", {"latest": latest, "figures": figures})


@require_safe
def filing_detail(request, accession):
    if response := _canonical_redirect(request, "filings:detail", accession):
        return response
    filing = _filing_or_404(accession)
    documents = _listed_documents(filing)
    primary = documents[0] if documents else None
    shown = document_page(primary) if primary and _shows_text(primary) else None
    context = _filing_context(filing, documents)
    context.update(
        primary=primary,
        primary_html=shown.html if shown else "",
        primary_page=shown,
    )
    return render(request, "filings/filing_detail.html", context)


@require_safe
def document_detail(request, accession, sequence):
    if response := _canonical_redirect(request, "filings:document", accession,
                                       sequence=sequence):
        return response
    filing = _filing_or_404(accession)
    documents = _listed_documents(filing)
    position = next((i for i, d in enumerate(documents) if d.sequence == sequence), None)
    if position is None:
        raise Http404("No such document in this filing")
    document = documents[position]
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    pattern = highlight.pattern_for(q) if q else None
    number = _page_number(request.GET.get("page"))
    section = request.GET.get("section", "")[:16]
    if section and "page" not in request.GET:  # a search hit in a section: its page
        number = _section_page(document, section) or number
    page = document_page(document, number, pattern) if _shows_text(document) else None
    context = _filing_context(filing, documents)
    context.update(
        document=document,
        document_html=page.html if page else "",
        page=page,
        page_links=_page_links(document, page, q) if page else {},
        hit_links=_hit_links(document, page, q) if page and pattern else {},
        clear_url=_page_url(document, page.number if page else 1),
        edgar_file_url=edgar_file_url(context["edgar_folder"], document.filename),
        sections=_section_links(document, page, q),
        previous=documents[position - 1] if position > 0 else None,
        next=documents[position + 1] if position + 1 < len(documents) else None,
        q=q,
        hits=page.total_hits if page else 0,
        max_hits=highlight.MAX_HITS,
    )
    return render(request, "filings/document_detail.html", context)


def _ascii_filename(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name.rsplit("/", 1)[-1]).strip("._")
    return safe[:150] or "document"


@require_safe
def attachment(request, accession, filename):
    """A document's bytes. Never a page: filing HTML is downloaded, not rendered, here."""
    if response := _canonical_redirect(request, "filings:attachment", accession,
                                       filename=filename):
        return response
    filing = _filing_or_404(accession)
    if not filename or _CONTROL.search(filename):
        raise Http404("No such file in this filing")
    document = filing.documents.defer("text", "html").named(filename)
    if document is None:
        raise Http404("No such file in this filing")
    guessed, _ = mimetypes.guess_type(document.filename)
    if document.file:
        with document.file.open("rb") as fh:
            data = fh.read()
        content_type = guessed or "application/octet-stream"
    else:
        data = document.content.encode("utf-8")
        base = guessed if guessed in TEXT_TYPES else "text/plain"
        content_type = f"{base}; charset=utf-8"
    inline = content_type in INLINE_IMAGE_TYPES and Kind(document.kind) == Kind.IMAGE
    response = HttpResponse(data, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{_ascii_filename(filename)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def original(request, accession):
    """The submission as ingested, as plain text."""
    dashed = canonical_accession(accession)
    if dashed is None:
        raise Http404("Not an accession number")
    if dashed != accession:
        return redirect("filings:original", accession=dashed, permanent=True)
    return _original_response(_filing_or_404(accession))


def _original_response(filing: Filing) -> HttpResponse:
    """The stored submission, as plain text (never rendered: nosniff, a sandbox CSP)."""
    accession = filing.accession_number
    if not filing.original:
        raise Http404("No stored original for this filing")
    data = filing.read_original()
    try:
        data.decode("utf-8")
        charset = "utf-8"
    except UnicodeDecodeError:
        charset = "windows-1252"  # what 1990s filings are, when they are not ASCII
    response = HttpResponse(data, content_type=f"text/plain; charset={charset}")
    response["Content-Disposition"] = f'inline; filename="{accession}.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def _company_or_redirect(request, cik: str, route: str):
    if not _DIGITS.match(cik) or int(cik) == 0:
        raise Http404("Not a CIK")
    if cik != str(int(cik)):
        url = reverse(route, kwargs={"cik": int(cik)})
        if request.META.get("QUERY_STRING"):
            url += "?" + request.META["QUERY_STRING"]
        return None, redirect(url, permanent=True)
    return get_object_or_404(Company, cik=int(cik)), None


@require_safe
def company_detail(request, cik):
    company, response = _company_or_redirect(request, cik, "filings:company")
    if response:
        return response
    filings = Filing.objects.of_company(company)
    forms = filings.form_counts()
    form = request.GET.get("form", "").strip()
    if form:
        filings = filings.of_form(form)
    filings = filings.newest_first().prefetch_related(
        Prefetch("parties", queryset=FilingParty.objects.filter(company=company), to_attr="roles"),
    )
    page = Paginator(filings, COMPANY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "filings/company_detail.html",
        {
            "company": company,
            "former_names": company.former_names.all(),
            "forms": list(forms),
            "form": form,
            "page": page,
            "edgar_url": "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany"
            f"&CIK={company.padded_cik}",
            "tickers": list(Ticker.objects.filter(cik=company.cik)),
            "insiders": {
                "issuer": InsiderTransaction.objects.of_issuer(company.cik).count(),
                "owner": InsiderTransaction.objects.of_owner(company.cik).count(),
            },
        },
    )


# --- EDGAR's URLs on our host ---------------------------------------------------------------

_INDEX_FILE = re.compile(
    r"^(?P<acc>[0-9]{10}-?[0-9]{2}-?[0-9]{6})(?:-index\.html?|-index-headers\.html|\.txt|\.hdr\.sgml)$",
    re.I,
)


@require_safe
def edgar_company(request, cik):
    return redirect("filings:company", cik=int(cik), permanent=True)


@require_safe
def edgar_original(request, cik, accession):
    """`/Archives/edgar/data/<cik>/<accession>.txt`: the whole submission as stored, as
    plain text, as EDGAR serves it; a 404 when that CIK is not a party of the filing."""
    dashed = canonical_accession(accession)
    if dashed is None or not _DIGITS.match(cik) or len(cik) > 10 or int(cik) == 0:
        raise Http404("Not an accession number and CIK")
    filing = _filing_or_404(dashed)
    if not filing.parties.filter(company__cik=int(cik)).exists():
        raise Http404("That company is not a party of this filing")
    return _original_response(filing)


@require_safe
def edgar_submission(request, cik, accession):
    """`/Archives/edgar/data/<cik>/<accession-digits>/`: the filing's folder."""
    dashed = canonical_accession(accession)
    if dashed is None:
        raise Http404("Not an accession number")
    filing = _filing_or_404(dashed)
    return redirect(filing, permanent=True)


@require_safe
def edgar_file(request, cik, folder, filename):
    """`/Archives/edgar/data/<cik>/<accession-digits>/<file>`: its index pages and full
    text go to the filing page, a document's file to its document page."""
    filing = _filing_or_404(canonical_accession(folder) or "")
    index = _INDEX_FILE.match(filename)
    if index and canonical_accession(index["acc"]) == filing.accession_number:
        return redirect(filing, permanent=True)
    if _CONTROL.search(filename):
        raise Http404("No such file in this filing")
    document = filing.documents.only("sequence", "filing_id").named(filename)
    if document is None:
        raise Http404("No such file in this filing")
    return redirect(
        "filings:document", accession=filing.accession_number, sequence=document.sequence,
        permanent=True,
    )
