"""A NUL character in a submission's header values or text is dropped by the parser: no
EDGAR text means one, and PostgreSQL's text columns refuse it (the whole filing failed
there with "PostgreSQL text fields cannot contain NUL (0x00) bytes")."""
import pytest

from filings import submission as sub
from filings.models import Filing

pytestmark = pytest.mark.django_db

ACCESSION = "0000000001-26-000001"
SUBMISSION = (
    f"<SEC-DOCUMENT>{ACCESSION}.txt : 20260105\n<SEC-HEADER>{ACCESSION}.hdr.sgml : 20260105\n"
    f"ACCESSION NUMBER:\t\t{ACCESSION}\nCONFORMED SUBMISSION TYPE:\t8-K\n"
    "FILED AS OF DATE:\t\t20260105\n\nFILER:\n\n\tCOMPANY DATA:\n"
    "\t\tCOMPANY CONFORMED NAME:\t\t\tEvil\x00 Corp\n\t\tCENTRAL INDEX KEY:\t\t\t0000000001\n"
    "</SEC-HEADER>\n<DOCUMENT>\n<TYPE>8-K\n<SEQUENCE>1\n<FILENAME>re\x00port.txt\n"
    "<DESCRIPTION>Current\x00 report\n<TEXT>\nQuarterly\x00 results of the\x00 company.\n"
    "</TEXT>\n</DOCUMENT>\n<DOCUMENT>\n<TYPE>EX-99\n<SEQUENCE>2\n<TEXT>\n"
    "begin 644 pic\x00ture.gif\n#1TE&\n`\nend\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
).encode("latin-1")


def test_the_parser_drops_nul_characters():
    [found] = sub.parse(SUBMISSION, f"{ACCESSION}.txt")
    assert [p.name for p in found.parties] == ["Evil Corp"]
    first, second = found.documents
    assert (first.filename, first.description) == ("report.txt", "Current report")
    assert "Quarterly results of the company." in first.text
    assert second.filename == "picture.gif"
    assert "\x00" not in first.text + first.filename + second.filename


def test_a_filing_with_nul_characters_is_stored_on_every_database(ingest_paths, tmp_path):
    path = tmp_path / f"{ACCESSION}.txt"
    path.write_bytes(SUBMISSION)
    summary = ingest_paths(path)
    assert summary.failed == 0, [str(o) for o in summary.outcomes]
    filing = Filing.objects.get(accession_number=ACCESSION)
    assert list(filing.parties.values_list("name", flat=True)) == ["Evil Corp"]
    first, second = filing.documents.order_by("sequence")
    assert (first.filename, first.description) == ("report.txt", "Current report")
    assert "Quarterly results of the company." in first.text
    assert second.filename == "picture.gif"
