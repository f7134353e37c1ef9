"""Parse EDGAR submissions (bytes in, plain dataclasses out). Pure Python: no Django.

Handles every dialect EDGAR has served: the indented SEC-HEADER, 1990s IMS-HEADER and
PEM wrappers, daily-feed `.nc` files, `.hdr.sgml` and `-index-headers.html` header files,
header fragments, and bare document-only files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


class SubmissionError(ValueError):
    """The bytes are not a submission we can store (the message says why)."""


# Party roles, as stored (`filings.models.Role` mirrors these values).
FILER = "filer"
SUBJECT_COMPANY = "subject-company"
FILED_BY = "filed-by"
REPORTING_OWNER = "reporting-owner"
ISSUER = "issuer"
FILED_FOR = "filed-for"
SERIAL_COMPANY = "serial-company"
DEPOSITOR = "depositor"
SECURITIZER = "securitizer"

# Document kinds, as stored (`filings.models.Kind` mirrors these values).
HTML = "html"
IXBRL = "ixbrl"  # inline XBRL: an HTML document inside <XBRL>
TEXT = "text"
XML = "xml"
XBRL = "xbrl"  # XBRL instance, schema or linkbase
JSON = "json"
PDF = "pdf"
IMAGE = "image"
BINARY = "binary"  # other decoded uuencoded content: zip, xlsx, ...
OTHER = "other"


@dataclass
class Address:
    street1: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    phone: str = ""

    def is_empty(self) -> bool:
        return not any(vars(self).values())


@dataclass
class FormerName:
    name: str
    changed_on: date | None = None


@dataclass
class Party:
    role: str
    name: str = ""
    cik: int | None = None
    sic_code: str = ""
    sic_description: str = ""
    irs_number: str = ""
    state_of_incorporation: str = ""
    fiscal_year_end: str = ""  # MMDD as EDGAR writes it
    # filing values
    form_type: str = ""
    act: str = ""
    file_number: str = ""
    film_number: str = ""
    business_address: Address | None = None
    mail_address: Address | None = None
    former_names: list[FormerName] = field(default_factory=list)


@dataclass
class Document:
    type: str = ""
    sequence: int = 0
    filename: str = ""
    description: str = ""
    kind: str = OTHER
    # Text content for textual kinds (html, ixbrl, text, xml, xbrl, json, other).
    text: str = ""
    # Decoded bytes for binary kinds (uuencoded or PDF); None for textual kinds.
    data: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else len(self.text.encode("utf-8"))


@dataclass
class Submission:
    accession_number: str  # always dashed: 0000950123-21-002781
    form_type: str = ""
    public_document_count: int | None = None
    period_of_report: date | None = None
    filed_on: date | None = None
    date_of_change: date | None = None
    accepted_at: datetime | None = None  # naive, US/Eastern as EDGAR writes it
    effective_on: date | None = None
    items: list[str] = field(default_factory=list)
    group_members: list[str] = field(default_factory=list)
    sec_act: str = ""
    file_number: str = ""
    film_number: str = ""
    parties: list[Party] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Which envelope it came in: sec-header, ims-header, nc, hdr-sgml, index-headers,
    # fragment or document-only.
    dialect: str = ""
    # True when the source holds only the header (no documents by design).
    header_only: bool = False
    # The bytes of this submission as they stand in the source file.
    raw: bytes = b""


def parse(data: bytes, name: str = "") -> list[Submission]:
    """Every distinct submission in `data` (one file's bytes); `name` is the file's name,
    used to find an accession number for document-only files and in error messages.

    Raises SubmissionError when nothing storable is there.
    """
    raise NotImplementedError
