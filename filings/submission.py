"""Parse EDGAR submissions (bytes in, plain dataclasses out). Pure Python: no Django.

Handles every dialect EDGAR has served: the indented SEC-HEADER, 1990s IMS-HEADER and
PEM wrappers, daily-feed `.nc` files, `.hdr.sgml` and `-index-headers.html` header files,
header fragments, and bare document-only files.
"""

from __future__ import annotations

import binascii
import bisect
import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from filings.items import item_number


class SubmissionError(ValueError):
    """The bytes are not a submission we can store. `reason` says why; the message
    names the file too."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}" if name else reason)
        self.reason = reason


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
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"parse() wants bytes, not {type(data).__name__}")
    label = name or "input"
    if not data.strip():
        raise SubmissionError(label, "the file is empty")
    return _Parser(data, name).run()


# --------------------------------------------------------------------------------------
# Small value parsers
# --------------------------------------------------------------------------------------

# Only ASCII digits are digits: `\d` and str.isdigit() also accept "²" (one 0xB2 byte in
# a cp1252 file) and Arabic-Indic digits, which EDGAR never writes and int() refuses or
# reads as numbers nobody filed.
_ACCESSION_RE = re.compile(r"(?<![0-9])([0-9]{10})-?([0-9]{2})-?([0-9]{6})(?![0-9])")

# Ranges a stored value must fall in; a header value outside is dropped with a warning.
MAX_CIK = 9_999_999_999  # EDGAR CIKs have at most ten digits
MAX_SEQUENCE = 999_999  # renumbering adds at most one per document: stays in 32 bits
MAX_DOCUMENT_COUNT = 2_147_483_647  # the largest value a PositiveIntegerField holds
# EDGAR began in 1993 and nothing it dates lies centuries ahead; the bounds keep
# nonsense dates out of sorting and facets, and year 9999 from overflowing when a
# datetime is made timezone-aware.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def _accession(value: str) -> str:
    """Dashed accession number from a dashed or undashed spelling, or ""."""
    m = _ACCESSION_RE.search(value or "")
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else ""


def _accession_from_name(name: str) -> str:
    if not name:
        return ""
    base = re.split(r"[\\/]", name)[-1]
    return _accession(base) or _accession(name)


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _date(value: str) -> date | None:
    """A YYYYMMDD date between EARLIEST_DATE and LATEST_DATE, or None."""
    v = value.strip()[:8]
    if len(v) == 8 and _digits(v):
        try:
            d = date(int(v[:4]), int(v[4:6]), int(v[6:8]))
        except ValueError:
            return None
        return d if EARLIEST_DATE <= d <= LATEST_DATE else None
    return None


def _datetime(value: str) -> datetime | None:
    """A YYYYMMDDhhmmss time (or a bare date) within the date bounds, or None."""
    v = value.strip()
    if len(v) >= 14 and _digits(v[:14]):
        d = _date(v[:8])
        if d is None:
            return None
        try:
            return datetime(d.year, d.month, d.day, int(v[8:10]), int(v[10:12]), int(v[12:14]))
        except ValueError:
            return None
    d = _date(v)
    return datetime(d.year, d.month, d.day) if d else None


def _int(value: str, maximum: int) -> int | None:
    """A whole number written in ASCII digits, if it is at most `maximum`; else None.
    The length is checked first: int() refuses strings of over 4,300 digits."""
    v = value.strip()
    if not _digits(v):
        return None
    v = v.lstrip("0") or "0"
    if len(v) > len(str(maximum)):
        return None
    n = int(v)
    return n if n <= maximum else None


def _shown(value: str) -> str:
    """A value quoted in a warning, cut short: warnings are stored and shown."""
    v = " ".join(value[:200].split())
    return repr(v if len(v) <= 40 else v[:40] + "...")


def _decode(raw: bytes) -> str:
    """UTF-8, else cp1252, else latin-1 (which never fails); without NUL characters,
    which no EDGAR text means and PostgreSQL's text columns refuse (a NUL in a header
    value or a text document failed the whole filing there)."""
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _lines(text: str) -> str:
    """Normalise CRLF and bare CR line endings to LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _item(value: str) -> str:
    """An item number as written ("5.02"), or the number for a known 8-K item title,
    or the text as EDGAR wrote it."""
    v = " ".join(value.split())
    return item_number(v) or v


# --------------------------------------------------------------------------------------
# Header parsing (indented `KEY: value` lines and `<TAG>value` lines, freely mixed)
# --------------------------------------------------------------------------------------

