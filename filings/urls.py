from django.urls import path, re_path

from filings import api, views

app_name = "filings"
urlpatterns = [
    path("", views.home, name="home"),
    path("api/filings/<str:accession>", api.filing_detail, name="api-detail"),
    re_path(r"^filings/(?P<accession>[0-9-]+)\.txt$", views.original, name="original"),
    path("filings/<str:accession>/", views.filing_detail, name="detail"),
    path("filings/<str:accession>/<int:sequence>/", views.document_detail, name="document"),
    path("filings/<str:accession>/files/<path:filename>", views.attachment, name="attachment"),
    path("companies/<str:cik>/", views.company_detail, name="company"),
]
