"""The EDGAR submission parser: real corpus files first, then one test per dialect and
per way real files go wrong. Pure Python: runs with `-p no:django`."""

import binascii
import csv
import io
import os
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from filings.submission import (
    BINARY,
    FILED_BY,
    FILED_FOR,
    FILER,
    HTML,
    IMAGE,
    ISSUER,
    IXBRL,
    PDF,
    REPORTING_OWNER,
    SERIAL_COMPANY,
    SUBJECT_COMPANY,
    TEXT,
    XML,
    SubmissionError,
    parse,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "submissions"
CORPUS = Path(
    os.environ.get("EDGAR_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus")
)
HAVE_CORPUS = (CORPUS / "MANIFEST.tsv").exists()
needs_corpus = pytest.mark.skipif(not HAVE_CORPUS, reason=f"no EDGAR corpus at {CORPUS}")


@pytest.fixture(autouse=True)
def isolated_data():
    """The parser touches no storage or settings: this overrides the Django-backed
    autouse fixture of tests/conftest.py so the module runs without pytest-django."""
    yield


def real(name: str) -> bytes:
    """A real EDGAR file: the copy in tests/fixtures/submissions, else the corpus."""
    for folder in (FIXTURES, CORPUS):
        if (folder / name).exists():
            return (folder / name).read_bytes()
    pytest.skip(f"{name} is neither in {FIXTURES} nor in the corpus")


def only(data: bytes, name: str = ""):
    subs = parse(data, name)
    assert len(subs) == 1, [s.accession_number for s in subs]
    return subs[0]


def roles(sub):
    return [p.role for p in sub.parties]


def party(sub, role):
    return next(p for p in sub.parties if p.role == role)


# ---------------------------------------------------------------------------------------
# Every corpus file against its MANIFEST row
# ---------------------------------------------------------------------------------------


def manifest_rows():
    if not HAVE_CORPUS:
        return []
    with open(CORPUS / "MANIFEST.tsv", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = manifest_rows()


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("row", [r for r in ROWS if r["accession"]], ids=lambda r: r["file"])
def test_corpus_file_yields_the_manifest_facts(row):
    sub = only((CORPUS / row["file"]).read_bytes(), row["file"])

    assert sub.accession_number == row["accession"]
    assert sub.form_type == row["form_type"]
    assert sub.filed_on == datetime.strptime(row["filed_date"], "%Y%m%d").date()
    assert len(sub.documents) == int(row["distinct_documents"])
    assert row["company"].lower() in [p.name.lower() for p in sub.parties]
    assert sub.header_only == (int(row["distinct_documents"]) == 0)
    assert len({d.sequence for d in sub.documents}) == len(sub.documents)


@pytest.mark.corpus
@needs_corpus
@pytest.mark.parametrize("row", [r for r in ROWS if not r["accession"]], ids=lambda r: r["file"])
def test_corpus_file_without_accession_is_refused_with_the_reason(row):
    with pytest.raises(SubmissionError, match="no accession number in the header or the file"):
        parse((CORPUS / row["file"]).read_bytes(), row["file"])


@pytest.mark.corpus
@needs_corpus
def test_corpus_is_parsed_faster_than_20_mb_per_second():
    files = [CORPUS / r["file"] for r in ROWS if r["accession"]]
    blobs = [(f.read_bytes(), f.name) for f in files]
    total = sum(len(b) for b, _ in blobs)
    started = time.perf_counter()
    for blob, name in blobs:
        parse(blob, name)
    elapsed = time.perf_counter() - started

    assert total / elapsed > 20e6, f"{total / elapsed / 1e6:.1f} MB/s"


# ---------------------------------------------------------------------------------------
# Dialects
# ---------------------------------------------------------------------------------------


def test_ims_header_10q_has_its_filer_facts_and_keeps_1990s_markup():
    data = real("0000014272-95-000007.txt")
    sub = only(data, "0000014272-95-000007.txt")

    assert sub.dialect == "ims-header"
    assert (sub.accession_number, sub.form_type) == ("0000014272-95-000007", "10-Q")
    assert sub.period_of_report == date(1995, 6, 30)
    assert sub.filed_on == date(1995, 8, 14)
    assert sub.public_document_count == 2
    assert (sub.sec_act, sub.file_number, sub.film_number) == ("1934 Act", "001-01136", "95562787")
    filer = party(sub, FILER)
    assert (filer.name, filer.cik) == ("BRISTOL MYERS SQUIBB CO", 14272)
    assert (filer.sic_code, filer.sic_description) == ("2834", "PHARMACEUTICAL PREPARATIONS")
    assert (filer.irs_number, filer.state_of_incorporation) == ("220790350", "DE")
    assert filer.fiscal_year_end == "1231"
    assert filer.business_address.city == "NEW YORK"
    assert filer.business_address.phone == "2125464000"
    assert filer.mail_address is None
    assert [(f.name, f.changed_on) for f in filer.former_names] == [
        ("BRISTOL MYERS CO", date(1989, 10, 12))
    ]
    assert [(d.sequence, d.type, d.kind) for d in sub.documents] == [
        (1, "10-Q", TEXT),
        (2, "EX-27", TEXT),
    ]
    assert sub.documents[0].description == "FORM 10-Q FOR THE QUARTERLY PERIOD ENDED 6/30/95"
    assert "<PAGE>" in sub.documents[0].text
    assert "<TABLE>" in sub.documents[1].text
    assert "</TEXT>" not in sub.documents[0].text
    assert sub.raw == data
    assert sub.warnings == []


def test_pem_wrapped_filing_keeps_its_document_and_drops_the_wrapper():
    sub = only(real("0000320193-99-000010.txt"))

    assert sub.dialect == "sec-header"
    assert sub.accession_number == "0000320193-99-000010"
    assert [d.type for d in sub.documents] == ["8-K"]
    assert "PRIVACY-ENHANCED" not in sub.documents[0].text
    assert "Proc-Type" not in sub.documents[0].text
    assert party(sub, FILER).name == "APPLE COMPUTER INC"


@needs_corpus
def test_pem_string_inside_an_html_body_does_not_split_the_filing():
    sub = only(real("0001010412-10-000078.txt"))

    assert [d.sequence for d in sub.documents] == [1, 2, 3, 4]
    assert "-----BEGIN PRIVACY-ENHANCED MESSAGE-----" in sub.documents[0].text
    assert sub.documents[0].kind == HTML


def test_nc_file_with_bare_cr_line_endings_parses_tagged_header_and_xml_document():
    data = real("0001127602-25-004598.nc")
    assert b"\r" in data and b"\r\n" not in data  # the real file: bare CRs
    sub = only(data)

    assert sub.dialect == "nc"
    assert (sub.form_type, sub.period_of_report) == ("4", date(2025, 2, 12))
    assert sub.date_of_change == date(2025, 2, 13)
    assert roles(sub) == [REPORTING_OWNER, ISSUER]
    owner, issuer = sub.parties
    assert (owner.name, owner.cik, owner.film_number) == (
        "Jean-Claude Carine Lamercie",
        1870985,
        "25619631",
    )
    assert owner.mail_address.street1 == "9151 E PANORAMA CIR"
    assert (issuer.cik, issuer.sic_code, issuer.state_of_incorporation) == (7536, "5065", "NY")
    assert issuer.business_address.phone == "303-824-4000"
    assert [f.changed_on for f in issuer.former_names] == [date(2022, 11, 17), date(1992, 7, 3)]
    (doc,) = sub.documents
    assert (doc.type, doc.filename, doc.kind) == ("4", "form4.xml", XML)
    assert doc.text.startswith('<?xml version="1.0"?>\n<ownershipDocument>')
    assert "\r" not in doc.text
    assert "<XML>" not in doc.text and "</XML>" not in doc.text


def test_hdr_sgml_is_a_header_only_submission():
    sub = only(real("0001062993-24-012217.hdr.sgml"))

    assert sub.dialect == "hdr-sgml"
    assert sub.header_only and sub.documents == []
    assert sub.accepted_at == datetime(2024, 6, 7, 18, 10, 30)
    assert sub.public_document_count == 1
    assert roles(sub) == [REPORTING_OWNER, ISSUER]
    assert party(sub, ISSUER).name == "UFP TECHNOLOGIES INC"
    assert sub.warnings == []  # the document count of a header file is not a mismatch


def test_index_headers_page_reads_the_header_not_the_escaped_listing():
    data = real("0001924152-24-000002-index-headers.html")
    sub = only(data)

    assert sub.dialect == "index-headers"
    assert sub.header_only and sub.documents == []
    assert (sub.accession_number, sub.form_type) == ("0001924152-24-000002", "13F-HR")
    assert sub.period_of_report == date(2024, 3, 31)
    assert sub.effective_on == date(2024, 6, 5)
    assert sub.accepted_at == datetime(2024, 6, 5, 14, 37, 19)
    assert party(sub, FILER).name == "Objective Capital Management, LLC"
    assert sub.raw == data


def test_header_fragment_beginning_with_a_tag_keeps_every_filer():
    sub = only(real("0001104659-23-069855.txt"))

    assert sub.dialect == "fragment"
    assert sub.header_only
    assert sub.accepted_at == datetime(2023, 6, 9, 14, 56, 16)
    assert sub.period_of_report == date(2023, 5, 31)
    assert [p.name for p in sub.parties] == [
        "First National Master Note Trust",
        "FIRST NATIONAL FUNDING LLC",
    ]
    assert sub.parties[1].mail_address.city == "OHAHA"  # as EDGAR spelled it


def test_header_fragment_starting_inside_a_party_takes_the_accession_from_the_name():
    data = real("0001104659-23-069855.txt")
    fragment = data[data.index(b"\tCOMPANY DATA:") :]
    sub = only(fragment, "0001104659-23-069855.txt")

    assert sub.accession_number == "0001104659-23-069855"
    assert sub.header_only
    assert sub.parties[0].role == FILER
    assert sub.parties[0].name == "First National Master Note Trust"


def test_serial_company_section_is_a_party_with_its_own_filing_values():
    sub = only(real("0000928385-00-003420.txt"))

    assert roles(sub) == [FILER, SERIAL_COMPANY]
    filer, serial = sub.parties
    assert serial.name == "BANK OF AMERICA MORT SEC INC MORT PASS THRU CERTS SER 2000 8"
    assert (serial.cik, serial.file_number) == (1130269, "333-80941-08")
    assert sub.file_number == "333-80941"  # the submission's: from the first party
    assert [(f.name, f.changed_on) for f in filer.former_names] == [
        ("BA MORTGAGE SECURITIES INC/", date(1998, 6, 5)),
        ("BANKAMERICA MORTGAGE SECURITIES INC", date(1996, 5, 20)),
    ]


def test_tagged_party_inside_indented_header_is_still_a_party():
    sub = only(real("0001012325-98-000004.txt"))

    assert roles(sub) == [SUBJECT_COMPANY, REPORTING_OWNER]
    owner = party(sub, REPORTING_OWNER)
    assert (owner.name, owner.cik) == ("CANTALUPO JAMES R", 1012325)
    assert (owner.sic_code, owner.sic_description) == ("", "")
    assert owner.mail_address.zip == "60606"


def test_form4_has_reporting_owner_and_issuer():
    sub = only(real("0000842517-24-000086.txt"))

    assert sub.form_type == "4"
    assert roles(sub) == [REPORTING_OWNER, ISSUER]
    assert party(sub, ISSUER).name == "ISABELLA BANK Corp"
    assert sub.documents[0].kind == XML


def test_tags_mixed_into_an_indented_header_do_not_break_it():
    sub = only(real("0001140361-25-045534.txt"))

    assert sub.accepted_at == datetime(2025, 12, 15, 16, 56, 49)
    assert sub.period_of_report == date(2024, 12, 31)
    assert sub.items == ["Periodic Filing of Rule 15Ga-1 Representations and Warranties Disclosure"]
    filer = party(sub, FILER)
    assert (filer.name, filer.irs_number) == ("VEROS CREDIT LLC", "273146015")  # from EIN:
    assert filer.business_address.street2 == "SUITE 400"
    assert sub.sec_act == "Dodd Frank Act"


def test_filed_for_upload_decodes_its_pdf_letter():
    sub = only(real("0000000000-24-003505.txt"))

    assert roles(sub) == [FILED_FOR]
    letter, extract = sub.documents
    assert (letter.kind, letter.filename) == (PDF, "filename1.pdf")
    assert letter.data.startswith(b"%PDF-")
    assert letter.text == ""
    assert extract.kind == TEXT and extract.data is None


@needs_corpus
def test_nc_and_txt_copies_of_one_filing_agree():
    nc = only(real("0001104659-25-002604.nc"))
    txt = only(real("0001104659-25-002604.txt"))

    assert nc.group_members == txt.group_members
    assert "CARL C. ICAHN" in nc.group_members and len(nc.group_members) == 6
    assert roles(nc) == roles(txt) == [SUBJECT_COMPANY, SUBJECT_COMPANY, FILED_BY]
    assert [(p.name, p.cik, p.file_number) for p in nc.parties] == [
        (p.name, p.cik, p.file_number) for p in txt.parties
    ]
    assert [d.text for d in nc.documents] == [d.text for d in txt.documents]


@needs_corpus
def test_sc13g_nc_has_subject_company_and_filed_by():
    sub = only(real("0001076809-24-000144.nc"))

    assert sub.form_type == "SC 13G"
    assert set(roles(sub)) == {SUBJECT_COMPANY, FILED_BY}
    assert party(sub, SUBJECT_COMPANY).name == "Avid Bioservices, Inc."


@needs_corpus
def test_items_come_as_numbers_from_tags_and_from_8k_titles():
    assert only(real("0000905729-24-000095-index-headers.html")).items == ["5.07"]
    assert only(real("0001493152-25-001317.nc")).items == ["5.02", "9.01"]
    assert only(real("0000072333-23-000015.txt")).items == ["5.02", "9.01"]


HEADER = """<SEC-DOCUMENT>0000000001-25-000001.txt : 20250108
<SEC-HEADER>0000000001-25-000001.hdr.sgml : 20250108
<ACCEPTANCE-DATETIME>20250108163015
ACCESSION NUMBER:\t\t0000000001-25-000001
CONFORMED SUBMISSION TYPE:\t8-K
PUBLIC DOCUMENT COUNT:\t\t1
CONFORMED PERIOD OF REPORT:\t20250106
ITEM INFORMATION:\t\tDeparture of Directors or Certain Officers; Election of Directors; \
Appointment of Certain Officers: Compensatory Arrangements of Certain Officers
ITEM INFORMATION:\t\tOther Events
ITEM INFORMATION:\t\tSomething EDGAR added later
FILED AS OF DATE:\t\t20250108
GROUP MEMBERS:\t\tJANE DOE
GROUP MEMBERS:\t\tJOHN ROE
<MULTI-ACCESSION-NUMBERS>
ACCESSION NUMBER:\t\t0000000009-25-000009
</MULTI-ACCESSION-NUMBERS>

FILER:

\tCOMPANY DATA:\t
\t\tCOMPANY CONFORMED NAME:\t\t\tEXAMPLE CORP
\t\tCENTRAL INDEX KEY:\t\t\t0000000001
\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\tSERVICES-PREPACKAGED SOFTWARE [7372]

\tFILING VALUES:
\t\tFORM TYPE:\t\t8-K
\t\tSEC ACT:\t\t1934 Act
\t\tSEC FILE NUMBER:\t001-00001
\t\tFILM NUMBER:\t\t25500001
<SERIES-AND-CLASSES-CONTRACTS-DATA>
<EXISTING-SERIES-AND-CLASSES-CONTRACTS>
<SERIES>
<OWNER-CIK>0000000077
<SERIES-NAME>Not A Company
<CIK>0000000077
</SERIES>
</EXISTING-SERIES-AND-CLASSES-CONTRACTS>
</SERIES-AND-CLASSES-CONTRACTS-DATA>
</SEC-HEADER>
<DOCUMENT>
<TYPE>8-K
<SEQUENCE>1
<FILENAME>ex.htm
<TEXT>
<html><body>Body</body></html>
</TEXT>
</DOCUMENT>
</SEC-DOCUMENT>
"""


def test_header_items_group_members_and_tag_blocks_are_read_right():
    sub = only(HEADER.encode())

    assert sub.accession_number == "0000000001-25-000001"  # not the multi-accession one
    assert sub.accepted_at == datetime(2025, 1, 8, 16, 30, 15)
    assert sub.items == ["5.02", "8.01", "Something EDGAR added later"]
    assert sub.group_members == ["JANE DOE", "JOHN ROE"]
    (filer,) = sub.parties
    assert (filer.name, filer.cik) == ("EXAMPLE CORP", 1)  # the series block's CIK ignored
    assert (filer.sic_code, filer.sic_description) == ("7372", "SERVICES-PREPACKAGED SOFTWARE")
    assert (sub.sec_act, sub.file_number, sub.film_number) == ("1934 Act", "001-00001", "25500001")
    assert sub.documents[0].kind == HTML
    assert sub.warnings == []


# ---------------------------------------------------------------------------------------
# Documents and their kinds
# ---------------------------------------------------------------------------------------


def test_uuencoded_jpeg_is_decoded_to_jpeg_bytes():
    sub = only(real("0001104659-26-017097.txt"))

    letter, graphic = sub.documents
    assert letter.kind == HTML
    assert (graphic.type, graphic.kind) == ("GRAPHIC", IMAGE)
    assert graphic.filename == "tm266190d3_corresp-img01.jpg"
    assert graphic.data[:3] == b"\xff\xd8\xff"
    assert graphic.data.rstrip(b"\0").endswith(b"\xff\xd9")
    assert graphic.text == ""
    assert graphic.size == len(graphic.data)


def _uuencode(payload: bytes, name: str) -> bytes:
    lines = [f"begin 644 {name}".encode()]
    for i in range(0, len(payload), 45):
        lines.append(binascii.b2a_uu(payload[i : i + 45]).rstrip(b"\n"))
    lines += [b"`", b"end"]
    return b"\n".join(lines) + b"\n"


def _wrap(documents: list[bytes], accession="0000000001-25-000002") -> bytes:
    head = (
        f"<SEC-DOCUMENT>{accession}.txt : 20250101\n<SEC-HEADER>{accession}.hdr.sgml\n"
        f"ACCESSION NUMBER:\t\t{accession}\nCONFORMED SUBMISSION TYPE:\t8-K\n"
        f"PUBLIC DOCUMENT COUNT:\t\t{len(documents)}\nFILED AS OF DATE:\t\t20250101\n"
        "</SEC-HEADER>\n"
    ).encode()
    return head + b"".join(documents) + b"</SEC-DOCUMENT>\n"


def _doc(seq, type_, filename, body: bytes) -> bytes:
    meta = f"<DOCUMENT>\n<TYPE>{type_}\n"
    if seq is not None:
        meta += f"<SEQUENCE>{seq}\n"
    meta += f"<FILENAME>{filename}\n<TEXT>\n"
    return meta.encode() + body + b"</TEXT>\n</DOCUMENT>\n"


def test_uuencoded_zip_is_decoded_to_a_readable_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("R1.htm", "<html>cover</html>" * 50)
    payload = buffer.getvalue()
    sub = only(_wrap([_doc(1, "ZIP", "x-xbrl.zip", _uuencode(payload, "x-xbrl.zip"))]))

    (doc,) = sub.documents
    assert doc.kind == BINARY
    assert doc.data == payload
    assert zipfile.ZipFile(io.BytesIO(doc.data)).read("R1.htm").startswith(b"<html>cover")


@needs_corpus
def test_real_uuencoded_zip_starts_with_pk():
    sub = only(real("0000943374-24-000509.txt"))
    (zipped,) = [d for d in sub.documents if d.type == "ZIP"]
    assert zipped.kind == BINARY
    assert zipped.data.startswith(b"PK\x03\x04")


def test_uuencode_lines_padded_or_cut_short_still_decode():
    payload = bytes(range(256)) * 4
    encoded = _uuencode(payload, "p.gif").split(b"\n")
    encoded[1] = encoded[1] + b"   xx"  # padded with garbage
    encoded[2] = encoded[2].rstrip(b" ")  # trailing zero-bits eaten
    body = b"\n".join(encoded)
    sub = only(_wrap([_doc(1, "GRAPHIC", "p.gif", body)]))

    assert sub.documents[0].data == payload
    assert sub.documents[0].kind == IMAGE


def test_binary_filename_falls_back_to_the_begin_line():
    body = _uuencode(b"GIF89a" + b"\0" * 40, "logo.gif")
    doc = _doc(1, "GRAPHIC", "", body).replace(b"<FILENAME>\n", b"")
    sub = only(_wrap([doc]))

    assert sub.documents[0].filename == "logo.gif"
    assert sub.documents[0].data.startswith(b"GIF89a")


def test_inline_xbrl_without_closing_wrapper_and_pdc_mismatch_are_reported():
    sub = only(real("0001564590-20-004475-minimal.txt"))

    main, exhibit = sub.documents
    assert main.kind == IXBRL
    assert main.text.startswith("<?xml")
    assert "<XBRL>" not in main.text
    assert exhibit.kind == HTML
    assert exhibit.sequence == 2  # written "<SEQUENCE>2  "
    assert any("pdc-mismatch" in w and "160" in w for w in sub.warnings)


def test_body_mentioning_document_tags_stays_one_document():
    body = b"Attach the following:\n<DOCUMENT>\n<TYPE>EX-99\nand close with </DOCUMENT> later.\n"
    sub = only(_wrap([_doc(1, "8-K", "a.txt", body), _doc(2, "EX-1", "b.txt", b"two\n")]))

    assert [d.type for d in sub.documents] == ["8-K", "EX-1"]
    assert sub.documents[0].text == body.decode()


def test_missing_sequence_gets_the_next_free_number_with_a_warning():
    docs = [
        _doc(1, "8-K", "a.htm", b"<html>a</html>\n"),
        _doc(None, "EX-99", "b.htm", b"<html>b</html>\n"),
        _doc("x", "EX-98", "c.htm", b"<html>c</html>\n"),
        _doc(3, "EX-97", "d.htm", b"<html>d</html>\n"),
    ]
    sub = only(_wrap(docs))

    assert [d.sequence for d in sub.documents] == [1, 2, 4, 3]
    assert sum("no usable <SEQUENCE>" in w for w in sub.warnings) == 2


# ---------------------------------------------------------------------------------------
# Whole files that are malformed, repeated, concatenated or headerless
# ---------------------------------------------------------------------------------------


def test_truncated_file_keeps_what_is_there_and_warns():
    data = real("0000014272-95-000007.txt")
    cut = data[: data.index(b"<TYPE>EX-27") + 400]
    sub = only(cut)

    assert [d.type for d in sub.documents] == ["10-Q", "EX-27"]
    assert sub.documents[1].text
    assert "truncated: document 2 (EX-27) has no </DOCUMENT>" in sub.warnings
    assert "truncated: no </IMS-DOCUMENT>" in sub.warnings


@needs_corpus
def test_real_truncated_file_warns_about_its_last_document():
    sub = only(real("0000320193-97-000011.txt"))
    assert len(sub.documents) == 6
    assert "truncated: document 6 (EX-27) has no </DOCUMENT>" in sub.warnings


def test_same_submission_twice_is_one_filing_with_distinct_documents():
    data = real("0000014272-95-000007.txt")
    sub = only(data + data)

    assert len(sub.documents) == 2
    assert any("2 times" in w for w in sub.warnings)
    assert sub.raw == data + data


@needs_corpus
def test_real_repeated_submission_has_seven_distinct_documents():
    sub = only(real("0000320193-96-000023.txt"))
    assert [d.sequence for d in sub.documents] == [1, 2, 3, 4, 5, 6, 7]
    assert sub.warnings


def test_two_different_submissions_in_one_file_are_both_returned():
    first = real("0000014272-95-000007.txt")
    second = real("0001127602-25-004598.nc")
    subs = parse(first + second, "concatenated.txt")

    assert [s.accession_number for s in subs] == ["0000014272-95-000007", "0001127602-25-004598"]
    assert [len(s.documents) for s in subs] == [2, 1]
    assert subs[0].raw == first and subs[1].raw == second


def test_truncated_submission_followed_by_another_does_not_swallow_it():
    first = real("0000014272-95-000007.txt")
    first = first[: first.index(b"<TYPE>EX-27") + 200]
    second = real("0000320193-99-000010.txt")
    subs = parse(first + b"\n" + second)

    assert [s.accession_number for s in subs] == ["0000014272-95-000007", "0000320193-99-000010"]
    assert [len(s.documents) for s in subs] == [2, 1]
    assert "PRIVACY" not in subs[0].documents[1].text
    assert any("truncated" in w for w in subs[0].warnings)


def test_lf_crlf_and_cr_line_endings_parse_the_same():
    lf = real("0000014272-95-000007.txt").replace(b"\r\n", b"\n")
    results = [only(lf.replace(b"\n", ending)) for ending in (b"\n", b"\r\n", b"\r")]

    first = results[0]
    for sub in results[1:]:
        assert sub.parties == first.parties
        assert sub.period_of_report == first.period_of_report
        assert [d.text for d in sub.documents] == [d.text for d in first.documents]
    assert "\r" not in first.documents[0].text


def test_stray_cp1252_byte_decodes_without_crashing():
    data = real("0000014272-95-000007.txt")
    data = data.replace(b"BRISTOL-MYERS SQUIBB COMPANY", b"BRISTOL\x96MYERS SQUIBB COMPANY", 1)
    sub = only(data)

    assert "BRISTOL\u2013MYERS SQUIBB COMPANY" in sub.documents[0].text


def test_utf8_body_is_decoded_as_utf8():
    body = "<html>Soci\u00e9t\u00e9 G\u00e9n\u00e9rale \u2014 \u20ac5</html>\n".encode()
    sub = only(_wrap([_doc(1, "8-K", "a.htm", body)]))
    assert "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale \u2014 \u20ac5" in sub.documents[0].text


@pytest.mark.parametrize(
    "name",
    [
        "0001234567-24-000001.txt",
        "000123456724000001.txt",
        "edgar/data/1234567/0001234567-24-000001-0001.htm",
    ],
)
def test_document_only_file_takes_its_accession_from_the_name(name):
    data = b"<DOCUMENT>\n<TYPE>SC 13G/A\n<SEQUENCE>1\n<FILENAME>a.txt\n<TEXT>\nHello\n</TEXT>\n"
    data += b"</DOCUMENT>\n"
    sub = only(data, name)

    assert sub.accession_number == "0001234567-24-000001"
    assert sub.dialect == "document-only"
    assert sub.form_type == "SC 13G/A"
    assert [(d.type, d.kind, d.text) for d in sub.documents] == [("SC 13G/A", TEXT, "Hello\n")]


def test_raw_html_without_tags_is_a_document_only_filing():
    sub = only(b"<html><body><p>Hi</p></body></html>", "0001234567-24-000001-0001.htm")

    assert [d.kind for d in sub.documents] == [HTML]
    assert sub.documents[0].sequence == 1


def test_document_only_file_without_accession_is_refused():
    data = b"<DOCUMENT>\n<TYPE>10-K\n<TEXT>\n<html>x</html>\n</TEXT>\n</DOCUMENT>\n"
    with pytest.raises(SubmissionError, match="no accession number in the header or the file"):
        parse(data, "d10k.txt")


def test_empty_input_is_refused():
    with pytest.raises(SubmissionError, match="empty"):
        parse(b"  \r\n ", "0001234567-24-000001.txt")


def test_big_file_is_parsed_quickly():
    line = b"M" + b"A" * 60 + b"\n"
    body = b"begin 644 big.zip\n" + line * 60000 + b"`\nend\n"
    html = b"<html>" + b"<p>text &amp; more</p>\n" * 100000 + b"</html>\n"
    data = _wrap([_doc(1, "8-K", "a.htm", html), _doc(2, "ZIP", "big.zip", body)])
    assert len(data) > 5_000_000
    started = time.perf_counter()
    sub = only(data)
    elapsed = time.perf_counter() - started

    assert len(sub.documents[1].data) == 45 * 60000
    assert elapsed < 1.0, f"{len(data) / elapsed / 1e6:.1f} MB/s"


def test_envelope_quoted_at_line_start_inside_a_body_does_not_split_the_document():
    quoted = (
        b"The prior filing read:\n"
        b"-----BEGIN PRIVACY-ENHANCED MESSAGE-----\nProc-Type: 2001,MIC-CLEAR\n"
        b"<SEC-DOCUMENT>0000000009-99-000009.txt : 19990101\n"
        b"<SEC-HEADER>0000000009-99-000009.hdr.sgml : 19990101\n"
        b"ACCESSION NUMBER:\t\t0000000009-99-000009\n"
        b"and so on.\n"
    )
    data = _wrap([_doc(1, "10-K", "a.txt", quoted), _doc(2, "EX-99", "b.txt", b"two\n")])
    sub = only(data)

    assert sub.accession_number == "0000000001-25-000002"
    assert [d.type for d in sub.documents] == ["10-K", "EX-99"]
    assert sub.documents[0].text == quoted.decode()
    assert sub.warnings == []


HOSTILE = {
    "one long line of spaces": b"<SEC-HEADER>\nACCESSION NUMBER: 0000000001-25-000001\nA"
    + b" " * 1_000_000,
    "endless unclosed containers": b"<SEC-HEADER>\nACCESSION NUMBER: 0000000001-25-000001\n"
    + b"<FOO>\n" * 170_000,
    "close tags mid-line": _wrap(
        [b"<DOCUMENT>\n<TEXT>\n" + b"x</DOCUMENT>y" * 80_000], "0000000001-25-000001"
    ),
    "envelope starts without headers": b"<SEC-DOCUMENT>\n" * 70_000,
    "repeated envelopes": b"<SUBMISSION>\n<ACCESSION-NUMBER>0000000001-25-000001\n" * 20_000,
    "metadata without text": _wrap([b"<DOCUMENT>\n" + b"<X>y\n" * 200_000], "0000000001-25-000001"),
    "random bytes": bytes(range(256)) * 4000,
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_parsed_in_linear_time(data):
    started = time.perf_counter()
    subs = parse(data, "0000000001-25-000001.txt")
    elapsed = time.perf_counter() - started

    assert subs[0].accession_number == "0000000001-25-000001"
    assert elapsed < 5.0  # quadratic behaviour on 1 MB would take minutes


@pytest.mark.parametrize("name", ["0001127602-25-004598.nc", "0001104659-23-069855.txt"])
def test_leading_byte_order_mark_does_not_hide_the_envelope(name):
    plain = only(real(name))
    marked = only(b"\xef\xbb\xbf" + real(name))

    assert (marked.dialect, marked.accession_number) == (plain.dialect, plain.accession_number)
    assert marked.parties == plain.parties
    assert len(marked.documents) == len(plain.documents)


# ---------------------------------------------------------------------------------------
# Every party block, whatever its tag; SIC codes as 1990s headers wrote them
# ---------------------------------------------------------------------------------------


def test_sic_line_with_a_bare_number_keeps_its_code():
    sub = only(real("0000014272-94-000003.txt"))  # STANDARD INDUSTRIAL CLASSIFICATION:\t2834

    filer = party(sub, FILER)
    assert (filer.name, filer.cik) == ("BRISTOL MYERS SQUIBB CO", 14272)
    assert (filer.sic_code, filer.sic_description) == ("2834", "")


def _indented_party(role_line: bytes, name: bytes, cik: bytes) -> bytes:
    return (
        role_line
        + b"\n\n\tCOMPANY DATA:\t\n\t\tCOMPANY CONFORMED NAME:\t\t\t"
        + name
        + b"\n\t\tCENTRAL INDEX KEY:\t\t\t"
        + cik
        + b"\n\n\tBUSINESS ADDRESS:\t\n"
        b"\t\tCITY:\t\t\tNEW YORK\n\n"
    )


def test_indented_header_keeps_every_block_with_company_data_as_a_party():
    data = real("0000320193-99-000002.txt")
    extra = (
        _indented_party(b"UNDERWRITER:", b"GOLDMAN SACHS & CO", b"0000769993")
        + _indented_party(b"ISSUING_ENTITY:", b"SOME TRUST 1999-1", b"0000900001")
        + _indented_party(b"FILED FOR:", b"SOMEONE ELSE INC", b"0000900002")
    )
    sub = only(data.replace(b"</SEC-HEADER>", extra + b"</SEC-HEADER>"))

    assert sub.dialect == "sec-header"
    assert roles(sub) == [FILER, "underwriter", "issuing-entity", FILED_FOR]
    filer, underwriter, trust, _ = sub.parties
    assert (filer.name, filer.cik, filer.mail_address.city) == (
        "APPLE COMPUTER INC",
        320193,
        "CUPERTINO",
    )
    assert (underwriter.name, underwriter.cik) == ("GOLDMAN SACHS & CO", 769993)
    assert underwriter.business_address.city == "NEW YORK"
    assert underwriter.mail_address is None
    assert (trust.name, trust.cik) == ("SOME TRUST 1999-1", 900001)


def test_nc_header_keeps_every_tag_holding_company_or_owner_data_as_a_party():
    data = real("0001127602-25-004598.nc")
    data = data.replace(b"ISSUER>", b"ISSUING_ENTITY>")
    underwriter = (
        b"<UNDERWRITER>\r<COMPANY-DATA>\r<CONFORMED-NAME>UNDERWRITING LLC\r<CIK>0000900003\r"
        b"</COMPANY-DATA>\r</UNDERWRITER>\r<FILED-FOR>\r<OWNER-DATA>\r<CONFORMED-NAME>A PERSON\r"
        b"<CIK>0000900004\r</OWNER-DATA>\r</FILED-FOR>\r"
        b"<SERIES-AND-CLASSES-CONTRACTS-DATA>\r<CIK>0000000077\r</SERIES-AND-CLASSES-CONTRACTS-DATA>\r"
    )
    data = data.replace(b"<DOCUMENT>", underwriter + b"<DOCUMENT>", 1)
    sub = only(data)

    assert roles(sub) == [REPORTING_OWNER, "issuing-entity", "underwriter", FILED_FOR]
    owner, issuer, underwriter, filed_for = sub.parties
    assert (issuer.name, issuer.cik, issuer.sic_code) == ("ARROW ELECTRONICS, INC.", 7536, "5065")
    assert [f.changed_on for f in issuer.former_names] == [date(2022, 11, 17), date(1992, 7, 3)]
    assert (underwriter.name, underwriter.cik) == ("UNDERWRITING LLC", 900003)
    assert (filed_for.name, filed_for.cik) == ("A PERSON", 900004)
    assert owner.mail_address.city == "CENTENNIAL"


def test_role_from_an_unknown_tag_fits_the_role_column():
    data = real("0001127602-25-004598.nc")
    tag = b"SOME-VERY_LONG-ROLE-NAME-THAT-EDGAR-MIGHT-INVENT-ONE-DAY"
    data = data.replace(b"<ISSUER>", b"<" + tag + b">").replace(b"</ISSUER>", b"</" + tag + b">")
    sub = only(data)

    assert roles(sub)[1] == "some-very-long-role-name-that-ed"


def test_unknown_block_without_company_data_is_not_a_party():
    sub = only(HEADER.replace("FILER:\n", "UNDERWRITER:\n\tNOTE:\tnone\nFILER:\n").encode())
    assert roles(sub) == [FILER]


# ---------------------------------------------------------------------------------------
# Hostile values: only the parser's own error, never a half-stored filing
# ---------------------------------------------------------------------------------------


def _header(*lines: str, documents: list[bytes] | None = None) -> bytes:
    head = "\n".join(lines)
    return (
        (
            "<SEC-DOCUMENT>0000000001-25-000001.txt : 20250101\n"
            "<SEC-HEADER>0000000001-25-000001.hdr.sgml : 20250101\n"
            f"ACCESSION NUMBER:\t\t0000000001-25-000001\n{head}\n</SEC-HEADER>\n"
        ).encode("cp1252")
        + b"".join(documents or [])
        + b"</SEC-DOCUMENT>\n"
    )


def test_unicode_digits_are_not_numbers():
    # "\xb2" is one byte in cp1252: "2" written as a superscript.
    data = _header(
        "PUBLIC DOCUMENT COUNT:\t\t\xb2",
        "FILED AS OF DATE:\t\t2025010\xb2",
        "FILER:",
        "\tCOMPANY DATA:",
        "\t\tCOMPANY CONFORMED NAME:\tEXAMPLE CORP",
        "\t\tCENTRAL INDEX KEY:\t\t000000001\xb2",
        documents=[_doc("\xb2", "8-K", "a.htm", b"<html>a</html>\n")],
    )
    sub = only(data)

    assert (sub.public_document_count, sub.filed_on, sub.parties[0].cik) == (None, None, None)
    assert sub.documents[0].sequence == 1
    assert "PUBLIC DOCUMENT COUNT '\u00b2' is not a usable count; ignored" in sub.warnings
    assert "CENTRAL INDEX KEY '000000001\u00b2' is not a CIK; ignored" in sub.warnings
    assert "FILED AS OF DATE '2025010\u00b2' is not a usable date; ignored" in sub.warnings
    assert "document 1 (8-K) has no usable <SEQUENCE>; numbered 1" in sub.warnings


def test_arabic_indic_digits_are_no_date_and_no_accession_number():
    digits = "\u0662\u0660\u0662\u0665\u0660\u0661\u0660\u0668"  # 20250108
    data = (
        f"<SEC-DOCUMENT>\n<SEC-HEADER>\nACCESSION NUMBER:\t\t{digits}00-25-000001\n"
        f"CONFORMED SUBMISSION TYPE:\t8-K\nFILED AS OF DATE:\t{digits}\n"
        f"ACCEPTANCE-DATETIME:\t{digits}163015\n</SEC-HEADER>\n</SEC-DOCUMENT>\n"
    ).encode()

    with pytest.raises(SubmissionError, match="no accession number"):
        parse(data, "upload.txt")
    sub = only(data, "0000000001-25-000001.txt")
    assert sub.accession_number == "0000000001-25-000001"
    assert (sub.filed_on, sub.accepted_at) == (None, None)


def test_numbers_longer_than_python_converts_are_dropped_with_a_warning():
    huge = "9" * 5000  # int() refuses more than 4,300 digits
    data = _header(
        f"PUBLIC DOCUMENT COUNT:\t{huge}",
        "FILER:",
        "\tCOMPANY DATA:",
        f"\t\tCENTRAL INDEX KEY:\t{huge}",
        documents=[_doc(huge, "8-K", "a.htm", b"<html>a</html>\n")],
    )
    sub = only(data)

    assert (sub.public_document_count, sub.parties[0].cik) == (None, None)
    assert sub.documents[0].sequence == 1
    assert any(w.startswith("CENTRAL INDEX KEY '9999") and len(w) < 100 for w in sub.warnings)


@pytest.mark.parametrize(
    ("cik", "kept"),
    [
        ("0000000000", None),  # CIK 0 is no company: its page would not exist
        ("9223372036854775809", None),  # over 2^63
        ("12345678901", None),  # eleven digits
        ("9999999999", 9999999999),
        ("00000000000000000320193", 320193),  # zero-padded beyond ten digits
    ],
)
def test_cik_must_be_a_ten_digit_number_above_zero(cik, kept):
    sub = only(_header("<FILER>", "<COMPANY-DATA>", f"<CIK>{cik}", "</COMPANY-DATA>", "</FILER>"))

    assert sub.parties[0].cik == kept
    assert (f"CIK '{cik}' is not a CIK; ignored" in sub.warnings) == (kept is None)


@pytest.mark.parametrize(
    "line",
    [
        "ACCEPTANCE-DATETIME:\t99991231235959",  # overflows once made timezone-aware
        "ACCEPTANCE-DATETIME:\t20250132000000",
        "ACCEPTANCE-DATETIME:\t20250101250000",
        "FILED AS OF DATE:\t99991231",
        "FILED AS OF DATE:\t18991231",
        "FILED AS OF DATE:\t00000000",
        "CONFORMED PERIOD OF REPORT:\t22000101",
        "EFFECTIVENESS DATE:\t00010101",
    ],
)
def test_out_of_range_dates_and_times_are_dropped_with_a_warning(line):
    key, value = line.split(":\t")
    sub = only(_header(line))

    dates = [sub.accepted_at, sub.filed_on, sub.period_of_report, sub.effective_on]
    assert dates == [None] * 4
    (warning,) = sub.warnings
    assert warning.startswith(f"{key.replace('-', ' ')} '{value}' is not a usable")


def test_the_first_usable_date_is_kept():
    sub = only(_header("FILED AS OF DATE:\t99991231", "FILED AS OF DATE:\t20250101"))
    assert sub.filed_on == date(2025, 1, 1)


def test_former_name_with_an_impossible_date_keeps_its_name():
    sub = only(
        _header(
            "FILER:",
            "\tCOMPANY DATA:",
            "\t\tCENTRAL INDEX KEY:\t1",
            "\tFORMER COMPANY:",
            "\t\tFORMER CONFORMED NAME:\tOLD NAME",
            "\t\tDATE OF NAME CHANGE:\t18000101",
        )
    )

    assert [(f.name, f.changed_on) for f in sub.parties[0].former_names] == [("OLD NAME", None)]
    assert sub.warnings == ["DATE OF NAME CHANGE '18000101' is not a usable date; ignored"]


def test_dates_at_the_bounds_are_kept():
    sub = only(_header("ACCEPTANCE-DATETIME:\t19000101000000", "FILED AS OF DATE:\t21991231"))

    assert (sub.accepted_at, sub.filed_on) == (datetime(1900, 1, 1), date(2199, 12, 31))
    assert sub.warnings == []


def test_documents_sharing_a_sequence_are_renumbered_and_all_kept():
    docs = [
        _doc(1, "8-K", "a.htm", b"<html>a</html>\n"),
        _doc(2, "EX-99.1", "b.htm", b"<html>b</html>\n"),
        _doc(2, "EX-99.2", "c.htm", b"<html>c</html>\n"),
        _doc(1, "EX-99.3", "d.htm", b"<html>d</html>\n"),
        _doc(None, "EX-99.4", "e.htm", b"<html>e</html>\n"),
        _doc(1, "8-K", "a.htm", b"<html>a</html>\n"),  # an exact repeat: dropped
    ]
    sub = only(_wrap(docs))

    assert [(d.sequence, d.filename) for d in sub.documents] == [
        (1, "a.htm"),
        (2, "b.htm"),
        (3, "c.htm"),
        (4, "d.htm"),
        (5, "e.htm"),
    ]
    assert "document 3 (EX-99.2) repeats <SEQUENCE> 2; numbered 3" in sub.warnings
    assert "document 4 (EX-99.3) repeats <SEQUENCE> 1; numbered 4" in sub.warnings
    assert "dropped 1 repeated document(s)" in sub.warnings


def test_sequence_beyond_the_column_is_renumbered():
    docs = [_doc(1, "8-K", "a.htm", b"<html>a</html>\n"), _doc(2**40, "EX-1", "b.htm", b"b\n")]
    sub = only(_wrap(docs))

    assert [d.sequence for d in sub.documents] == [1, 2]
    assert "document 2 (EX-1) has no usable <SEQUENCE>; numbered 2" in sub.warnings


def test_warnings_are_capped_and_keep_the_last_ones():
    docs = [_doc(None, f"EX-{i}", f"{i}.txt", b"x\n") for i in range(500)]
    sub = only(_wrap(docs).replace(b"COUNT:\t\t500", b"COUNT:\t\t1"))

    assert len(sub.warnings) == 100
    assert "... and 402 more warnings like these" in sub.warnings
    assert sub.warnings[-1].startswith("pdc-mismatch")


# Sized so that the quadratic code these replaced would take minutes (measured before
# the fixes: 100,000 item lines 279 s, 40,000 group members 52 s; 10,000 look-alike
# documents 10 s, 10,000 distinct warnings 2.3 s, 10,000 index-headers parties 6 s);
# linear code takes a second or two. The bound only catches a hang on a busy machine.
LINEAR_BOUND = 20.0


def _timed_parse(data: bytes):
    started = time.perf_counter()
    (sub,) = parse(data, "0000000001-25-000001.txt")
    return sub, time.perf_counter() - started


def test_many_distinct_item_lines_are_read_in_linear_time():
    lines = [f"ITEM INFORMATION:\t\tItem number {i}" for i in range(100_000)]
    sub, elapsed = _timed_parse(_header(*lines, "ITEM INFORMATION:\tOther Events"))

    assert len(sub.items) == 100_001
    assert sub.items[:2] == ["Item number 0", "Item number 1"] and sub.items[-1] == "8.01"
    assert elapsed < LINEAR_BOUND


def test_many_distinct_group_members_are_read_in_linear_time():
    lines = [f"GROUP MEMBERS:\t\tMEMBER  {i}" for i in range(100_000)]
    sub, elapsed = _timed_parse(_header(*lines, "GROUP MEMBERS:\tMEMBER 7"))

    assert len(sub.group_members) == 100_000
    assert sub.group_members[7] == "MEMBER 7"
    assert elapsed < LINEAR_BOUND


def test_many_look_alike_documents_are_deduplicated_in_linear_time():
    # Same number, type, name and length: only the last bytes tell them apart.
    body = b"a" * 1000
    docs = [_doc(1, "EX-1", "x.txt", body + b"%06d\n" % i) for i in range(40_000)]
    sub, elapsed = _timed_parse(_wrap(docs + docs[:10], "0000000001-25-000001"))

    assert len(sub.documents) == 40_000
    assert len({d.sequence for d in sub.documents}) == 40_000
    assert elapsed < LINEAR_BOUND


def test_many_documents_with_repeated_or_missing_numbers_are_numbered_in_linear_time():
    docs = [_doc(1 if i % 2 else None, f"EX-{i}", "x.txt", b"x\n") for i in range(100_000)]
    sub, elapsed = _timed_parse(_wrap(docs, "0000000001-25-000001"))

    assert [d.sequence for d in sub.documents[:4]] == [2, 1, 3, 4]
    assert len({d.sequence for d in sub.documents}) == 100_000
    assert elapsed < LINEAR_BOUND


def test_many_distinct_warnings_are_gathered_in_linear_time():
    docs = [
        f"<DOCUMENT>\n<TYPE>EX-{i}\n<SEQUENCE>{i + 1}\n<TEXT>\nx\n</DOCUMENT>\n".encode()
        for i in range(100_000)
    ]
    sub, elapsed = _timed_parse(_wrap(docs, "0000000001-25-000001"))

    assert len(sub.documents) == 100_000
    assert sub.warnings[0] == "truncated: document 1 (EX-0) has no </TEXT>"
    assert elapsed < LINEAR_BOUND


def test_index_headers_page_with_many_parties_is_read_in_linear_time():
    n = 50_000
    tagged = b"".join(
        b"<FILER>\n<COMPANY-DATA>\n<CIK>%d\n<ASSIGNED-SIC>7372\n</COMPANY-DATA>\n</FILER>\n" % i
        for i in range(1, n + 1)
    )
    indented = b"".join(
        b"FILER:\n\tCOMPANY DATA:\n\t\tCENTRAL INDEX KEY:\t%d\n"
        b"\t\tSTANDARD INDUSTRIAL CLASSIFICATION:\tSOFTWARE [7372]\n" % i
        for i in range(1, n + 1)
    )
    data = (
        b"<html><body><!--\n<SEC-HEADER>\n<ACCESSION-NUMBER>0000000001-25-000001\n"
        + tagged
        + b"</SEC-HEADER>\n-->\n<PRE>\n&lt;SEC-HEADER&gt;\n"
        + indented
        + b"&lt;/SEC-HEADER&gt;\n</PRE></body></html>\n"
    )
    sub, elapsed = _timed_parse(data)

    assert len(sub.parties) == n
    assert sub.parties[-1].sic_description == "SOFTWARE"
    assert elapsed < LINEAR_BOUND