# Keys normalised to upper case with single spaces for "-" (tags) and whitespace runs.
_PARTY_ROLES = {
    "FILER": FILER,
    "SUBJECT COMPANY": SUBJECT_COMPANY,
    "FILED BY": FILED_BY,
    "REPORTING OWNER": REPORTING_OWNER,
    "ISSUER": ISSUER,
    "FILED FOR": FILED_FOR,
    "SERIAL COMPANY": SERIAL_COMPANY,
    "DEPOSITOR": DEPOSITOR,
    "SECURITIZER": SECURITIZER,
}
_SECTIONS = {
    "COMPANY DATA": "company",
    "OWNER DATA": "company",
    "FILING VALUES": "values",
    "BUSINESS ADDRESS": "business",
    "MAIL ADDRESS": "mail",
    "FORMER COMPANY": "former",
    "FORMER NAME": "former",
}
_PARTY_FIELDS = {
    "COMPANY CONFORMED NAME": "name",
    "CONFORMED NAME": "name",
    "CENTRAL INDEX KEY": "cik",
    "CIK": "cik",
    "STANDARD INDUSTRIAL CLASSIFICATION": "sic",
    "ASSIGNED SIC": "sic_code",
    "IRS NUMBER": "irs_number",
    "EIN": "irs_number",
    "STATE OF INCORPORATION": "state_of_incorporation",
    "FISCAL YEAR END": "fiscal_year_end",
}
_VALUE_FIELDS = {
    "FORM TYPE": "form_type",
    "SEC ACT": "act",
    "ACT": "act",
    "SEC FILE NUMBER": "file_number",
    "FILE NUMBER": "file_number",
    "FILM NUMBER": "film_number",
}
_ADDRESS_FIELDS = {
    "STREET 1": "street1",
    "STREET1": "street1",
    "STREET 2": "street2",
    "STREET2": "street2",
    "CITY": "city",
    "STATE": "state",
    "ZIP": "zip",
    "PHONE": "phone",
    "BUSINESS PHONE": "phone",
}
_FORMER_FIELDS = {
    "FORMER CONFORMED NAME": "name",
    "DATE CHANGED": "changed_on",
    "DATE OF NAME CHANGE": "changed_on",
}
_TOP_FIELDS = {
    "ACCESSION NUMBER": "accession_number",
    "CONFORMED SUBMISSION TYPE": "form_type",
    "TYPE": "form_type",
    "PUBLIC DOCUMENT COUNT": "public_document_count",
    "CONFORMED PERIOD OF REPORT": "period_of_report",
    "PERIOD": "period_of_report",
    "ITEM INFORMATION": "items",
    "ITEMS": "items",
    "FILED AS OF DATE": "filed_on",
    "FILING DATE": "filed_on",
    "DATE AS OF CHANGE": "date_of_change",
    "DATE OF FILING DATE CHANGE": "date_of_change",
    "ACCEPTANCE DATETIME": "accepted_at",
    "EFFECTIVENESS DATE": "effective_on",
    "GROUP MEMBERS": "group_members",
}
_KNOWN_KEYS = frozenset().union(
    _PARTY_ROLES,
    _SECTIONS,
    _PARTY_FIELDS,
    _VALUE_FIELDS,
    _ADDRESS_FIELDS,
    _FORMER_FIELDS,
    _TOP_FIELDS,
)

_TAG_LINE = re.compile(r"<(/?)([A-Za-z0-9][A-Za-z0-9_.-]*)>(.*)")
_KEY_NAME = re.compile(r"[A-Z][A-Z0-9 \t./&()'_-]*")
_SIC_RE = re.compile(r"\[\s*([0-9]*)\s*\]\s*$")
# The sections that make a block a party, whatever the block's tag.
_PARTY_DATA = frozenset(("COMPANY DATA", "OWNER DATA"))
_ROLE_LENGTH = 32  # FilingParty.role's max_length


def _key(raw: str) -> str:
    return " ".join(raw.replace("-", " ").replace("_", " ").upper().split())


def _role(key: str) -> str:
    """The stored role of a party block: known roles keep their names; any other tag
    (UNDERWRITER, ISSUING_ENTITY...) becomes its words in lower case joined by "-"."""
    known = _PARTY_ROLES.get(key)
    if known:
        return known
    role = "-".join(re.findall(r"[a-z0-9]+", key.lower()))
    return role[:_ROLE_LENGTH].rstrip("-") or FILER


@dataclass
class _Header:
    """What a header says; `Submission` fields are filled from it."""

    accession_number: str = ""
    form_type: str = ""
    public_document_count: int | None = None
    period_of_report: date | None = None
    filed_on: date | None = None
    date_of_change: date | None = None
    accepted_at: datetime | None = None
    effective_on: date | None = None
    # Dicts as ordered sets: a membership test per line stays cheap for 100,000 lines.
    items: dict[str, None] = field(default_factory=dict)
    group_members: dict[str, None] = field(default_factory=dict)
    sec_act: str = ""
    file_number: str = ""
    film_number: str = ""
    parties: list[Party] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    found: bool = False  # at least one header fact was recognised


def _opens_party_data(lines: list[str], i: int) -> bool:
    """True when the first non-blank line from `i` opens COMPANY DATA or OWNER DATA,
    which makes the block just opened a party, whatever its tag."""
    n = len(lines)
    while i < n and not lines[i]:
        i += 1
    if i == n:
        return False
    m = _TAG_LINE.match(lines[i])
    if m:
        closing, name, value = m.group(1), m.group(2), m.group(3)
        if closing:
            return False
    else:
        name, colon, value = lines[i].partition(":")
        if not colon:
            return False
    return not value.strip() and _key(name) in _PARTY_DATA


