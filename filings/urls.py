from django.urls import path, re_path

from filings import api, feeds, insiders, views

app_name = "filings"
urlpatterns = [
    path("", views.home, name="home"),
    path("api/filings/<str:accession>", api.filing_detail, name="api-detail"),
    re_path(r"^filings/(?P<accession>[0-9-]+)\.txt$", views.original, name="original"),
    path("filings/<str:accession>/", views.filing_detail, name="detail"),
    path("filings/<str:accession>/<int:sequence>/", views.document_detail, name="document"),
    path("filings/<str:accession>/files/<path:filename>", views.attachment, name="attachment"),
    path("companies/<str:cik>/", views.company_detail, name="company"),
    path("companies/<str:cik>/feed/", feeds.CompanyFilingsFeed(), name="company-feed"),
    path("companies/<str:cik>/insiders/", insiders.issuer_transactions, name="insiders"),
    path("companies/<str:cik>/insiders/as-owner/", insiders.owner_transactions,
         name="insiders-owner"),
    # EDGAR's own paths: swap sec.gov for this host in any EDGAR link.
    re_path(r"^Archives/edgar/data/(?P<cik>[0-9]+)/?$", views.edgar_company, name="edgar-company"),
    re_path(
        r"^Archives/edgar/data/(?P<cik>[0-9]+)/(?P<accession>[0-9]{10}-[0-9]{2}-[0-9]{6})\.txt$",
        views.edgar_original,
        name="edgar-submission",
    ),
    re_path(
        r"^Archives/edgar/data/(?P<cik>[0-9]+)/(?P<accession>[0-9]{18})/?$",
        views.edgar_submission,
        name="edgar-folder",
    ),
    re_path(
        r"^Archives/edgar/data/(?P<cik>[0-9]+)/(?P<folder>[0-9]{18})/(?P<filename>[^/]+)$",
        views.edgar_file,
        name="edgar-file",
    ),
]
