"""PDF documents' text: read at ingest in a bounded child process (filings.pdftext), stored
as the document's text, shown escaped beside the download with hits marked; a broken or
hostile PDF is a warning on the filing."""
import re
import time

import pytest

from filings import pdftext
from filings import submission as sub
from filings.ingest import rederive
from filings.models import Document, Filing
from tests.builders import balloon_pdf, pdf_bytes, submission_with_pdfs
from tests.conftest import corpus_file

APPLE_LETTER = "0000000000-24-003505"  # SEC comment letter: a 2-page PDF + its text extract
ATS_N = "0001675365-19-000012"  # Form ATS-N: XML + two uuencoded PDF schedules


def pdfs_of(name):
    data = corpus_file(name).read_bytes()
    return [d for s in sub.parse(data, name) for d in s.documents if d.kind == sub.PDF]


# --- Extraction, no Django -----------------------------------------------------------------


def test_real_comment_letter_pdf_gives_its_text_in_reading_order():
    [letter] = pdfs_of(f"{APPLE_LETTER}.txt")
    result = pdftext.extract(letter.data)
    assert result.error == ""
    assert result.pages == 2
    assert result.text.startswith("United States securities and exchange commission logo\n"
                                  "April 2, 2024\nLuca Maestri\n")
    assert "Dear Luca Maestri:" in result.text
    assert "Division of Corporation Finance\nOffice of Technology" in result.text
    assert "\n\n" not in result.text


def test_real_ats_n_schedules_hold_words_found_nowhere_else_in_the_filing():
    schedule_a, schedule_b = pdfs_of(f"{ATS_N}.txt")
    a, b = pdftext.extract(schedule_a.data), pdftext.extract(schedule_b.data)
    assert (a.error, b.error) == ("", "")
    assert "Direct Owners & Officers" in b.text
    assert "GALLINEK" in a.text.upper() and "GALLINEK" not in b.text.upper()


