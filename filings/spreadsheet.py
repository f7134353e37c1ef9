"""CSV that a spreadsheet opens as data, never as formulas.

Every CSV the product writes (search results, insider transactions, a zip's manifest, a
job's report) holds text chosen by whoever made a filing or an archive: a company name,
a description or a file name such as `=HYPERLINK("http://...")` would run as a formula
when the file is opened in Excel or LibreOffice. `writer()` is `csv.writer` with every
text cell that starts as a formula starts (`=`, `+`, `-`, `@`, tab, carriage return)
prefixed by an apostrophe, which spreadsheets read as "this is text" and do not show.
Numbers written as text ("-100", "+2.5") are left as they are.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def cell(value):
    """The value as a CSV cell a spreadsheet will not run."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class _Writer:
    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row):
        # `cell` only for the text that starts as a formula would: a call per value
        # was a tenth of a CSV export's profiled time.
        return self._writer.writerow([
            cell(v) if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(file, **options) -> _Writer:
    """`csv.writer(file)` whose rows go through `cell`."""
    return _Writer(file, **options)


STREAM_CHUNK = 64 * 1024  # characters sent at a time: a row at a time is a write each


def stream(rows: Iterable[list], chunk: int = STREAM_CHUNK) -> Iterator[str]:
    """The rows as CSV text, written by `writer`, in pieces of about `chunk` characters:
    for a StreamingHttpResponse, whose server sends each piece it is given."""
    buffer = io.StringIO()
    out = writer(buffer)
    for row in rows:
        out.writerow(row)
        if buffer.tell() >= chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
