"""Filing, document and company pages, the files they offer, and EDGAR-shaped URLs.

Every heavy step (parsing, sanitizing, text, XML tables) happened at ingest: a page reads
stored rows and, for the documents table, leaves the big text columns in the database.
The one piece of work done per request is marking `?q=` hits in a document.
"""
from __future__ import annotations

import mimetypes
import re

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from filings import highlight
from filings.items import titled_items
from filings.models import Company, Document, Filing, FilingParty, Kind

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

_DIGITS = re.compile(r"^\d+$")


def canonical_accession(value: str) -> str | None:
    """The dashed accession number for `value` (dashed or not), or None."""
    digits = value.replace("-", "")
    if len(digits) != 18 or not digits.isdigit():
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
    context = _filing_context(filing, documents)
    context.update(
        primary=primary,
        primary_html=_stored_html(primary) if primary and not primary.is_binary else "",
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
    html = "" if document.is_binary else _stored_html(document)
    q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    hits = 0
    if q and html:
        html, hits = highlight.highlight(html, highlight.pattern_for(q))
    context = _filing_context(filing, documents)
    context.update(
        document=document,
        document_html=html,
        previous=documents[position - 1] if position > 0 else None,
        next=documents[position + 1] if position + 1 < len(documents) else None,
        q=q,
        hits=hits,
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
    document = filing.documents.defer("text", "html").named(filename)
    if document is None or not filename:
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
    filing = _filing_or_404(accession)
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
        },
    )


# --- EDGAR's URLs on our host ---------------------------------------------------------------

_INDEX_FILE = re.compile(
    r"^(?P<acc>\d{10}-?\d{2}-?\d{6})(?:-index\.html?|-index-headers\.html|\.txt|\.hdr\.sgml)$",
    re.I,
)


@require_safe
def edgar_company(request, cik):
    return redirect("filings:company", cik=int(cik), permanent=True)


@require_safe
def edgar_submission(request, cik, accession):
    """`/Archives/edgar/data/<cik>/<accession>.txt` and the filing's folder."""
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
    document = filing.documents.only("sequence", "filing_id").named(filename)
    if document is None:
        raise Http404("No such file in this filing")
    return redirect(
        "filings:document", accession=filing.accession_number, sequence=document.sequence,
        permanent=True,
    )
