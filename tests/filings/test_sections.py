"""Item sections of 10-K, 10-Q and 8-K documents (filings.sections): detection on real
filings of every era, anchors in the display HTML, the document page's table of contents
and the API."""
import re
import time

import pytest

from filings.ingest import prepare_bytes
from filings.sections import add_anchors, find_sections, normal_item
from tests.conftest import corpus_file


def _main(name: str):
    """(type, text, html, stored sections) of the filing's main document."""
    prepared = prepare_bytes(corpus_file(name).read_bytes(), name)[0]
    document = prepared.documents[0]
    return document.document.type, document.text, document.html, document.sections


def _heading(text: str, section: dict) -> str:
    return text[section["start"]:section["end"]].split("\n", 1)[0]


def test_a_modern_10k_has_risk_factors_and_mdna_as_their_bodies():
    doc_type, text, _html, sections = _main("0001010412-10-000078.txt")
    items = [s["item"] for s in sections]
    assert items == ["1", "1A", "2", "3", "4", "5", "6", "7", "7A", "8", "9", "9A", "9B",
                     "10", "11", "12", "13", "14", "15"]
    by_item = {s["item"]: s for s in sections}
    assert by_item["1A"]["title"] == "Risk Factors"
    assert _heading(text, by_item["7"]).startswith("ITEM 7. Management")
    mdna = text[by_item["7"]["start"]:by_item["7"]["end"]]
    assert "ITEM 7A" not in mdna and len(mdna) > 5000
    # Spans follow each other (but for a part's heading between them) within the text.
    for before, after in zip(sections, sections[1:], strict=False):
        between = text[before["end"]:after["start"]]
        assert before["end"] <= after["start"] and (not between or between.startswith("PART"))
    assert text[sections[4]["end"]:sections[5]["start"]] == "PART II\n"
    assert sections[-1]["end"] <= len(text)


def test_a_1990s_text_10k_merges_running_headers_into_their_section():
    # "Item 6. SELECTED FINANCIAL DATA. (con't.)" repeats on the next page.
    _type, text, _html, sections = _main("0000014272-94-000003.txt")
    items = [s["item"] for s in sections]
    assert items == [str(n) for n in range(1, 15)]
    six = next(s for s in sections if s["item"] == "6")
    assert "(con't.)" in text[six["start"]:six["end"]]
    assert [s["part"] for s in sections][:5] == ["I", "I", "I", "I", "II"]


def test_a_10q_table_of_contents_is_not_taken_for_the_body():
    # Its index lists ITEM 1., ITEM 2., then Part II's ITEM 1. and ITEM 6. before the body.
    _type, text, _html, sections = _main("0001005477-01-500666.txt")
    assert [(s["part"], s["item"]) for s in sections] == [
        ("I", "1"), ("I", "2"), ("II", "1"), ("II", "6")]
    assert _heading(text, sections[0]) == "ITEM 1. FINANCIAL STATEMENTS"
    assert "PART II" not in text[sections[1]["start"]:sections[1]["end"]]
    assert sections[1]["end"] - sections[1]["start"] > 10_000  # MD&A, not its index line
    assert [s["anchor"] for s in sections] == ["item-1", "item-2", "part-ii-item-1",
                                               "item-6"]


def test_cross_references_in_prose_are_not_headings():
    # Ford's 1994 10-K: 'Item 1, "Business--Governmental Standards". Included among...'
    # inside Item 3, and 25 "Item 1. Business (Continued)" page headers.
    _type, text, _html, sections = _main("0000037996-94-000005.txt")
    items = [s["item"] for s in sections]
    assert items == ["1", "2", "3", "4", "4A", "5", "6", "7", "8", "9", "10", "11", "12",
                     "13", "14"]
    three = next(s for s in sections if s["item"] == "3")
    assert 'Item 1, "Business' in text[three["start"]:three["end"]]


def test_8k_items_and_their_titles():
    _type, text, _html, sections = _main("0000796343-23-000044.txt")
    assert [(s["item"], s["title"]) for s in sections] == [
        ("2.02", "Results of Operations and Financial Condition"),
        ("9.01", "Financial Statements and Exhibits")]
    # The last section ends at the signatures.
    assert "SIGNATURE" in text[sections[-1]["end"]:sections[-1]["end"] + 20].upper()


@pytest.mark.parametrize("name", ["0001010412-10-000078.txt", "0000014272-94-000003.txt",
                                  "0000320193-97-000011.txt", "0000796343-23-000044.txt"])
