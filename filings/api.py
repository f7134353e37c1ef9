"""JSON for programs: `GET /api/filings/<accession>`."""
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from filings.models import Filing
from filings.views import canonical_accession


def _date(value):
    return value.isoformat() if value else None


def filing_json(filing: Filing, request) -> dict:
    parties = [
        {
            "role": p.role,
            "cik": p.company.cik,
            "name": p.name,
            "sic": p.sic_code or None,
            "state_of_incorporation": p.state_of_incorporation or None,
            "fiscal_year_end": p.fiscal_year_end or None,
            "irs_number": p.irs_number or None,
            "business_address": p.business_address or None,
            "mail_address": p.mail_address or None,
            "former_names": [
                {"name": f["name"], "changed_on": f.get("changed_on")} for f in p.former_names
            ],
        }
        for p in filing.parties.select_related("company")
    ]
    documents = [
        {
            "sequence": d.sequence,
            "type": d.type,
            "filename": d.filename,
            "description": d.description,
            "kind": d.kind,
            "size": d.size,
            "url": request.build_absolute_uri(d.get_absolute_url()),
            # Item sections (filings.sections): start and end are offsets in the
            # document's plain text.
            "sections": [
                {"item": s["item"], "part": s.get("part") or None, "title": s["title"],
                 "start": s["start"], "end": s["end"],
                 "url": request.build_absolute_uri(d.get_absolute_url())
                 + f"?section={s['anchor']}#{s['anchor']}" if s.get("anchor") else None}
                for s in d.sections or []
            ],
        }
        for d in filing.documents.in_order().defer("content", "text", "html")
    ]
    return {
        "accession_number": filing.accession_number,
        "form_type": filing.form_type,
        "filed_on": _date(filing.filed_on),
        "period_of_report": _date(filing.period_of_report),
        "accepted_at": filing.accepted_at.isoformat() if filing.accepted_at else None,
        "items": filing.items,
        "public_document_count": filing.public_document_count,
        "warnings": filing.warnings,
        "url": request.build_absolute_uri(filing.get_absolute_url()),
        "parties": parties,
        "documents": documents,
    }


@require_GET
def filing_detail(request, accession):
    dashed = canonical_accession(accession)
    filing = Filing.objects.filter(accession_number=dashed).first() if dashed else None
    if filing is None:
        return JsonResponse({"error": f"no filing with accession number {accession}"}, status=404)
    return JsonResponse(filing_json(filing, request))
