"""Every CSV the product writes holds text from filings; none of it runs as a spreadsheet
formula (filings.spreadsheet)."""
import csv
import io
import zipfile

import pytest
from django.utils.safestring import mark_safe

from filings import spreadsheet

ACCESSION = "9999999999-26-000077"
FORMULA = '=HYPERLINK("http://evil.example/","Click")'
SUBMISSION = f"""<SEC-DOCUMENT>{ACCESSION}.txt : 20260105
<SEC-HEADER>{ACCESSION}.hdr.sgml : 20260105
ACCESSION NUMBER:		{ACCESSION}
CONFORMED SUBMISSION TYPE:	8-K
PUBLIC DOCUMENT COUNT:		1
FILED AS OF DATE:		20260105

FILER:

	COMPANY DATA:
		COMPANY CONFORMED NAME:			{FORMULA}
		CENTRAL INDEX KEY:			0009999977

	FILING VALUES:
		FORM TYPE:		8-K
		SEC FILE NUMBER:	-2+3
</SEC-HEADER>
<DOCUMENT>
<TYPE>8-K
<SEQUENCE>1
<FILENAME>@SUM(A1).txt
<DESCRIPTION>+cmd|' /C calc'!A0
<TEXT>
Zanzibarite quarterly results were announced today.
</TEXT>
</DOCUMENT>
</SEC-DOCUMENT>
"""


def test_cells_that_start_as_formulas_are_text():
    assert spreadsheet.cell(FORMULA) == "'" + FORMULA
    for value in ("+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet.cell(value) == "'" + value
    # Numbers written as text, other text and other types are left alone.
    for value in ("-100", "+2.5", "0.25", "Apple Inc.", "", 7, None):
        assert spreadsheet.cell(value) == value
    out = io.StringIO()
    spreadsheet.writer(out).writerow(["=1+1", "-5", "plain", mark_safe("@SUM(A1)"), 7, None])
    assert out.getvalue() == "'=1+1,-5,plain,'@SUM(A1),7,\r\n"


def test_a_stream_sends_rows_in_pieces_of_about_a_chunk_whole_rows_each():
    rows = [["=1+1", f"row {n}", "a,b", 'say "hi"\nthere'] for n in range(1000)]
    whole = io.StringIO()
    spreadsheet.writer(whole).writerows(rows)
    pieces = list(spreadsheet.stream(iter(rows), chunk=4096))
    assert "".join(pieces) == whole.getvalue()
    assert 5 < len(pieces) < 1000 / 10  # not a row at a time
    for piece in pieces:
        assert piece.endswith("\r\n") and len(piece) < 4096 + 100
        assert list(csv.reader(io.StringIO(piece)))  # each piece is whole rows
    assert list(spreadsheet.stream(iter([["only"]]))) == ["only\r\n"]
    assert list(spreadsheet.stream(iter([]))) == []


def _cells(text: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text)) for c in row]


@pytest.mark.django_db(transaction=True)
def test_search_csv_and_zip_manifest_hold_no_formulas(client, ingest_paths, tmp_path):
    path = tmp_path / f"{ACCESSION}.txt"
    path.write_text(SUBMISSION)
    summary = ingest_paths(path)
    assert summary.failed == 0, [str(o) for o in summary.outcomes]

    response = client.get("/search.csv", {"q": "zanzibarite"})
    cells = _cells(b"".join(response.streaming_content).decode())
    assert "'" + FORMULA in cells  # the company name, kept whole, as text
    assert "'+cmd|' /C calc'!A0" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]

    response = client.get("/search.zip", {"q": "zanzibarite"})
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        cells = _cells(archive.read("manifest.csv").decode())
    assert "'" + FORMULA in cells and "'@SUM(A1).txt" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