def _parse_header(text: str) -> _Header:
    """Parse header lines; unknown lines and tags are ignored, never fatal."""
    h = _Header()
    lines = [line.strip() for line in _lines(text).split("\n")]
    # Where each closing tag occurs, so unknown containers can be skipped in one step.
    closers: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if line.startswith("</"):
            m = _TAG_LINE.match(line)
            if m:
                closers.setdefault(m.group(2).upper(), []).append(i)

    party: Party | None = None
    party_key = ""  # the key of the block that opened `party`
    section = ""
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if not line:
            continue
        m = _TAG_LINE.match(line)
        if m:
            closing, tag, value = m.group(1), m.group(2).upper(), m.group(3).strip()
            key = _key(tag)
            if closing:
                if key in _PARTY_ROLES or (party is not None and key == party_key):
                    party, section = None, ""
                elif key in _SECTIONS:
                    section = ""
                continue
            if not value:
                if key in _PARTY_ROLES or (key not in _KNOWN_KEYS and _opens_party_data(lines, i)):
                    party, party_key, section = Party(role=_role(key)), key, ""
                    h.parties.append(party)
                    h.found = True
                    continue
                if key in _SECTIONS:
                    party, section = _enter_section(h, party, key)
                    continue
                if key not in _TOP_FIELDS and key not in _PARTY_FIELDS:
                    # An unknown container (series and classes, multi-accession lists...):
                    # skip to its closing tag when it has one.
                    ends = closers.get(tag, [])
                    j = bisect.bisect_left(ends, i)
                    if j < len(ends):
                        i = ends[j] + 1
                    continue
        else:
            name, colon, value = line.partition(":")
            if not colon or not _KEY_NAME.fullmatch(name):
                continue
            key, value = _key(name), value.strip()
            if not value and (
                key in _PARTY_ROLES or (key not in _KNOWN_KEYS and _opens_party_data(lines, i))
            ):
                party, party_key, section = Party(role=_role(key)), key, ""
                h.parties.append(party)
                h.found = True
                continue
            if key in _SECTIONS and not value:
                party, section = _enter_section(h, party, key)
                continue
        party = _set_value(h, party, section, key, value)
    return h


def _enter_section(h: _Header, party: Party | None, key: str) -> tuple[Party, str]:
    if party is None:  # a fragment that starts inside a party: assume the filer
        party = Party(role=FILER)
        h.parties.append(party)
    h.found = True
    section = _SECTIONS[key]
    if section == "former":
        party.former_names.append(FormerName(name=""))
    return party, section


def _set_value(h: _Header, party: Party | None, section: str, key: str, value: str):
    if key in _TOP_FIELDS:
        _set_top(h, key, value)
        return party
    if key in _VALUE_FIELDS:
        attr = _VALUE_FIELDS[key]
        if party is None:
            top = {"act": "sec_act"}.get(attr, attr)
            if top != "form_type" and value and not getattr(h, top):
                setattr(h, top, value)
                h.found = True
        elif value:
            setattr(party, attr, value)
        return party
    if key in _PARTY_FIELDS:
        if party is None:
            party = Party(role=FILER)
            h.parties.append(party)
        h.found = True
        attr = _PARTY_FIELDS[key]
        if attr == "cik":
            party.cik = _int(value, MAX_CIK) or None
            if party.cik is None and value:
                # A CIK of 0 names no company (its company page would not exist).
                h.warnings.append(f"{key} {_shown(value)} is not a CIK; ignored")
        elif attr == "sic":
            bracket = value.rfind("[")
            m = _SIC_RE.match(value, bracket) if bracket >= 0 else None
            if m:
                party.sic_description, party.sic_code = value[:bracket].strip(), m.group(1)
            elif _digits(value):  # 1990s headers give the bare code
                party.sic_code = value
            else:
                party.sic_description = value
        elif attr == "sic_code":
            party.sic_code = value
        else:
            setattr(party, attr, value)
        return party
    if party is None:
        return party
    if key in _FORMER_FIELDS:
        # A name opens a new entry unless the entry opened by FORMER COMPANY: is unnamed.
        former = party.former_names[-1] if party.former_names else None
        if former is None or (_FORMER_FIELDS[key] == "name" and former.name):
            former = FormerName(name="")
            party.former_names.append(former)
        if _FORMER_FIELDS[key] == "name":
            former.name = value
        else:
            former.changed_on = _date(value)
            if former.changed_on is None and value:
                h.warnings.append(f"{key} {_shown(value)} is not a usable date; ignored")
        return party
    if key in _ADDRESS_FIELDS:
        attr = _ADDRESS_FIELDS[key]
        if section == "mail":
            if party.mail_address is None:
                party.mail_address = Address()
            address = party.mail_address
        else:
            if party.business_address is None:
                party.business_address = Address()
            address = party.business_address
        if value:
            setattr(address, attr, value)
    return party


def _set_top(h: _Header, key: str, value: str) -> None:
    if not value:
        return
    h.found = True
    attr = _TOP_FIELDS[key]
    if attr == "accession_number":
        if not h.accession_number:
            h.accession_number = _accession(value)
    elif attr == "form_type":
        if not h.form_type:
            h.form_type = value
    elif attr == "public_document_count":
        if h.public_document_count is None:
            h.public_document_count = _int(value, MAX_DOCUMENT_COUNT)
            if h.public_document_count is None:
                h.warnings.append(f"{key} {_shown(value)} is not a usable count; ignored")
    elif attr == "items":
        item = _item(value)
        if item:
            h.items[item] = None
    elif attr == "group_members":
        h.group_members[" ".join(value.split())] = None
    elif attr == "accepted_at":
        if h.accepted_at is None:
            h.accepted_at = _datetime(value)
            if h.accepted_at is None:
                h.warnings.append(f"{key} {_shown(value)} is not a usable time; ignored")
    elif getattr(h, attr) is None:
        setattr(h, attr, _date(value))
        if getattr(h, attr) is None:
            h.warnings.append(f"{key} {_shown(value)} is not a usable date; ignored")


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------

