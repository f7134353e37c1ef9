"""A hostile submission, ingested through the real pipeline: nothing executable,
page-covering or off-site reaches the pages, and every response carries the CSP."""
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from filings.models import Filing

pytestmark = pytest.mark.django_db

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "hostile-submission.txt"
ACCESSION = "9999999999-26-000001"


@pytest.fixture
def hostile(ingest_paths):
    if not HOSTILE.exists():
        pytest.skip("tests/fixtures/hostile/hostile-submission.txt is absent")
    summary = ingest_paths(HOSTILE)
    assert summary.failed == 0, [str(o) for o in summary.outcomes]
    return Filing.objects.get(accession_number=ACCESSION)


def filing_content(html: str) -> str:
    """The serialized filing container of a page (the only place filing markup goes)."""
    root = lxml_html.document_fromstring(html)
    containers = root.xpath("//*[@data-es-document]")
    assert len(containers) == 1
    return lxml_html.tostring(containers[0], encoding="unicode")


def pages(filing):
    return [
        filing.get_absolute_url(),
        f"/filings/{ACCESSION}/1/",
        f"/filings/{ACCESSION}/1/?q=EBITDA",
        f"/filings/{ACCESSION}/1/?q=script+alert+onerror",
    ]


FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "object", "embed", "applet", "base", "meta", "link", "form",
    "input", "button", "textarea", "select", "svg", "math", "style", "template", "noscript",
    "details", "marquee",
}
FORBIDDEN_IN_STYLE = ("url(", "expression", "behavior", "binding", "position", "@import", "\\")


def test_nothing_executable_reaches_the_page(client, hostile):
    for url in pages(hostile):
        response = client.get(url)
        assert response.status_code == 200, url
        content = filing_content(response.content.decode())
        root = lxml_html.fragment_fromstring(content)
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            assert el.tag.lower() not in FORBIDDEN_TAGS, (url, el.tag)
            assert ":" not in el.tag, (url, el.tag)
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (url, name, value)
                compact = re.sub(r"\s+", "", value).lower()
                assert not compact.startswith(("javascript:", "vbscript:", "data:")), (url, value)
                if name in ("href", "src"):
                    assert not compact.startswith("//"), (url, value)
                if name == "src":
                    assert value.startswith(f"/filings/{ACCESSION}/files/"), (url, value)
                if name == "style":
                    for needle in FORBIDDEN_IN_STYLE:
                        assert needle not in compact, (url, needle, value)
        # The raw text of the container, too: no tag that escaped the parse above.
        assert "<script" not in content.lower()
        assert "HIDDEN-HEADER-FACT" not in content


def test_page_loads_nothing_from_other_sites(client, hostile):
    for url in pages(hostile):
        root = lxml_html.document_fromstring(client.get(url).content.decode())
        loaded = (
            root.xpath("//script/@src | //img/@src | //link/@href | //iframe/@src")
            + root.xpath("//*[@srcset]/@srcset | //*[@background]/@background")
        )
        assert loaded, url  # at least our stylesheet and the filing's logo
        for src in loaded:
            assert src.startswith("/") and not src.startswith("//"), (url, src)
        # Our own scripts only, by file: no inline script anywhere on the page.
        for script in root.xpath("//script"):
            assert script.get("src", "").startswith("/static/js/"), url
            assert not (script.text or "").strip(), url


def test_the_filing_keeps_its_real_content(client, hostile):
    content = filing_content(client.get(hostile.get_absolute_url()).content.decode())
    assert "Results of Operations" in content
    assert 'href="#results"' in content and 'id="results"' in content
    assert f'src="/filings/{ACCESSION}/files/logo.jpg"' in content
    assert "EBITDA" in content


def test_marked_hits_stay_inside_the_sanitized_markup(client, hostile):
    html = client.get(f"/filings/{ACCESSION}/1/", {"q": "EBITDA"}).content.decode()
    content = filing_content(html)
    assert len(re.findall(r'<mark class="hit" id="es-hit-\d+">EBITDA</mark>', content)) == 2
    hostile_q = '"><script>alert(1)</script>'
    html = client.get(f"/filings/{ACCESSION}/1/", {"q": hostile_q}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_page_sends_a_csp_that_allows_only_our_scripts(client, hostile):
    urls = pages(hostile) + ["/", "/companies/9999999/", "/filings/0000000000-00-000000/"]
    for url in urls:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
        assert directives["script-src"] == "'self'", url
        assert directives["default-src"] == "'self'", url
        assert directives["object-src"] == "'none'", url
        assert directives["base-uri"] == "'none'", url
        assert "unsafe-inline" not in directives["script-src"]
        assert response["X-Content-Type-Options"] == "nosniff"


def test_hostile_html_file_is_only_ever_a_sandboxed_download(client, hostile):
    response = client.get(f"/filings/{ACCESSION}/files/hostile.htm")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="hostile.htm"'
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    logo = client.get(f"/filings/{ACCESSION}/files/logo.jpg")
    assert logo["Content-Type"] == "image/jpeg"
    assert logo["Content-Disposition"] == 'inline; filename="logo.jpg"'
    assert logo["Content-Security-Policy"].startswith("sandbox")


def test_filing_markup_has_no_classes_so_it_cannot_pose_as_page_chrome(client, hostile):
    content = filing_content(client.get(f"/filings/{ACCESSION}/1/").content.decode())
    root = lxml_html.fragment_fromstring(content)
    inner_classes = {el.get("class") for el in root.iterdescendants() if el.get("class")}
    assert inner_classes == set()
    assert not root.xpath(".//*[@*[starts-with(name(), 'data-')]]")
