"""Very large documents: cut into display pages at ingest (filings.pages) and served a
page at a time, with `?q=` hits counted and numbered across pages."""
import copy
import functools
import html as html_lib
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from filings import highlight, pages
from filings.models import Company, Document, Filing, FilingParty, Kind, Role
from filings.sanitize import text_to_html
from tests.conftest import corpus_file

ACCESSION = "0000999999-24-000001"
TEN_Q = "0000014272-95-000007"  # a plain-text 10-Q, "earnings" 15 times through it


# --- Helpers, independent of the code under test ----------------------------------------------


class _Balance(HTMLParser):
    """Python's own HTML tokenizer: every end tag must close the innermost open element,
    and nothing may stay open."""

    VOID = {"br", "hr", "img", "wbr", "col", "area", "input", "meta", "link", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def balance(markup: str) -> _Balance:
    parser = _Balance()
    parser.feed(markup)
    parser.close()
    return parser


def well_formed(markup: str) -> bool:
    parsed = balance(markup)
    return not parsed.problems and not parsed.stack


@functools.lru_cache(maxsize=4)  # the same few megabytes are read by several tests
def visible_text(markup: str) -> str:
    return "".join(balance(markup).text)


@functools.lru_cache(maxsize=4)
def generated_html(sections: int = 100, rows: int = 450, word_in=frozenset({2, 3, 55})) -> str:
    """Sanitizer-shaped HTML (a wrapper div, as a body with a style becomes) of sections
    with headings, paragraphs and big tables holding nested tables: 48 KB a section.
    Sections listed in `word_in` hold the word "zebra"."""
    out = ['<div style="font-family:Times"><div style="margin:0 5%">']
    for s in range(sections):
        word = " zebra" if s in word_in else ""
        out.append(f'<div><h2 id="s{s}">Section {s}</h2><p>Discussion &amp; analysis of '
                   f'section {s}{word}.</p><table border="1"><tbody>')
        out.extend(
            f"<tr><td>Row {s}.{r}</td><td><table><tbody><tr><td>nested {r}</td></tr></tbody>"
            f"</table></td><td>{r * 7}</td></tr>"
            for r in range(rows)
        )
        out.append("</tbody></table></div>")
    out.append("</div></div>")
    return "".join(out)


@functools.lru_cache(maxsize=4)
def _breaks(markup: str) -> list:
    return pages.compute_breaks(markup)


def breaks_of(markup: str) -> list:
    return copy.deepcopy(_breaks(markup))  # a fresh list each time: tests may change it


def all_pages(markup: str, breaks: list) -> list[str]:
    return [
        pages.assemble(markup[slice(*pages.bounds(breaks, n))], breaks, n)
        for n in range(1, pages.page_count(breaks) + 1)
    ]


# --- Cutting (pure) ------------------------------------------------------------------------------


def test_a_document_up_to_the_limit_is_one_page():
    markup = "<p>" + "a" * (pages.WHOLE_CHARS - 7) + "</p>"
    assert len(markup) == pages.WHOLE_CHARS
    assert pages.compute_breaks(markup) == []
    assert pages.compute_breaks(markup + " ") != []


def test_a_multi_megabyte_document_is_cut_into_well_formed_pages_of_bounded_size():
    markup = generated_html()
    assert len(markup) > 4_000_000
    breaks = pages.compute_breaks(markup)
    assert pages.is_valid(breaks)
    assert len(breaks) >= 4
    offsets = [0] + [offset for offset, _, _ in breaks] + [len(markup)]
    sizes = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    assert max(sizes) <= pages.PAGE_CHARS
    assert min(sizes[:-1]) >= pages.MIN_PAGE_CHARS  # no needlessly short page
    parsed = [balance(page) for page in all_pages(markup, breaks)]
    assert all(not p.problems and not p.stack for p in parsed)
    # Nothing lost or repeated: the pages hold the document's text exactly once.
    assert "".join("".join(p.text) for p in parsed) == visible_text(markup)


def test_cuts_fall_between_table_rows_never_inside_a_row_cell_or_paragraph():
    # Sections of 10,000 rows (1.3 MB) are bigger than a page: some cuts must fall
    # inside a table.
    markup = generated_html(sections=4, rows=10_000)
    breaks = pages.compute_breaks(markup)
    opened = [[m.group(1) for m in re.finditer(r"<([a-z0-9]+)", o)] for _, o, _ in breaks]
    assert any("table" in names for names in opened)
    for names in opened:
        assert not set(names) & {"tr", "td", "th", "p", "h2"}, names
    for offset, opening, _ in breaks:
        # The table is reopened with its own attributes.
        if "<table" in opening:
            assert '<table border="1"><tbody>' in opening
        assert markup[offset] == "<"  # between elements, not in a text


def test_a_plain_text_document_is_cut_after_line_ends():
    text = "".join(f"Line {i}: revenue & <costs> of the quarter\n" for i in range(120_000))
    markup = text_to_html(text)
    breaks = pages.compute_breaks(markup)
    assert len(breaks) >= 4
    for offset, opening, _ in breaks:
        assert opening == '<pre class="filing-text">'
        assert markup[offset - 1] == "\n"
    shown = all_pages(markup, breaks)
    assert all(page.startswith('<pre class="filing-text">') for page in shown)
    assert all(page.endswith("</pre>") and well_formed(page) for page in shown)
    assert "".join(visible_text(page) for page in shown) == text


def test_a_page_that_starts_with_a_blank_line_keeps_it():
    breaks = [[10, '<pre class="filing-text">']]
    page = pages.assemble("\n\nsecond page", breaks, 2)
    # An HTML parser eats one newline after <pre>: the blank line needs two.
    assert page == '<pre class="filing-text">\n\n\nsecond page'


def test_text_without_line_ends_or_spaces_is_never_cut_inside_a_character_reference():
    markup = "<pre>" + "ab&amp;&lt;&#8212;" * 400_000 + "</pre>"
    breaks = pages.compute_breaks(markup)
    assert len(breaks) >= 4
    for offset, _, _ in breaks:
        amp = markup.rfind("&", 0, offset)
        assert ";" in markup[amp:offset], markup[offset - 10 : offset + 10]
    shown = all_pages(markup, breaks)
    assert "".join(visible_text(p) for p in shown) == visible_text(markup)


def test_an_element_larger_than_a_page_is_kept_whole_and_reopened_without_its_attributes():
    huge = '<p title="' + "x" * (pages.PAGE_CHARS * 2) + '">big</p>'
    markup = "<div>" + "<p>before</p>" * 200_000 + huge + "<p>after</p>" * 200_000 + "</div>"
    breaks = pages.compute_breaks(markup)
    for offset, opening, _ in breaks:
        before = markup[:offset]
        assert before.rfind("<") < before.rfind(">") or markup[offset] == "<"  # not in a tag
        assert len(opening) <= pages.MAX_REOPENED_TAG
    start = markup.index(huge)
    tag_end = start + huge.index(">") + 1
    assert not any(start < offset < tag_end for offset, _, _ in breaks)
    assert all(well_formed(page) for page in all_pages(markup, breaks))


@pytest.mark.parametrize(
    "breaks",
    ["x", [1, 2], [[5, "<div>"], [3, "<div>"]], [[True, ""]], [[5, None]], [[0, ""]]],
)
def test_malformed_breaks_are_recognised(breaks):
    assert not pages.is_valid(breaks)


# --- Serving a page at a time ------------------------------------------------------------------


@pytest.fixture
def big_document(db):
    """A filing whose one document is generated multi-megabyte HTML, stored as ingest
    stores it (its breaks computed by filings.pages)."""
    markup = generated_html()
    filing = Filing.objects.create(accession_number=ACCESSION, form_type="10-K")
    company = Company.objects.create(cik=999999, name="BIG DOCUMENT CORP")
    FilingParty.objects.create(filing=filing, company=company, role=Role.FILER, name=company.name)
    return Document.objects.create(
        filing=filing, sequence=1, type="10-K", filename="big.htm", kind=Kind.HTML,
        size=len(markup), html=markup, page_breaks=breaks_of(markup),
    )


def page_of(client, document, **params):
    response = client.get(f"/filings/{ACCESSION}/{document.sequence}/", params)
    assert response.status_code == 200
    return response.content.decode()


def shown_document(page_html: str) -> str:
    start = page_html.index("data-es-document>") + len("data-es-document>")
    return page_html[start : page_html.rindex("</div>", 0, page_html.index("</article>"))]


def html_loads(queries) -> list[str]:
    """Queries reading the html column whole (not through SUBSTR)."""
    column = '"filings_document"."html"'
    return [q["sql"] for q in queries
            if q["sql"].replace(f"SUBSTRING({column}", "").replace(f"SUBSTR({column}", "")
            .count(column)]  # SQLite writes SUBSTR, PostgreSQL SUBSTRING


def test_every_page_of_a_multi_megabyte_document_is_served_alone(client, big_document):
    count = pages.page_count(big_document.page_breaks)
    assert count >= 5
    texts = []
    for number in range(1, count + 1):
        with CaptureQueriesContext(connection) as queries:
            html = page_of(client, big_document, page=number)
        assert len(html.encode()) < 1_500_000  # the document is 4.8 MB
        assert f"Page {number} of {count}" in html
        assert html_loads(queries) == []  # only this page's slice left the database
        parsed = balance(shown_document(html))
        assert not parsed.problems and not parsed.stack
        texts.append("".join(parsed.text))
    assert "".join(texts) == visible_text(big_document.html)


def test_page_links_keep_the_search_and_stay_within_the_document(client, big_document):
    count = pages.page_count(big_document.page_breaks)
    url = f"/filings/{ACCESSION}/1/"
    html = page_of(client, big_document, page=2, q="zebra")
    assert f'href="{url}?q=zebra" rel="first"' in html
    assert f'href="{url}?q=zebra" rel="prev"' in html
    assert f'href="{url}?page=3&amp;q=zebra" rel="next"' in html
    assert f'href="{url}?page={count}&amp;q=zebra" rel="last"' in html
    assert f"Page {count} of {count}" in page_of(client, big_document, page=10_000)
    assert f"Page 1 of {count}" in page_of(client, big_document, page="x")
    assert f"Page 1 of {count}" in page_of(client, big_document, page=-3)


def test_filing_page_shows_the_first_page_only_and_links_to_the_rest(client, big_document):
    response = client.get(f"/filings/{ACCESSION}/")
    html = response.content.decode()
    count = pages.page_count(big_document.page_breaks)
    assert len(html.encode()) < 1_500_000
    assert f"page 1 of {count} is below" in html
    assert f'href="/filings/{ACCESSION}/1/?page=2"' in html
    assert "Section 0" in html and "Section 59" not in html


def test_a_document_stored_before_pages_is_cut_on_first_view(client, big_document):
    breaks = big_document.page_breaks
    Document.objects.filter(pk=big_document.pk).update(page_breaks=[])
    html = page_of(client, big_document, page=2)
    assert len(html.encode()) < 1_500_000
    assert f"Page 2 of {len(breaks) + 1}" in html
    big_document.refresh_from_db()
    assert big_document.page_breaks == breaks
    with CaptureQueriesContext(connection) as queries:
        page_of(client, big_document, page=3)
    assert html_loads(queries) == []  # cut once, kept


def marks(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<mark class="hit" id="es-hit-(\d+)">', html)]


def hitbar(html: str) -> dict:
    bar = re.search(r"<div class=\"hitbar\"([^>]*)>", html).group(1)
    return {k: html_lib.unescape(v) for k, v in re.findall(r'data-([a-z-]+)="([^"]*)"', bar)}


def test_hits_are_numbered_across_pages_and_lead_from_page_to_page(client, big_document):
    cache.clear()
    breaks = big_document.page_breaks
    count = pages.page_count(breaks)
    pattern = highlight.pattern_for("zebra")
    expected = [highlight.count(big_document.html[slice(*pages.bounds(breaks, n))], pattern)
                for n in range(1, count + 1)]
    assert sum(expected) == 3 and expected.count(0) >= 2  # hits on some pages, not all

    seen = []
    for number in range(1, count + 1):
        html = page_of(client, big_document, page=number, q="zebra")
        bar = hitbar(html)
        assert bar["total"] == "3"
        assert int(bar["before"]) == sum(expected[: number - 1])
        assert len(marks(html)) == expected[number - 1]
        seen += marks(html)
        with_hits = [n for n in range(1, count + 1) if expected[n - 1] and n != number]
        later = [n for n in with_hits if n > number] or with_hits
        first_of = {n: sum(expected[: n - 1]) + 1 for n in with_hits}
        if later:
            target = later[0]
            suffix = f"page={target}&q=zebra" if target > 1 else "q=zebra"
            assert bar["next-url"] == f"/filings/{ACCESSION}/1/?{suffix}#es-hit-{first_of[target]}"
        else:
            assert bar["next-url"] == ""
        if "js/hits.js" not in html:
            raise AssertionError("hit navigation is missing on a page of a document with hits")
    assert seen == [1, 2, 3]  # each hit marked once, numbered in reading order


def test_searching_a_long_document_counts_its_hits_once_per_query(
    client, big_document, monkeypatch
):
    cache.clear()
    counted = []
    count = highlight.count
    monkeypatch.setattr(highlight, "count", lambda html, p: counted.append(1) or count(html, p))
    with CaptureQueriesContext(connection) as first:
        page_of(client, big_document, page=2, q="zebra")
    assert len(counted) == pages.page_count(big_document.page_breaks)  # every page, once
    # SQLite hands the pages over one at a time; another database the whole document.
    assert len(html_loads(first)) == (0 if connection.vendor == "sqlite" else 1)
    with CaptureQueriesContext(connection) as later:
        page_of(client, big_document, page=3, q="zebra")
        page_of(client, big_document, page=1, q="zebra")
    assert html_loads(later) == []
    assert len(counted) == pages.page_count(big_document.page_breaks)  # cached


def test_pages_of_a_document_beyond_ascii_are_cut_and_read_by_byte_offsets(client, db):
    # Letters of one, two, three and four bytes in UTF-8, in text and in attributes.
    markup = generated_html().replace("Row ", "Rangée — 行 😀 ").replace(
        'border="1"', 'border="1" title="tête-à-tête"'
    )
    breaks = pages.compute_breaks(markup)
    encoded = markup.encode()
    for offset, _, byte_offset in breaks:
        assert byte_offset == len(markup[:offset].encode())
        assert encoded[byte_offset:].decode().startswith(markup[offset : offset + 100])
    filing = Filing.objects.create(accession_number=ACCESSION, form_type="10-K")
    document = Document.objects.create(filing=filing, sequence=1, kind=Kind.HTML,
                                       html=markup, page_breaks=breaks)
    texts = []
    for number in range(1, pages.page_count(breaks) + 1):
        parsed = balance(shown_document(page_of(client, document, page=number)))
        assert not parsed.problems and not parsed.stack
        texts.append("".join(parsed.text))
    assert "".join(texts) == visible_text(markup)
    assert "😀" in texts[-1]


def test_ingest_stores_the_breaks_of_a_long_document(ingest_paths, monkeypatch):
    # A real plain-text filing, with pages small enough to cut it.
    monkeypatch.setattr(pages, "PAGE_CHARS", 8_000)
    monkeypatch.setattr(pages, "WHOLE_CHARS", 10_000)
    summary = ingest_paths(corpus_file(f"{TEN_Q}.txt"))
    assert summary.failed == 0
    document = Document.objects.get(filing__accession_number=TEN_Q, sequence=1)
    assert len(document.html) > 30_000
    assert document.page_breaks == pages.compute_breaks(document.html)
    assert len(document.page_breaks) >= 4
    shown = all_pages(document.html, document.page_breaks)
    assert "".join(visible_text(p) for p in shown) == visible_text(document.html)


def test_a_capped_hit_count_reads_2000_plus(client, db):
    # Past MAX_HITS marks the rest are left unmarked: the bar says "2,000+", so the
    # script's status reads "Hit 1 of 2,000+" (never a bare "2000+" or an exact count).
    markup = "<pre>" + "revenue " * (highlight.MAX_HITS + 500) + "</pre>"
    filing = Filing.objects.create(accession_number=ACCESSION, form_type="10-K")
    company = Company.objects.create(cik=999999, name="MANY HITS CORP")
    FilingParty.objects.create(filing=filing, company=company, role=Role.FILER, name=company.name)
    document = Document.objects.create(filing=filing, sequence=1, type="10-K", filename="a.txt",
                                       kind=Kind.TEXT, size=len(markup), html=markup)
    html = page_of(client, document, q="revenue")
    assert hitbar(html)["total"] == "2,000+"
    assert "2,000+ hits for" in html
    assert len(marks(html)) == highlight.MAX_HITS
