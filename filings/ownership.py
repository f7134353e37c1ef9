"""Insider transactions read from ownership reports (Forms 3, 4, 5 and amendments): the
rows of their non-derivative and derivative tables, one per transaction and reporting
owner, derived once at ingest (`filings.ingest`) and stored as `InsiderTransaction`s.

Pure Python + lxml (no Django): runs in ingest worker processes. The XML is parsed as
`filings.xmlview` parses it (no entities, no DTD, no network). Holdings (rows without a
transaction: all of a Form 3, the "owned" lines of a 4 or 5) are not transactions and
are left out; footnote references are kept as their ids ("F1 F2").
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from filings.xmlview import _parse, _text

NON_DERIVATIVE = "non-derivative"
DERIVATIVE = "derivative"

# What the columns hold: numbers past these are not numbers EDGAR's forms carry, and
# are stored as unknown (None) rather than refused by the database.
MAX_DIGITS = 24
DECIMAL_PLACES = 6
_LIMIT = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})")
_CIK = re.compile(r"^[0-9]{1,10}$")
# Rows kept from one submission's reports: each transaction is a row per reporting owner,
# so a crafted 0.5 MB report of 1,000 owners and 1,000 transactions made a million rows
# (300 MB, all stored). Real reports hold a few owners and at most some hundred rows.
MAX_ROWS = 10_000


@dataclass
class Transaction:
    document_sequence: int
    position: int  # the row's place in its document (tables in order, then owners)
    table: str  # NON_DERIVATIVE or DERIVATIVE
    owner_cik: int | None
    owner_name: str
    issuer_cik: int | None
    issuer_name: str
    trading_symbol: str
    security: str
    transaction_date: datetime.date | None
    code: str
    acquired_disposed: str  # A or D
    shares: Decimal | None
    price: Decimal | None
    owned_after: Decimal | None
    ownership: str  # D (direct) or I (indirect)
    nature: str  # of indirect ownership
    footnotes: str


def is_ownership_xml(text: str) -> bool:
    """Cheap test before parsing: only ownership reports hold this element."""
    return "<ownershipDocument" in (text or "")


def transactions(text: str, document_sequence: int = 0,
                 limit: int = MAX_ROWS) -> list[Transaction]:
    """The transactions of one ownership report's XML, in the form's order, each once per
    reporting owner. [] for XML that is no ownership report. Raises ValueError when the
    XML cannot be read at all, or would give more than `limit` rows (the caller makes it
    a warning on the filing)."""
    try:
        root = _parse(text)
    except Exception as exc:  # noqa: BLE001 - lxml raises several kinds
        raise ValueError(f"its XML cannot be read ({type(exc).__name__})") from exc
    if root is None or root.tag != "ownershipDocument":
        return []
    issuer = root.find("issuer")
    issuer_cik = _cik(_text(issuer, "issuerCik"))
    issuer_name = _text(issuer, "issuerName")[:255]
    symbol = _text(issuer, "issuerTradingSymbol")[:32]
    owners = [
        (_cik(_text(owner, "reportingOwnerId/rptOwnerCik")),
         _text(owner, "reportingOwnerId/rptOwnerName")[:255])
        for owner in root.findall("reportingOwner")
    ] or [(None, "")]
    tables = [(table, root.findall(path)) for table, path in (
        (NON_DERIVATIVE, "nonDerivativeTable/nonDerivativeTransaction"),
        (DERIVATIVE, "derivativeTable/derivativeTransaction"))]
    count = len(owners) * sum(len(elements) for _table, elements in tables)
    if count > limit:
        raise ValueError(f"it gives {count:,} rows ({len(owners):,} reporting owners times "
                         f"their transactions), more than the {limit:,} allowed")
    rows = []
    for table, elements in tables:
        for el in elements:
            values = dict(
                table=table,
                issuer_cik=issuer_cik,
                issuer_name=issuer_name,
                trading_symbol=symbol,
                security=_text(el, "securityTitle")[:255],
                transaction_date=_date(_text(el, "transactionDate")),
                code=_text(el, "transactionCoding/transactionCode")[:8],
                acquired_disposed=_text(
                    el, "transactionAmounts/transactionAcquiredDisposedCode")[:1].upper(),
                shares=_number(_text(el, "transactionAmounts/transactionShares")),
                price=_number(_text(el, "transactionAmounts/transactionPricePerShare")),
                owned_after=_number(
                    _text(el, "postTransactionAmounts/sharesOwnedFollowingTransaction")),
                ownership=_text(el, "ownershipNature/directOrIndirectOwnership")[:8].upper(),
                nature=_text(el, "ownershipNature/natureOfOwnership")[:255],
                footnotes=" ".join(dict.fromkeys(
                    f.get("id", "") for f in el.iter("footnoteId") if f.get("id")))[:255],
            )
            for owner_cik, owner_name in owners:
                rows.append(Transaction(document_sequence, len(rows), owner_cik=owner_cik,
                                        owner_name=owner_name, **values))
    return rows


def _cik(value: str) -> int | None:
    value = value.strip()
    if not _CIK.match(value) or int(value) == 0:  # ASCII digits only
        return None
    return int(value)


def _date(value: str) -> datetime.date | None:
    """2025-01-06, also with the time zone some reports append (2005-03-01-05:00)."""
    match = _DATE.match(value.strip())
    if not match:
        return None
    try:
        return datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _number(value: str) -> Decimal | None:
    """A figure as the form gives it ("1,000", "14.99"); None when it is no number, or
    one past what the columns hold."""
    value = value.replace(",", "").replace("$", "").strip()
    if not value or not value.isascii():
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    # Its exponent first: abs() of 1e999999999 overflows the context (decimal.Overflow).
    if not number.is_finite() or number.adjusted() >= MAX_DIGITS - DECIMAL_PLACES:
        return None
    number = number.quantize(_QUANTUM)  # may round up to the limit: 999...9.9999999
    return None if abs(number) >= _LIMIT else number
