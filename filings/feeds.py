"""A company's filings as an Atom feed, newest first."""
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed

from filings.items import titled_items
from filings.models import Company, Filing

FEED_SIZE = 40


class CompanyFilingsFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, cik):
        if not cik.isdigit() or int(cik) == 0:
            raise Http404("Not a CIK")
        return get_object_or_404(Company, cik=int(cik))

    def title(self, company):
        return f"{company.name}: EDGAR filings"

    def link(self, company):
        return company.get_absolute_url()

    def subtitle(self, company):
        return f"Filings of {company.name} (CIK {company.cik}), newest first."

    def items(self, company):
        return Filing.objects.of_company(company).newest_first()[:FEED_SIZE]

    def item_title(self, filing):
        filed = filing.filed_on.isoformat() if filing.filed_on else "date unknown"
        return f"{filing.form_type or 'Filing'} filed {filed} ({filing.accession_number})"

    def item_description(self, filing):
        lines = [f"Item {n}: {t}" if t else f"Item {n}" for n, t in titled_items(filing.items)]
        if filing.period_of_report:
            lines.insert(0, f"Period of report: {filing.period_of_report.isoformat()}")
        return "\n".join(lines) or f"{filing.form_type} {filing.accession_number}"

    def item_pubdate(self, filing):
        return filing.accepted_at

    def item_updateddate(self, filing):
        return filing.updated_at

    def item_guid(self, filing):
        return f"urn:sec:accession:{filing.accession_number}"

    item_guid_is_permalink = False
