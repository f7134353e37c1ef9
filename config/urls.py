"""Root URL configuration: the apps own their routes."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
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
    # Sign in and out for saved searches (accounts are made by staff in the admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("", include("search.urls")),
    path("", include("filings.urls")),
]