_HTML_EXT = {"htm", "html", "xhtml"}
_IMAGE_EXT = {"jpg", "jpeg", "gif", "png", "bmp", "tif", "tiff"}
_WRAPPER_RE = re.compile(rb"\s*<(XML|XBRL|PDF|JSON)>[ \t]*(?:\r\n|\r|\n)?")
_BEGIN_RE = re.compile(rb"[ \t\r\n]*begin[ \t]+[0-7]{3,4}[ \t]*([^\r\n]*)")
_HTML_SNIFF = re.compile(r"<(?:html|!doctype\s+html|head|body)[\s>]", re.IGNORECASE)
_META_RE = re.compile(r"<([A-Za-z-]+)>(.*)")


def _extension(filename: str) -> str:
    base = re.split(r"[\\/]", filename)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _uudecode(body: bytes) -> tuple[bytes, int]:
    """Decode uuencoded lines after the `begin` line; returns (data, bad line count).
    Tolerates padded, truncated and garbage lines."""
    out = []
    bad = 0
    lines = body.splitlines()
    for line in lines[1:]:  # lines[0] is the `begin` line
        stripped = line.strip()
        if stripped == b"end":
            break
        if not stripped:
            continue
        try:
            out.append(binascii.a2b_uu(line))
            continue
        except (binascii.Error, ValueError):
            pass
        expected = (((line[0] - 32) & 63) * 4 + 5) // 3
        try:
            out.append(binascii.a2b_uu(line[:expected]))
        except (binascii.Error, ValueError):
            try:  # characters outside the uuencode alphabet: map them to zero bits
                fixed = bytes(c if 32 <= c <= 96 else 32 for c in line[:expected])
                out.append(binascii.a2b_uu(fixed))
            except (binascii.Error, ValueError):
                bad += 1
            else:
                bad += 1
    return b"".join(out), bad


def _sniff_binary(payload: bytes, ext: str, wrapper: str) -> str:
    if payload.startswith(b"%PDF") or wrapper == "PDF" or ext == "pdf":
        return PDF
    if (
        payload.startswith(b"\xff\xd8")
        or payload.startswith(b"GIF8")
        or payload.startswith(b"\x89PNG")
        or payload.startswith(b"BM")
        or payload.startswith(b"II*\x00")
        or payload.startswith(b"MM\x00*")
        or ext in _IMAGE_EXT
    ):
        return IMAGE
    return BINARY


def _text_kind(text: str, ext: str, wrapper: str, doc_type: str) -> str:
    head = text[:4096].lstrip()
    looks_html = bool(_HTML_SNIFF.search(head))
    if wrapper == "XBRL":
        return IXBRL if looks_html or ext in _HTML_EXT else XBRL
    if wrapper == "XML":
        return XML
    if wrapper == "JSON" or ext == "json" or doc_type.upper() == "JSON":
        return JSON
    if ext in _HTML_EXT:
        return HTML
    if ext == "xsd":
        return XBRL
    if ext == "xml":
        return XBRL if doc_type.upper().startswith("EX-101") else XML
    if ext in ("css", "js"):
        return OTHER
    if looks_html:
        return HTML
    if ext == "txt":
        return TEXT
    if head.startswith("<?xml"):
        return XML
    if head[:1] in ("{", "[") and ext == "":
        return JSON if head[:1] == "{" or head[1:2] in ('"', "{", "[") else TEXT
    return TEXT


def _make_document(meta: dict[str, str], raw: bytes) -> tuple[Document, list[str]]:
    """A Document from its metadata and the bytes between <TEXT> and </TEXT>."""
    warnings: list[str] = []
    doc = Document(
        type=meta.get("TYPE", ""),
        filename=meta.get("FILENAME", ""),
        description=meta.get("DESCRIPTION", ""),
    )
    wrapper = ""
    content = raw
    m = _WRAPPER_RE.match(raw)
    if m:
        wrapper = m.group(1).decode("ascii")
        content = raw[m.end() :]
        closer = b"</" + m.group(1) + b">"
        end = content.rfind(closer)
        if end >= 0 and not content[end + len(closer) :].strip():
            content = content[:end]
    begin = _BEGIN_RE.match(content)
    if begin:
        if not doc.filename:
            doc.filename = begin.group(1).strip().replace(b"\x00", b"").decode("latin-1")
        payload, bad = _uudecode(content[begin.start() :].lstrip(b" \t\r\n"))
        if bad:
            warnings.append(f"{bad} bad uuencoded line(s) skipped")
        doc.data = payload
        doc.kind = _sniff_binary(payload, _extension(doc.filename), wrapper)
        return doc, warnings
    if wrapper == "PDF" or content.lstrip()[:5] == b"%PDF-":
        doc.data = content.strip(b"\r\n")
        doc.kind = PDF
        return doc, warnings
    doc.text = _lines(_decode(content))
    doc.kind = _text_kind(doc.text, _extension(doc.filename), wrapper, doc.type)
    return doc, warnings


# --------------------------------------------------------------------------------------
# The file-level scanner
# --------------------------------------------------------------------------------------