def test_garbage_and_truncated_pdfs_are_errors_not_exceptions():
    assert pdftext.extract(b"").error.startswith("not a readable PDF")
    assert pdftext.extract(b"%PDF-1.4\nnothing else").error.startswith("not a readable PDF")
    whole = pdf_bytes(["a line of text"])
    assert pdftext.extract(whole).text == "a line of text"
    cut = pdftext.extract(whole[: len(whole) // 2])
    assert cut.text == "" and cut.error.startswith("not a readable PDF")


def test_a_ballooning_pdf_is_stopped_by_the_wall_clock():
    started = time.monotonic()
    result = pdftext.extract(balloon_pdf(), timeout=1)
    assert time.monotonic() - started < 5
    assert result.text == ""
    assert result.error == "reading the PDF took longer than 1 s; stopped"


def test_a_ballooning_pdf_is_stopped_by_its_cpu_limit():
    started = time.monotonic()
    result = pdftext.extract(balloon_pdf(), cpu_seconds=1)
    assert time.monotonic() - started < 10
    assert result.error == "reading the PDF took more than 1 s of CPU; stopped"


def test_a_ballooning_pdf_is_stopped_by_its_memory_limit():
    result = pdftext.extract(balloon_pdf(), memory_mb=120)
    assert result.text == ""
    assert "memory" in result.error, result.error


def test_text_is_cut_at_the_character_limit_with_a_reason():
    result = pdftext.extract(pdf_bytes([f"line {i:04d} of many" for i in range(40)], pages=3),
                             max_chars=1000)
    assert len(result.text) == 1000
    assert result.error == "text cut at 1,000 characters (page 2 of 3)"


def test_clean_drops_control_characters_blank_lines_and_lone_surrogates():
    assert pdftext.clean("a\x00b  \t c\n\n\x0c\n d\ud800e ") == "a b c\nd?e"


# --- Ingest, pages, re-derive ------------------------------------------------------------


ACCESSION = "0000999001-24-000001"
HOSTILE = "Reserve <script>alert(1)</script> <b>zanzibar</b> & sons"


@pytest.fixture
def pdf_filing(ingest_paths, tmp_path):
    path = tmp_path / f"{ACCESSION}.txt"
    path.write_bytes(submission_with_pdfs(ACCESSION, {
        "letter.pdf": pdf_bytes([HOSTILE, "Second line about zanzibar"]),
        "broken.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog",
    }))
    summary = ingest_paths(path)
    assert summary.failed == 0, [str(o) for o in summary.outcomes]
    return Filing.objects.get(accession_number=ACCESSION)


@pytest.mark.django_db
def test_a_broken_pdf_is_a_warning_and_the_rest_of_the_filing_is_stored(pdf_filing):
    docs = {d.sequence: d for d in pdf_filing.documents.all()}
    assert sorted(docs) == [1, 2, 3]
    assert docs[2].kind == "pdf" and docs[2].text == f"{HOSTILE}\nSecond line about zanzibar"
    assert docs[2].file  # the PDF itself is still stored and offered
    assert docs[3].kind == "pdf" and docs[3].text == "" and docs[3].html == ""
    assert docs[3].file
    [warning] = [w for w in pdf_filing.warnings if "PDF" in w]
    assert warning.startswith("document 3 (broken.pdf): PDF text not read: not a readable PDF")


def _pdf_with_a_nul_in_its_crypt_filter() -> bytes:
    """An encrypted PDF whose crypt filter is named /Ev#00il: pypdf's error names it with
    the NUL (PdfReadError: Crypt filter /Ev\x00il is missing from /CF ...)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
               b"<< /Filter /Standard /V 4 /R 4 /Length 128 /CF << >> /StmF /Ev#00il "
               b"/StrF /Ev#00il /O <00> /U <00> /P -1 >>"]
    out, offsets = b"%PDF-1.5\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + (b"trailer\n<< /Size 5 /Root 1 0 R /Encrypt 4 0 R /ID [<01> <01>] >>\n"
                  b"startxref\n%d\n%%%%EOF\n" % xref)


def test_a_reason_is_text_without_control_characters():
    result = pdftext.extract(_pdf_with_a_nul_in_its_crypt_filter())
    assert result.error.startswith("not a readable PDF (PdfReadError: Crypt filter /Ev")
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", result.error)


@pytest.mark.django_db
def test_a_pdf_whose_reason_held_a_nul_is_a_warning_on_a_stored_filing(ingest_paths, tmp_path):
    # PostgreSQL refuses NUL in the filing's warnings (jsonb): the whole filing failed.
    path = tmp_path / f"{ACCESSION}.txt"
    path.write_bytes(submission_with_pdfs(ACCESSION, {
        "nul.pdf": _pdf_with_a_nul_in_its_crypt_filter()}))
    summary = ingest_paths(path)
    assert summary.failed == 0, [str(o) for o in summary.outcomes]
    [warning] = [w for w in Filing.objects.get().warnings if "PDF" in w]
    assert "document 2 (nul.pdf): PDF text not read: not a readable PDF" in warning


@pytest.mark.django_db
def test_real_pdf_exhibits_are_stored_with_their_text(ingest_paths):
    ingest_paths(corpus_file(f"{ATS_N}.txt"))
    filing = Filing.objects.get(accession_number=ATS_N)
    texts = dict(filing.documents.filter(kind="pdf").values_list("filename", "text"))
    assert sorted(texts) == ["BofASFormBDScheduleA.pdf", "BofASFormBDScheduleB.pdf"]
    assert "GALLINEK" in texts["BofASFormBDScheduleA.pdf"].upper()
    assert not [w for w in filing.warnings if "PDF" in w]


@pytest.mark.django_db
def test_document_page_shows_the_pdf_text_escaped_beside_the_download(client, pdf_filing):
    html = client.get(f"/filings/{ACCESSION}/2/").content.decode()
    assert 'href="/filings/' in html and "letter.pdf</a>" in html  # the download link
    assert "Below is the text read from it" in html
    assert "Reserve &lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;zanzibar&lt;/b&gt; &amp; sons" \
        in html
    assert "<script>alert" not in html and "<b>zanzibar" not in html
    # The download block comes before the text.
    assert html.index("Download letter.pdf") < html.index("Second line about zanzibar")


@pytest.mark.django_db
def test_document_page_marks_the_hits_in_the_pdf_text(client, pdf_filing):
    html = client.get(f"/filings/{ACCESSION}/2/", {"q": "zanzibar"}).content.decode()
    marks = re.findall(r"<mark[^>]*>([^<]*)</mark>", html)
    assert [m.lower() for m in marks] == ["zanzibar", "zanzibar"]
    assert "2 hits for" in " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.django_db
def test_an_unreadable_pdf_page_says_no_text_was_read(client, pdf_filing):
    html = client.get(f"/filings/{ACCESSION}/3/").content.decode()
    assert "Download broken.pdf" in html
    assert "No text could be read from it" in html
    assert "data-es-document" not in html


@pytest.mark.django_db
def test_filing_page_with_a_pdf_first_shows_its_text(client, ingest_paths):
    ingest_paths(corpus_file(f"{APPLE_LETTER}.txt"))
    html = client.get(f"/filings/{APPLE_LETTER}/").content.decode()
    assert "Download filename1.pdf" in html
    assert "Dear Luca Maestri:" in html


@pytest.mark.django_db
def test_rederive_reads_the_text_of_pdfs_stored_before(ingest_paths):
    ingest_paths(corpus_file(f"{APPLE_LETTER}.txt"))
    # As a filing stored before PDFs were read holds it: no text.
    Document.objects.filter(kind="pdf").update(text="", html="", page_breaks=[])
    filing = Filing.objects.get(accession_number=APPLE_LETTER)
    [outcome] = rederive(filing)
    assert outcome.status == "updated"
    letter = filing.documents.get(sequence=1)
    assert letter.kind == "pdf" and "Dear Luca Maestri:" in letter.text


def test_a_submission_of_many_hostile_pdfs_is_bounded_in_all(monkeypatch):
    from filings import ingest

    monkeypatch.setattr(ingest, "PDF_SECONDS_PER_SUBMISSION", 2)
    data = submission_with_pdfs("0000999001-24-000002", {
        f"loop{n}.pdf": balloon_pdf() for n in range(1, 5)
    } | {"fine.pdf": pdf_bytes(["never read"])})
    started = time.monotonic()
    [prepared] = ingest.prepare_bytes(data, "many.txt")
    assert time.monotonic() - started < 8
    texts = [p.text for p in prepared.documents]
    assert texts == ["Cover page of a filing with PDF exhibits."] + [""] * 5
    warnings = [w for w in prepared.submission.warnings if "PDF" in w]
    assert warnings[0] == ("document 2 (loop1.pdf): PDF text not read: "
                           "reading the PDF took longer than 2 s; stopped")
    assert warnings[-1] == ("document 6 (fine.pdf): PDF text not read: "
                            "this submission's PDFs took 2 s already")
    assert len(warnings) == 5
