from django.urls import path

from search import download, saved, views

app_name = "search"
urlpatterns = [
    path("search/", views.results, name="results"),
    path("search/help/", views.help_page, name="help"),
    path("search.csv", views.export_csv, name="csv"),
    path("search.zip", download.export_zip, name="zip"),
    path("search/feed/", views.feed, name="feed"),
    path("api/search", views.api_search, name="api"),
    path("api/companies", views.api_companies, name="api-companies"),
    path("opensearch.xml", views.opensearch, name="opensearch"),
    path("companies/", views.companies, name="companies"),
    path("searches/", saved.saved_list, name="saved"),
    path("searches/save/", saved.save, name="save"),
    path("searches/<int:pk>/", saved.edit, name="saved-edit"),
    path("searches/<int:pk>/delete/", saved.delete, name="saved-delete"),
    path("searches/<int:pk>/new/", saved.new_matches, name="saved-new"),
    # A token is secrets.token_urlsafe: a slug (a NUL would reach PostgreSQL and fail).
    path("searches/feed/<slug:token>/", saved.feed, name="saved-feed"),
]
