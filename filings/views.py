"""Filing, document and company pages."""
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from filings.models import Company, Filing


def home(request):
    return render(request, "filings/home.html", {"latest": Filing.objects.newest_first()[:20]})


def filing_detail(request, accession):
    filing = get_object_or_404(Filing, accession_number=accession)
    return render(request, "filings/filing_detail.html", {"filing": filing})


def document_detail(request, accession, sequence):
    filing = get_object_or_404(Filing, accession_number=accession)
    document = get_object_or_404(filing.documents, sequence=sequence)
    return render(
        request, "filings/document_detail.html", {"filing": filing, "document": document}
    )


def attachment(request, accession, filename):
    raise Http404


def original(request, accession):
    filing = get_object_or_404(Filing, accession_number=accession)
    if not filing.original:
        raise Http404
    import gzip

    with filing.original.open("rb") as fh:
        data = gzip.decompress(fh.read())
    return HttpResponse(data, content_type="text/plain; charset=utf-8")


def company_detail(request, cik):
    company = get_object_or_404(Company, cik=int(cik) if cik.isdigit() else -1)
    return render(request, "filings/company_detail.html", {"company": company})