_BOM = "\xef\xbb\xbf"  # UTF-8 byte order mark, as latin-1 text
_PEM_BEGIN = "-----BEGIN PRIVACY-ENHANCED MESSAGE-----"
_START_TOKENS = {
    "<SEC-DOCUMENT>": "SEC-DOCUMENT",
    "<IMS-DOCUMENT>": "IMS-DOCUMENT",
    "<SUBMISSION>": "SUBMISSION",
    "<SEC-HEADER>": "SEC-HEADER",
    "<IMS-HEADER>": "IMS-HEADER",
    _PEM_BEGIN: "PEM",
}
_START_EVIDENCE = re.compile(
    r"<SEC-HEADER>|<IMS-HEADER>|<ACCESSION-NUMBER>|ACCESSION NUMBER:|<ACCEPTANCE-DATETIME>"
    r"|Proc-Type:|<TYPE>|CONFORMED SUBMISSION TYPE:"
)
_RANK = {"PEM": 0, "SEC-DOCUMENT": 1, "IMS-DOCUMENT": 1, "SUBMISSION": 1}  # headers: 2
_HEADER_END_RE = re.compile(
    r"</SEC-HEADER>|</IMS-HEADER>|<DOCUMENT>|</SUBMISSION>|</SEC-DOCUMENT>|</IMS-DOCUMENT>"
)
_ENVELOPE_END_RE = re.compile(
    r"</SEC-DOCUMENT>|</IMS-DOCUMENT>|</SUBMISSION>|-----END PRIVACY-ENHANCED MESSAGE-----"
)
_HEADER_SIGNAL = re.compile(
    r"[ \t]*(?:(?:ACCESSION NUMBER|CONFORMED SUBMISSION TYPE|PUBLIC DOCUMENT COUNT|"
    r"FILED AS OF DATE|FILER|SUBJECT COMPANY|FILED BY|REPORTING-OWNER|REPORTING OWNER|"
    r"ISSUER|FILED FOR|SERIAL COMPANY|DEPOSITOR|SECURITIZER|COMPANY DATA|OWNER DATA)[ \t]*:"
    r"|<(?:ACCESSION-NUMBER|ACCEPTANCE-DATETIME|TYPE|FILER|SUBJECT-COMPANY|REPORTING-OWNER|"
    r"ISSUER|FILED-BY|PUBLIC-DOCUMENT-COUNT|FILING-DATE|PRIVATE-TO-PUBLIC)>)"
)


@dataclass
class _Start:
    pos: int  # where the submission's bytes begin
    body: int  # where the header text begins (after the envelope lines)
    kinds: list[str]


@dataclass
class _Found:
    header: _Header
    documents: list[tuple[Document, int | None]]  # (document, sequence as written)
    warnings: list[str]
    dialect: str
    start: int
    end: int
    envelope_accession: str = ""


def _positions(text: str, token: str):
    """Every index of `token` in text (str.find is much faster than a regex scan)."""
    i = text.find(token)
    while i >= 0:
        yield i
        i = text.find(token, i + 1)


def _at_line_start(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] in "\r\n" or (i == 3 and text.startswith(_BOM))


def _search_line(pattern: re.Pattern, text: str, start: int, end: int):
    """First match of `pattern` in text[start:end] that begins a line."""
    while start < end:
        m = pattern.search(text, start, end)
        if m is None:
            return None
        if _at_line_start(text, m.start()):
            return m
        start = m.start() + 1
    return None


def _find_line(text: str, token: str, start: int, end: int) -> int:
    while True:
        i = text.find(token, start, end)
        if i < 0 or _at_line_start(text, i):
            return i
        start = i + 1


_EOL = re.compile(r"[\r\n]")


def _line_end(text: str, i: int) -> int:
    """Index just past the line terminator of the line containing i."""
    n = len(text)
    m = _EOL.search(text, i)
    j = m.start() if m else n
    if j < n and text[j] == "\r":
        j += 1
        if j < n and text[j] == "\n":
            j += 1
    elif j < n:
        j += 1
    return j


