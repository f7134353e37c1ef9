"""Page furniture every page shares, and the filing page's long party lists, as rendered
(Chromium checks the same at phone and laptop widths: tests/browser/test_layout.py)."""
import re

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders

from tests.conftest import corpus_file

pytestmark = pytest.mark.django_db

FORM4 = "0000842517-24-000086"  # two parties
MANY_PARTIES = "0001193125-25-120935"  # a 40-APP naming 399 parties (corpus only)


def icons(html):
    return re.findall(r'<link rel="icon" href="([^"]+)" type="(image/[a-z+]+)"', html)


def test_every_kind_of_page_links_an_icon_that_exists(client, ingest_paths):
    ingest_paths(corpus_file(f"{FORM4}.txt"))
    User.objects.create_superuser("editor", "editor@example.com", "pw-for-tests-only")
    pages = ["/", "/search/", "/search/?q=form", "/search/help/", "/companies/?q=a",
             f"/filings/{FORM4}/", f"/filings/{FORM4}/1/", "/companies/1849440/",
             "/filings/0000000000-00-000000/"]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        found = icons(response.content.decode())
        assert [t for _, t in found] == ["image/svg+xml", "image/png"], path
        for href, _ in found:
            assert href.startswith("/static/img/favicon.")
            assert finders.find(href.removeprefix("/static/")), href
    client.force_login(User.objects.get())
    for path in ["/admin/", "/admin/filings/filing/upload/"]:
        found = icons(client.get(path).content.decode())
        assert [t for _, t in found] == ["image/svg+xml", "image/png"], path


def test_favicon_ico_redirects_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.png"
    assert finders.find("img/favicon.png")


def test_a_few_parties_are_all_shown(client, ingest_paths):
    ingest_paths(corpus_file(f"{FORM4}.txt"))
    html = client.get(f"/filings/{FORM4}/").content.decode()
    assert html.count('<section class="party card"') == 2
    assert "Show all" not in html and "<details" not in html


def test_a_long_party_list_shows_three_then_show_all(client, ingest_paths):
    ingest_paths(corpus_file(f"{MANY_PARTIES}.txt"))
    html = client.get(f"/filings/{MANY_PARTIES}/").content.decode()
    assert html.count('<section class="party card"') == 399
    before, details = html.split("<details class=\"parties-more\"", 1)
    assert before.count('<section class="party card"') == 3
    assert details.count('<section class="party card"') == 396
    assert re.search(r"Show all 399 parties <span class=\"muted\">\(396 more\)</span>", details)
