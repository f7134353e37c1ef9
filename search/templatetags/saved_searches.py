"""Template tags of saved searches: the sign-in link's way back and the search a results
page offers to save, both only the search's own parameters, bounded (never a stray or
overlong query string repeated into the page)."""
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from search.filters import link_params
from search.models import saved_query

register = template.Library()


@register.simple_tag(takes_context=True)
def sign_in_url(context) -> str:
    """The sign-in page, coming back to this page (with its search parameters)."""
    request = context["request"]
    url = reverse("login")
    if request.path == url:
        return url
    params = link_params(request.GET).urlencode()
    return f"{url}?{urlencode({'next': request.path + (f'?{params}' if params else '')})}"


@register.simple_tag(takes_context=True)
def search_to_save(context) -> str:
    """This results page's search as a saved search keeps it."""
    return saved_query(context["request"].GET)