def test_every_anchor_stands_before_its_heading_in_the_display_html(name):
    _type, _text, html, sections = _main(name)
    assert sections
    for section in sections:
        assert section["anchor"], section
        tag = f'<span id="{section["anchor"]}" class="section-anchor"></span>'
        assert html.count(tag) == 1
        assert html.index(tag) == section["html_offset"]
        after = re.sub(r"<[^>]*>", "", html[section["html_offset"]:][:400])
        after = after.replace("&nbsp;", " ").replace("&#160;", " ").lstrip()
        assert re.match(r"(?i)(part\s+[iv]+\W+)?item\s*" + re.escape(section["item"]),
                        after), (section, after[:60])


def test_other_documents_have_no_sections():
    prepared = prepare_bytes(corpus_file("0000320193-97-000011.txt").read_bytes(), "x")[0]
    exhibits = prepared.documents[1:]
    assert exhibits and all(d.sections == [] for d in exhibits)
    assert find_sections("EX-27", "Item 1. Business\nItem 2. Properties") == []
    assert find_sections("424B5", "Item 1. Business\nItem 2. Properties") == []


def test_amendments_and_old_variants_are_sectioned():
    text = "PART I\nItem 1. Business\nWe make things.\nItem 2. Properties\nA plant.\n"
    for doc_type in ("10-K/A", "10-K405", "10-KSB", "10-Q/A"):
        assert [s.item for s in find_sections(doc_type, text)] == ["1", "2"], doc_type


def test_a_flood_of_item_lines_does_not_stall_detection():
    # A crafted filing: 100,000 "Item 1." lines, then 100,000 alternating 1..15, with the
    # display HTML holding them all.
    lines = ["Item 1. Business"] * 100_000
    lines += [f"Item {n % 15 + 1}. Heading {n}" for n in range(100_000)]
    text = "\n".join(lines)
    html = "<p>" + "</p><p>".join(lines) + "</p>"
    started = time.perf_counter()
    sections = find_sections("10-K", text)
    html = add_anchors(html, text, sections)
    assert time.perf_counter() - started < 20
    assert 1 <= len(sections) <= 15
    assert [s.item for s in sections] == sorted((s.item for s in sections), key=int)


def test_anchors_in_a_text_document_full_of_entities_are_placed_in_linear_time():
    # A crafted 1990s-style 8-K: 50,000 "&" (each "&amp;" in its display HTML, one text
    # node) before 891 item headings 1.01 .. 9.99. Each anchor's place was read from the
    # node's start, entity by entity: 891 x 50,000 steps, minutes (20,000: 111 s).
    from filings.sanitize import text_to_html
    from filings.text import extract_text

    items = "\n".join(f"Item {a}.{b:02d} Heading" for a in range(1, 10) for b in range(1, 100))
    content = "& " * 50_000 + "\n" + items + "\n"
    text, html = extract_text("text", content), text_to_html(content)
    started = time.perf_counter()
    sections = find_sections("8-K", text)
    html = add_anchors(html, text, sections)
    assert time.perf_counter() - started < 5
    assert len(sections) == 891 and all(s.anchor for s in sections)
    for section in sections:
        span = f'<span id="{section.anchor}" class="section-anchor"></span>'
        assert html[section.html_offset:].startswith(f"{span}Item {section.item} Heading")


def test_items_typed_by_people_are_normalised():
    assert normal_item("1a") == "1A"
    assert normal_item("Item 7") == "7"
    assert normal_item("07") == "7"
    assert normal_item("2.02") == "2.02"
    assert normal_item("1D") == ""
    assert normal_item("x") == ""


# --- Pages and API ---------------------------------------------------------------------------


@pytest.fixture
def ten_k(ingest_paths):
    summary = ingest_paths(corpus_file("0001010412-10-000078.txt"))
    assert summary.failed == 0
    from filings.models import Filing

    return Filing.objects.get(accession_number="0001010412-10-000078")


