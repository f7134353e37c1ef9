"""filings.text.extract_text: the plain text that is indexed and shown in snippets.

Pure functions: no Django (run with `-p no:django`). The hostile fixture tests always run;
the corpus tests skip when the shared corpus is absent.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from filings.text import MAX_ATTRIBUTES, extract_text, parse_html
from tests.builders import documents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
CORPUS = Path(
    os.environ.get("EDGAR_CORPUS") or Path(__file__).resolve().parents[3] / "shared" / "corpus"
)



@pytest.fixture(autouse=True)
def isolated_data():
    """Shadows tests/conftest.py's storage fixture, which needs Django: these tests touch no
    storage and must run without Django (`-p no:django`)."""
    return None



def corpus_documents(name: str) -> list[tuple[str, str, str]]:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} not available")
    return documents(path.read_bytes())


def corpus_document(name: str, *, filename: str = "", doc_type: str = "") -> str:
    for t, f, body in corpus_documents(name):
        if (filename and f == filename) or (doc_type and t == doc_type):
            return body
    raise AssertionError(f"{filename or doc_type} not in {name}")


@pytest.fixture(scope="module")
def hostile_text():
    data = (FIXTURES / "hostile-submission.txt").read_bytes()
    body = next(b for _t, f, b in documents(data) if f == "hostile.htm")
    return extract_text("html", body)


# --- the hostile fixture ------------------------------------------------------------


def test_hostile_html_gives_its_visible_words(hostile_text):
    for words in (
        "HOSTILE TEST CORP",
        "CURRENT REPORT pursuant to Section 13 of the Securities Exchange Act of 1934.",
        "Hover paragraph.",
        "FORM-TEXT",
        "PHISHING-OVERLAY: your session expired, log in again.",
        "Results of Operations",
    ):
        assert words in hostile_text.splitlines(), words


def test_hostile_html_gives_no_code_hidden_facts_or_form_values(hostile_text):
    for marker in (
        "head-script",
        "script-lower",
        "svg-script",
        "template-script",
        "in-comment",
        "style-bg",
        "import.css",
        "HIDDEN-HEADER-FACT",
        "HOSTILE-TITLE",
        "option-text",
        "textarea-text",
        "button-text",
        "input-value",
    ):
        assert marker not in hostile_text, marker


def test_table_rows_become_lines_with_tab_separated_cells(hostile_text):
    lines = hostile_text.splitlines()
    assert "(in millions)\t2025\t2024" in lines
    assert "EBITDA\t$ 456\t$ 400" in lines


def test_entity_spaces_become_plain_spaces(hostile_text):
    assert "for the quarter ended December 31, 2025." in hostile_text
    assert "\xa0" not in hostile_text and "&nbsp;" not in hostile_text


# --- html and inline XBRL -------------------------------------------------------------


def test_block_elements_end_lines_and_inline_elements_do_not_split_words():
    doc = (
        "<p>one</p><p>two</p><div>three<br>four</div><ul><li>five</li><li>six</li></ul>"
        "<h2>seven</h2><p>EB<b>IT</b><i>DA</i> is <span>inline</span></p><hr>eight"
    )
    assert extract_text("html", doc) == (
        "one\ntwo\nthree\nfour\nfive\nsix\nseven\nEBITDA is inline\neight"
    )


def test_source_newlines_and_space_runs_inside_a_paragraph_are_single_spaces():
    doc = "<p>Net\n   income\tgrew\r\n\r\n  strongly.</p>"
    assert extract_text("html", doc) == "Net income grew strongly."


def test_pre_blocks_keep_their_lines():
    doc = "<p>Table:</p><pre>Sales    100\nCosts     60\n</pre>"
    assert extract_text("html", doc) == "Table:\nSales 100\nCosts 60"


def test_entities_are_decoded():
    doc = "<p>A&amp;B &lt;tag&gt; caf&eacute; &#8220;q&#8221;&#160;&nbsp;x</p>"
    assert extract_text("html", doc) == "A&B <tag> café “q” x"


def test_hidden_elements_head_and_scripts_are_not_text():
    doc = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<script>var x = 1;</script><p>shown</p>"
        '<div style="DISPLAY: none">hidden</div><noscript>ns</noscript>tail</body></html>'
    )
    assert extract_text("html", doc) == "shown\ntail"


def test_ixbrl_with_declaration_keeps_facts_and_drops_the_header_under_any_prefix():
    doc = (
        "<?xml version='1.0' encoding='ASCII'?>\n"
        '<html xmlns="http://www.w3.org/1999/xhtml"><body>'
        "<div style='display:none'><ix:header><ix:hidden>SECRET-1</ix:hidden></ix:header></div>"
        "<inl:header>SECRET-2</inl:header>"
        '<p>Revenue <ix:nonFraction name="us-gaap:Revenues">1,234</ix:nonFraction> million'
        "<ix:continuation id='c'> continued</ix:continuation></p></body></html>"
    )
    assert extract_text("ixbrl", doc) == "Revenue 1,234 million continued"


def test_edgar_xbrl_wrapper_is_not_text():
    doc = "<XBRL>\n<?xml version='1.0' encoding='utf-8'?>\n<html><body><p>x</p></body></html>"
    assert extract_text("ixbrl", doc) == "x"


# --- 1990s plain text -----------------------------------------------------------------


def test_sgml_markup_tags_go_and_words_stay():
    doc = (
        "<PAGE>  2\n<TABLE>\n<CAPTION>\n              Income Statement\n</CAPTION>\n"
        "<S>                        <C>          <C>\nNet sales <F1>      $ 3,445     $ 2,970\n"
        "</TABLE>\n<FN>\n<F1> Restated.\n</FN>\n<R>Revised</R> text; a <= b, c<d, <the> end\n"
    )
    assert extract_text("text", doc) == (
        "2\nIncome Statement\nNet sales $ 3,445 $ 2,970\nRestated.\n"
        "Revised text; a <= b, c<d, <the> end"
    )


def test_financial_data_schedule_tags_keep_their_names_as_words():
    doc = "<ARTICLE> 5\n<LEGEND>\nExhibit 27\n</LEGEND>\n<PP&E>   6,073\n<TOTAL-ASSETS> 13,579\n"
    assert extract_text("text", doc) == (
        "ARTICLE 5\nLEGEND\nExhibit 27\nPP&E 6,073\nTOTAL-ASSETS 13,579"
    )


# --- xml ------------------------------------------------------------------------------


def test_xml_leaves_become_name_value_lines():
    doc = (
        '<XML>\n<?xml version="1.0" encoding="UTF-8"?>\n<ownershipDocument>'
        "<issuer><issuerName>ACME CORP</issuerName><issuerTradingSymbol>ACME"
        "</issuerTradingSymbol></issuer><nonDerivativeTransaction>"
        "<transactionShares><value>100</value><footnoteId id='F1'/></transactionShares>"
        "</nonDerivativeTransaction><infoTable><nameOfIssuer>X</nameOfIssuer>"
        "<value>5</value></infoTable><empty/><remarks>None.</remarks>"
        "</ownershipDocument>\n</XML>\n"
    )
    assert extract_text("xml", doc) == (
        "issuerName: ACME CORP\nissuerTradingSymbol: ACME\ntransactionShares: 100\n"
        "nameOfIssuer: X\nvalue: 5\nremarks: None."
    )


def test_xml_external_entities_are_never_resolved():
    doc = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        '<!ENTITY a "lollollollollollollollollollol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><x><y>&xxe;</y><z>&c;</z><w>ok</w></x>'
    )
    out = extract_text("xml", doc)
    assert "root:" not in out and "lollollol" not in out
    assert "w: ok" in out.splitlines()


def test_malformed_xml_falls_back_to_its_text():
    doc = "<form><name>ACME &amp; SONS</name><open>unclosed</form>"
    assert extract_text("xml", doc) == "ACME & SONS unclosed"


# --- kinds and robustness ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["json", "xbrl", "pdf", "image", "binary", "other", "", "unknown"])
def test_unindexed_kinds_give_no_text(kind):
    assert extract_text(kind, '{"text": "words"} <p>words</p>') == ""


@pytest.mark.parametrize("kind", ["html", "ixbrl", "text", "xml"])
@pytest.mark.parametrize(
    "doc",
    [
        "",
        "<",
        "\x00\x01\ud800\ufffe binary \x1f\x7f",
        "<table><tr><td>" * 3000,
        "<div>" * 20000 + "deep",
        bytes(range(256)).decode("latin-1") * 200,
        "<?xml version='1.0' encoding='latin-1'?><a>b</a>",
        None,
    ],
)
def test_never_raises_and_returns_a_string(kind, doc):
    out = extract_text(kind, doc)
    assert isinstance(out, str)
    assert "\x00" not in out


# --- real filings -----------------------------------------------------------------------


def test_real_1990s_10q_exhibit_loses_sgml_table_tags():
    body = corpus_document("0000014272-95-000007.txt", doc_type="EX-27")
    for tag in ("<TABLE>", "<S>", "<C>", "<FN>", "<F1>", "</TABLE>"):
        assert tag in body
    text = extract_text("text", body)
    assert not re.search(r"</?(TABLE|S|C|FN|F\d|CAPTION|PAGE)>", text)
    lines = text.splitlines()
    assert "CASH 1,719" in lines and "TOTAL-ASSETS 13,579" in lines
    assert "Exhibit 27 for Bristol-Myers Squibb" in lines


def test_real_1990s_10q_body_keeps_its_statement_lines():
    body = corpus_document("0000014272-95-000007.txt", doc_type="10-Q")
    assert "<PAGE>" in body
    text = extract_text("text", body)
    assert "<PAGE>" not in text
    assert "Net Sales $3,445 $2,970 $6,746 $5,804" in text.splitlines()


def test_real_form_4_values_are_present_with_their_names():
    body = corpus_document("0000842517-24-000086.txt", doc_type="4")
    lines = extract_text("xml", body).splitlines()
    for line in (
        "issuerName: ISABELLA BANK Corp",
        "issuerTradingSymbol: ISBA",
        "rptOwnerName: McGuirk Richard L",
        "transactionShares: 275.634",
        "transactionPricePerShare: 18.14",
        "natureOfOwnership: Held by minor child",
    ):
        assert line in lines, line


def test_real_13f_information_table_lists_each_holding():
    body = corpus_document("0001140361-23-013281.txt", doc_type="INFORMATION TABLE")
    lines = extract_text("xml", body).splitlines()
    assert "nameOfIssuer: ISHARES MSCI CHILE ETF" in lines
    assert "cusip: 464286640" in lines
    assert "value: 2049983" in lines


def test_real_inline_xbrl_8k_text_has_facts_but_not_the_hidden_header():
    body = corpus_document("0001628280-25-058337.txt", filename="meta-20251219.htm")
    assert "0001326801" in body  # the CIK, only inside ix:header
    text = extract_text("ixbrl", body)
    assert "0001326801" not in text
    assert "Delaware\t001-35551\t20-1665019" in text.splitlines()
    assert "Meta Platforms, Inc." in text.splitlines()


def test_real_html_entity_spaces_join_words_with_plain_spaces():
    body = corpus_document("0001567619-16-001833.txt", filename="s001197x2_8k.htm")
    assert "Rule&#160;425" in body
    text = extract_text("html", body)
    assert "Rule 425" in text
    assert "\xa0" not in text and "&#160;" not in text and "&nbsp;" not in text


def test_big_html_extracts_at_megabytes_per_second():
    body = corpus_document("noacc-424B4-camp4.txt", filename="tm2415452-18_424b4.htm")
    mb = len(body.encode()) / 1e6
    start = time.perf_counter()
    text = extract_text("html", body)
    mb_per_s = mb / (time.perf_counter() - start)
    assert len(text) > 500_000
    # 14 MB/s on an idle development machine, 3.5 under load: the bound only catches
    # blow-ups (quadratic behaviour), not noise.
    assert mb_per_s > 0.5, f"{mb_per_s:.1f} MB/s"


def test_whitespace_run_at_the_end_of_an_xml_document_takes_linear_time():
    # `\s*</(?:XBRL|XML)>\s*$` was retried from every space of the run: 80,000 spaces took
    # 9 s, so the million here would take over half an hour.
    spaces = " " * 1_000_000
    started = time.perf_counter()
    unclosed = extract_text("xml", "<XML>\n<a>1</a>" + spaces + "x")
    closed = extract_text("xml", "<XML>\n<a>2</a>" + spaces + "</xml>" + spaces)
    elapsed = time.perf_counter() - started

    assert (unclosed, closed) == ("1 x", "a: 2")
    assert elapsed < 5.0


def _tag_with_attributes(count: int) -> str:
    # What the fuzzer made: header lines pasted inside an open `<font`, each a new name.
    names = "\n".join(f"ITEM INFORMATION:\tvalue {i}" for i in range(count))
    return f'<p>before <font\n{names} style="color:red">inside</font> after</p>'


def test_a_tag_with_very_many_attributes_parses_in_linear_time():
    # libxml2 compares each attribute with every earlier one: 80,000 took 89 s to parse.
    html = _tag_with_attributes(80_000)
    started = time.perf_counter()
    root = parse_html(html)
    text = extract_text("html", html)
    elapsed = time.perf_counter() - started

    font = root.find(".//font")
    # The first MAX_ATTRIBUTES attributes are read: 50 lines of four, three names repeated.
    assert len(font.attrib) == 3 + MAX_ATTRIBUTES // 4
    assert font.keys()[:4] == ["item", "information:", "value", "0"]
    assert text == "before inside after"
    assert elapsed < 10.0


def test_attributes_past_the_bound_are_cut_but_the_tag_and_its_neighbours_stay():
    names = " ".join(f"a{i}='{i}>'" for i in range(MAX_ATTRIBUTES + 50))
    root = parse_html(f'<div><b x="1">one</b><span {names}>two</span><i y=2>three</i></div>')

    span = root.find(".//span")
    assert span.keys() == [f"a{i}" for i in range(MAX_ATTRIBUTES)]
    assert span.get("a7") == "7>"
    assert (span.text, root.find(".//b").get("x"), root.find(".//i").get("y")) == (
        "two",
        "1",
        "2",
    )


def test_many_unclosed_comments_are_stripped_in_linear_time():
    # Malformed XML falls back to stripping tags; `<!--.*?-->` looked for "-->" from every
    # unclosed "<!--": 20,000 took 41 s, the 200,000 here would take over an hour.
    body = "<a>1</a><b>" + "<!-- x " * 200_000 + "</b> &amp; end"
    started = time.perf_counter()
    text = extract_text("xml", body)
    elapsed = time.perf_counter() - started

    assert text.startswith("1 <!-- x <!-- x ")
    assert text.endswith("<!-- x & end")
    assert elapsed < 5.0