class _Parser:
    def __init__(self, data: bytes, name: str):
        self.data = data
        self.name = name
        self.label = name or "input"
        # latin-1 maps each byte to one character: string offsets are byte offsets.
        self.text = data.decode("latin-1")
        self.starts = self._find_starts()
        self.start_positions = [s.pos for s in self.starts]

    # ---- envelopes -------------------------------------------------------------------

    def _find_starts(self) -> list[_Start]:
        text = self.text
        found = sorted(
            (i, token)
            for token in _START_TOKENS
            for i in _positions(text, token)
            if _at_line_start(text, i)
        )
        candidates: list[tuple[int, int, str]] = []  # (pos, line end, kind)
        # Evidence that a start is a real envelope: a header line within the next few.
        # Found in one pass: a search per start cost 20 s on 800,000 repeated starts.
        evidence = [(m.start(), m.end(), m.group(0)) for m in _START_EVIDENCE.finditer(text)]
        evidence_starts = [e[0] for e in evidence]
        for i, token in found:
            kind = _START_TOKENS[token]
            end = _line_end(text, i + len(token))
            j = bisect.bisect_left(evidence_starts, end)
            if j == len(evidence) or evidence[j][1] > end + 400:
                continue
            if kind in ("SEC-HEADER", "IMS-HEADER") and evidence[j][2].endswith("HEADER>"):
                continue
            candidates.append((i, end, kind))
        if candidates:
            candidates = self._outside_documents(candidates)
        starts: list[_Start] = []
        for pos, end, kind in candidates:
            rank = _RANK.get(kind, 2)
            if starts:
                last = starts[-1]
                last_rank = _RANK.get(last.kinds[-1], 2)
                between = text[last.body : pos]
                if (
                    rank > last_rank
                    and "<DOCUMENT>" not in between
                    and ("</SEC-HEADER>" not in between and "</IMS-HEADER>" not in between)
                ):
                    last.kinds.append(kind)
                    last.body = end
                    continue
            starts.append(_Start(pos=pos, body=end, kinds=[kind]))
        return starts

    def _outside_documents(self, candidates):
        """Drop envelope starts quoted inside a document body: after a real start, the
        header ends (</SEC-HEADER>) or a <DOCUMENT> begins before any </DOCUMENT>."""
        text = self.text
        closes = list(_positions(text, "</DOCUMENT>"))
        opens = sorted(
            i
            for token in ("<DOCUMENT>", "</SEC-HEADER>", "</IMS-HEADER>")
            for i in _positions(text, token)
            if _at_line_start(text, i)
        )
        kept = []
        for candidate in candidates:
            end = candidate[1]
            c = bisect.bisect_left(closes, end)
            o = bisect.bisect_left(opens, end)
            if c < len(closes) and (o == len(opens) or closes[c] < opens[o]):
                continue
            kept.append(candidate)
        return kept

    def _next_start(self, pos: int) -> int:
        """Position of the first envelope start strictly after `pos` (or the end)."""
        j = bisect.bisect_right(self.start_positions, pos)
        return self.start_positions[j] if j < len(self.start_positions) else len(self.text)

    # ---- main ------------------------------------------------------------------------

    def run(self) -> list[Submission]:
        text = self.text
        head = text[:2048].lstrip().lower()
        if head.startswith(("<html", "<!doctype")) and "<sec-header>" in text[:65536].lower():
            found = self._index_headers()
            if found is not None:
                return self._finish([found])

        found_list: list[_Found] = []
        first = self.starts[0].pos if self.starts else len(text)
        if text[:first].strip():
            pre = self._headless(0, first, alone=not self.starts)
            if pre is not None:
                found_list.append(pre)
        pos = first
        for start in self.starts:
            if start.pos < pos:
                continue  # inside something already consumed
            found = self._envelope(start)
            found_list.append(found)
            pos = found.end
        # Each submission's bytes run to the next one's start.
        for a, b in zip(found_list, found_list[1:], strict=False):
            a.end = b.start
        if found_list:
            found_list[-1].end = len(text)
        return self._finish(found_list)

    def _index_headers(self) -> _Found | None:
        """An `-index-headers.html` page: the tagged header sits in an HTML comment and
        an HTML-escaped indented copy in a <PRE> block; the tagged one is primary, the
        indented one adds what tags lack (SIC descriptions)."""
        text = self.text
        tagged = None
        a = text.find("<!--")
        hs = text.find("<SEC-HEADER>", a) if a >= 0 else -1
        if hs >= 0:
            stop = text.find("-->", hs)
            he = text.find("</SEC-HEADER>", hs)
            if he < 0 or (0 <= stop < he):
                he = stop if stop >= 0 else len(text)
            tagged = _parse_header(_decode(self.data[hs:he]))
        indented = None
        pre = re.search(r"<PRE>(.*?)(?:</PRE>|$)", text, re.IGNORECASE | re.DOTALL)
        if pre:
            block = html.unescape(_decode(self.data[pre.start(1) : pre.end(1)]))
            hs2 = block.find("<SEC-HEADER>")
            if hs2 >= 0:
                he2 = block.find("</SEC-HEADER>", hs2)
                indented = _parse_header(block[hs2 : he2 if he2 >= 0 else len(block)])
        header = tagged if tagged is not None and tagged.found else indented
        if header is None or not header.found:
            return None
        if indented is not None and header is not indented:
            twins: dict[tuple, Party] = {}
            for p in indented.parties:
                twins.setdefault((p.role, p.cik), p)
            for party in header.parties:
                twin = twins.get((party.role, party.cik))
                if twin and not party.sic_description and twin.sic_code == party.sic_code:
                    party.sic_description = twin.sic_description
        return _Found(header, [], [], "index-headers", 0, len(text))

    def _headless(self, start: int, end: int, alone: bool) -> _Found | None:
        """Content before any envelope: a header fragment, bare documents or raw text."""
        text = self.text
        doc_at = _find_line(text, "<DOCUMENT>", start, end)
        header_end = doc_at if doc_at >= 0 else end
        header_text = text[start:header_end]
        lines = _lines(header_text.removeprefix(_BOM)).split("\n")
        first_line = next((ln for ln in lines if ln.strip()), "")
        header = _Header()
        if first_line and _HEADER_SIGNAL.match(first_line):
            header = _parse_header(_decode(self.data[start:header_end]))
        warnings: list[str] = []
        documents: list[tuple[Document, int | None]] = []
        if doc_at >= 0:
            self._documents(doc_at, end, documents, warnings)
        elif not header.found:
            if not alone:
                return None
            doc, w = _make_document({}, self.data[start:end])
            documents.append((doc, None))
            warnings.extend(w)
        if header.found:
            dialect = "fragment"
        else:
            dialect = "document-only"
        return _Found(header, documents, warnings, dialect, start, end)

    def _envelope(self, start: _Start) -> _Found:
        text = self.text
        bound = self._next_start(start.pos)
        envelope_line = text[start.pos : start.body]
        kinds = start.kinds
        if "IMS-DOCUMENT" in kinds or "IMS-HEADER" in kinds:
            dialect = "ims-header"
        elif "SUBMISSION" in kinds:
            dialect = "nc"
        elif "SEC-DOCUMENT" in kinds or "PEM" in kinds:
            dialect = "sec-header"
        else:
            dialect = "hdr-sgml"
        warnings: list[str] = []
        m = _search_line(_HEADER_END_RE, text, start.body, bound)
        header_end = m.start() if m else bound
        header = _parse_header(_decode(self.data[start.body : header_end]))
        pos = header_end
        if m and m.group(0) in ("</SEC-HEADER>", "</IMS-HEADER>"):
            pos = m.end()
        elif m is None and kinds[-1] in ("SEC-HEADER", "IMS-HEADER"):
            warnings.append(f"truncated: no </{kinds[-1]}>")
        documents: list[tuple[Document, int | None]] = []
        pos = self._documents(pos, bound, documents, warnings)
        opener = next((k for k in kinds if k in ("SEC-DOCUMENT", "IMS-DOCUMENT", "SUBMISSION")), "")
        if opener and _find_line(text, f"</{opener}>", pos, bound) < 0:
            # The close may sit right after the last </DOCUMENT> on the same line.
            if text.find(f"</{opener}>", pos, bound) < 0:
                warnings.append(f"truncated: no </{opener}>")
        found = _Found(header, documents, warnings, dialect, start.pos, bound)
        found.envelope_accession = _accession(envelope_line)
        return found

    def _documents(
        self,
        pos: int,
        bound: int,
        documents: list[tuple[Document, int | None]],
        warnings: list[str],
    ) -> int:
        """Parse <DOCUMENT> blocks from pos; returns where parsing stopped."""
        text = self.text
        while True:
            at = _find_line(text, "<DOCUMENT>", pos, bound)
            if at < 0:
                return pos
            pos = self._document(at + len("<DOCUMENT>"), bound, documents, warnings)

    def _doc_end(self, start: int, bound: int) -> int:
        """Index of the </DOCUMENT> closing the document whose metadata starts at
        `start`, or -1. It must begin a line or follow </TEXT>, or be followed by the
        next <DOCUMENT> or an envelope close."""
        text = self.text
        i = start
        while True:
            i = text.find("</DOCUMENT>", i, bound)
            if i < 0:
                return -1
            before = text[max(start, i - 64) : i].rstrip(" \t")
            if not before or before[-1] in "\r\n" or before.endswith("</TEXT>"):
                return i
            after = text[i + 11 : i + 11 + 64].lstrip()
            if not after or after.startswith(
                ("<DOCUMENT>", "</SEC-DOCUMENT>", "</SUBMISSION>", "</IMS-DOCUMENT>", "-----END")
            ):
                return i
            i += 1

    def _document(
        self,
        meta_start: int,
        bound: int,
        documents: list[tuple[Document, int | None]],
        warnings: list[str],
    ) -> int:
        text = self.text
        number = len(documents) + 1
        end = self._doc_end(meta_start, bound)
        closed = end >= 0
        if not closed:
            m = _search_line(_ENVELOPE_END_RE, text, meta_start, bound)
            end = m.start() if m else bound
        text_at = _find_line(text, "<TEXT>", meta_start, end)
        if text_at >= 0:
            meta_end = text_at
            body_start = _line_end(text, text_at + len("<TEXT>") - 1)
            # `<TEXT>` may be followed by content on the same line (CR-free blobs).
            if text[text_at + 6 : body_start].strip():
                body_start = text_at + 6
        else:
            # No <TEXT>: metadata is the run of tag lines; the body follows it.
            meta_end = body_start = self._meta_run_end(meta_start, end)
        meta: dict[str, str] = {}
        for line in _lines(_decode(self.data[meta_start:meta_end])).split("\n"):
            mm = _META_RE.match(line.strip())
            if mm:
                meta.setdefault(mm.group(1).upper(), mm.group(2).strip())
        body_end = text.rfind("</TEXT>", body_start, end)
        label = f"document {number} ({meta.get('TYPE') or 'untyped'})"
        if not closed:
            warnings.append(f"truncated: {label} has no </DOCUMENT>")
        if body_end < 0:
            body_end = end
            if text_at >= 0 and closed:
                warnings.append(f"truncated: {label} has no </TEXT>")
        doc, doc_warnings = _make_document(meta, self.data[body_start:body_end])
        warnings.extend(f"{label}: {w}" for w in doc_warnings)
        documents.append((doc, _int(meta.get("SEQUENCE", ""), MAX_SEQUENCE)))
        return end + len("</DOCUMENT>") if closed else end

    def _meta_run_end(self, start: int, end: int) -> int:
        text = self.text
        pos = start
        while pos < end:
            nxt = _line_end(text, pos)
            line = text[pos:nxt].strip()
            if line and not _META_RE.match(line):
                return pos
            if nxt == pos:
                break
            pos = nxt
        return min(pos, end)

    # ---- assembling ------------------------------------------------------------------

    def _finish(self, found_list: list[_Found]) -> list[Submission]:
        name_accession = _accession_from_name(self.name)
        for found in found_list:
            if not found.header.accession_number:
                found.header.accession_number = found.envelope_accession
        missing = [f for f in found_list if not f.header.accession_number]
        if missing and len(found_list) == 1 and name_accession:
            found_list[0].header.accession_number = name_accession
            found_list[0].warnings.append("accession number taken from the file name")
            missing = []
        found_list = [f for f in found_list if f.header.accession_number]
        if not found_list:
            raise SubmissionError(self.label, "no accession number in the header or the file name")
        # Group repeated copies of one submission.
        groups: dict[str, list[_Found]] = {}
        for found in found_list:
            groups.setdefault(found.header.accession_number, []).append(found)
        whole = len(groups) == 1
        submissions = []
        for accession, copies in groups.items():
            submissions.append(self._submission(accession, copies, whole))
        if missing and len(found_list) > 0:
            for sub in submissions:
                sub.warnings.append(
                    f"skipped {len(missing)} submission(s) in the file with no accession number"
                )
        return submissions

    def _submission(self, accession: str, copies: list[_Found], whole: bool) -> Submission:
        first = copies[0]
        h = first.header
        sub = Submission(
            accession_number=accession,
            form_type=h.form_type,
            public_document_count=h.public_document_count,
            period_of_report=h.period_of_report,
            filed_on=h.filed_on,
            date_of_change=h.date_of_change,
            accepted_at=h.accepted_at,
            effective_on=h.effective_on,
            items=list(h.items),
            group_members=list(h.group_members),
            sec_act=h.sec_act,
            file_number=h.file_number,
            film_number=h.film_number,
            parties=list(h.parties),
            dialect=first.dialect,
        )
        for party in sub.parties:
            if party.business_address is not None and party.business_address.is_empty():
                party.business_address = None
            if party.mail_address is not None and party.mail_address.is_empty():
                party.mail_address = None
            party.former_names = [f for f in party.former_names if f.name]
        for attr in ("sec_act", "file_number", "film_number"):
            if not getattr(sub, attr):
                source = "act" if attr == "sec_act" else attr
                value = next((getattr(p, source) for p in sub.parties if getattr(p, source)), "")
                setattr(sub, attr, value)
        if not sub.form_type:
            sub.form_type = next((p.form_type for p in sub.parties if p.form_type), "")
        # A dict as an ordered set: one membership test per warning stays cheap.
        seen_warnings = dict.fromkeys(h.warnings)
        for found in copies:
            seen_warnings.update(dict.fromkeys(found.warnings))
        warnings = list(seen_warnings)
        # Documents: drop exact repeats (hashed: comparing each with its look-alikes was
        # quadratic), then number the unnumbered and the repeated numbers.
        seen: set[tuple] = set()
        kept: list[tuple[Document, int | None]] = []
        dropped = 0
        for found in copies:
            for doc, seq in found.documents:
                identity = (seq, doc.type, doc.filename, doc.data, doc.text)
                if identity in seen:
                    dropped += 1
                    continue
                seen.add(identity)
                kept.append((doc, seq))
        seen.clear()
        if len(copies) > 1:
            warnings.append(
                f"the file holds this submission {len(copies)} times; "
                f"kept {len(kept)} distinct documents"
            )
        elif dropped:
            warnings.append(f"dropped {dropped} repeated document(s)")
        numbers = _Numbers(seq for _, seq in kept if seq is not None)
        taken: set[int] = set()
        previous = 0
        for number, (doc, seq) in enumerate(kept, 1):
            label = f"document {number} ({doc.type or 'untyped'})"
            if seq is None:
                seq = numbers.take(previous + 1)
                warnings.append(f"{label} has no usable <SEQUENCE>; numbered {seq}")
            elif seq in taken:
                # Two documents may not share a number in a filing: the later one moves.
                new = numbers.take(previous + 1)
                warnings.append(f"{label} repeats <SEQUENCE> {seq}; numbered {new}")
                seq = new
            taken.add(seq)
            doc.sequence = seq
            previous = seq
            sub.documents.append(doc)
        if not sub.form_type and sub.documents:
            sub.form_type = sub.documents[0].type
        sub.header_only = not sub.documents and h.found
        if (
            sub.public_document_count is not None
            and not sub.header_only
            and sub.public_document_count != len(sub.documents)
        ):
            warnings.append(
                f"pdc-mismatch: the header says {sub.public_document_count} documents, "
                f"found {len(sub.documents)}"
            )
        if not sub.documents and not h.found:
            warnings.append("no header and no documents")
        sub.warnings = _capped(warnings)
        if whole:
            sub.raw = self.data
        else:
            sub.raw = self.data[copies[0].start : copies[-1].end]
        return sub


class _Numbers:
    """Hands out unused document numbers: the smallest free one at or after a start.
    Runs of used numbers are jumped in one step once walked (path compression), so
    numbering many documents never walks the same run twice."""

    def __init__(self, used):
        self.used = set(used)
        self.skip: dict[int, int] = {}  # a used number -> a later number to try

    def take(self, start: int) -> int:
        walked = []
        n = start
        while n in self.used:
            walked.append(n)
            n = self.skip.get(n, n + 1)
        for m in walked:
            self.skip[m] = n
        self.used.add(n)
        return n


MAX_WARNINGS = 100


def _capped(warnings: list[str]) -> list[str]:
    """At most MAX_WARNINGS warnings, keeping the first and the last (the file-level
    ones come last): they are stored with the filing and shown on its page."""
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    head, tail = MAX_WARNINGS - 11, 10
    hidden = len(warnings) - head - tail
    return [*warnings[:head], f"... and {hidden} more warnings like these", *warnings[-tail:]]