def test_the_document_page_lists_the_sections_with_deep_links(client, ten_k):
    document = ten_k.documents.get(sequence=1)
    response = client.get(document.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 200
    assert 'aria-label="Sections of this document"' in page
    assert ('<a href="#item-1a"><span class="section-toc__item">Part I, Item 1A</span> '
            'Risk Factors') in page
    assert 'href="#item-7"' in page
    assert page.count('id="item-1a"') == 1 and page.count('id="item-7"') == 1
    # The table of contents comes before the document.
    assert page.index("section-toc") < page.index('id="item-1"')


def test_an_exhibit_page_has_no_table_of_contents(client, ten_k):
    exhibit = ten_k.documents.exclude(sequence=1).filter(kind__in=["html", "text"]).first()
    assert exhibit is not None
    page = client.get(exhibit.get_absolute_url()).content.decode()
    assert "section-toc" not in page


def test_the_api_lists_each_documents_sections(client, ten_k):
    data = client.get(f"/api/filings/{ten_k.accession_number}").json()
    main = data["documents"][0]
    risk = next(s for s in main["sections"] if s["item"] == "1A")
    assert risk["title"] == "Risk Factors" and risk["part"] == "I"
    text = ten_k.documents.get(sequence=1).text
    assert text[risk["start"]:risk["end"]].startswith("ITEM 1A. Risk Factors")
    assert risk["url"].endswith("/?section=item-1a#item-1a")
    assert all(d["sections"] == [] for d in data["documents"][1:])


def test_a_long_documents_sections_link_to_the_page_that_holds_them(client, ingest_paths):
    # BMS's 2006 10-K: 3 MB of HTML, shown a page at a time.
    assert ingest_paths(corpus_file("0001193125-07-039915.txt")).failed == 0
    from filings.models import Document

    document = Document.objects.get(filing__accession_number="0001193125-07-039915",
                                    sequence=1)
    assert document.page_breaks, "expected a paged document"
    page = client.get(document.get_absolute_url()).content.decode()
    links = {anchor: href for href, anchor in
             re.findall(r'<a href="([^"]*#(item-[0-9a-z-]+))"', page)}
    assert links["item-1"] == "#item-1"  # on this page
    later = links["item-8"]
    number = int(re.search(r"\?page=(\d+)#item-8$", later).group(1))
    assert number > 1
    # That page holds the anchor; ?section= opens it too (a search hit's link).
    assert 'id="item-8"' in client.get(later.split("#")[0]).content.decode()
    opened = client.get(document.get_absolute_url() + "?section=item-8").content.decode()
    assert 'id="item-8"' in opened and 'id="item-1"' not in opened
    assert 'id="item-8"' in client.get(document.get_absolute_url() + "?section=8").content.decode()


def test_a_10q_whose_body_names_no_part_is_read_by_its_item_titles():
    # Indiana Bell's 1999 10-Q: its index ends with "PART II / OTHER INFORMATION", then
    # the body starts "Item 1 - Financial Statements" with no PART I line.
    _type, _text, _html, sections = _main("0000732715-99-000042.nc")
    assert [(s["part"], s["item"], s["title"]) for s in sections] == [
        ("I", "1", "Financial Statements"),
        ("I", "2", "Management's Discussion and Analysis")]


def test_a_filing_stored_before_sections_gets_them_when_re_derived(client, ten_k):
    from filings.ingest import rederive
    from filings.models import Document

    main = Document.objects.filter(filing=ten_k, sequence=1)
    main.update(sections=[], html=main.values_list("html", flat=True).first().replace(
        '<span id="item-7" class="section-anchor"></span>', ""))
    from search.index import update_filings

    update_filings([ten_k.accession_number])  # its entry as an older version wrote it
    assert client.get("/api/search", {"q": "section:7 operations"}).json()["total"] == 0
    assert [o.status for o in rederive(ten_k)] == ["updated"]
    document = main.get()
    assert "7" in [s["item"] for s in document.sections]
    assert 'id="item-7"' in document.html
    assert client.get("/api/search", {"q": "section:7 operations"}).json()["total"] == 1


def test_a_modern_10k_index_with_page_numbers_is_not_taken_for_headings():
    # Verizon's 10-K (a document without its submission's header): its table of contents
    # reads "Item 1A.<tab>Risk Factors<tab>14", each line ending in a page number.
    from filings.sanitize import text_and_html

    raw = corpus_file("noacc-10-K-d10k.txt").read_text("latin-1")
    text, html = text_and_html(raw[raw.index("<TEXT>") + 6:], lambda src: None)
    sections = find_sections("10-K", text)
    by_item = {s.item: s for s in sections}
    assert list(by_item) == ["1", "1A", "1B", "2", "3", "4", "5", "6", "7", "7A", "8", "9",
                             "9A", "9B", "10", "11", "12", "13", "14", "15"]
    index_line = text.index("Item 1A.\tRisk Factors\t14")
    assert by_item["1A"].start > index_line
    assert text[by_item["1A"].start:].startswith("Item 1A. Risk Factors\nThe following")
    assert by_item["1A"].end - by_item["1A"].start > 10_000
    add_anchors(html, text, sections)
    assert all(s.anchor for s in sections)
