"""Root URL configuration: the apps own their routes."""
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView


class FaviconRedirect(RedirectView):
    """Pages link their icon; a browser showing a text or JSON response asks for
    /favicon.ico instead (the static URL is resolved per request: its name carries the
    file's hash once collected)."""

    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.png")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("", include("search.urls")),
    path("", include("filings.urls")),
]
