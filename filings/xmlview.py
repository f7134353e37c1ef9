"""Readable HTML for a filing's XML documents, made once at ingest (`filings.ingest`).

Ownership reports (Forms 3, 4, 5) and 13F information tables become the tables people
know from EDGAR's rendered forms; other SEC form XML (`edgarSubmission`: Form D, the 13F
cover page, ...) becomes labelled field tables; anything else is shown as escaped,
pretty-printed XML. Every value is escaped here: the output is trusted markup because
this module made it, never because of what the filing said.

Pure Python + lxml (no Django): runs in ingest worker processes.
"""
from __future__ import annotations

import re
from html import escape

from lxml import etree

from filings.text import parse_xml

__all__ = ["xml_to_html"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

OWNERSHIP_TITLES = {
    "3": "Initial statement of beneficial ownership of securities",
    "3/A": "Initial statement of beneficial ownership of securities (amendment)",
    "4": "Statement of changes in beneficial ownership",
    "4/A": "Statement of changes in beneficial ownership (amendment)",
    "5": "Annual statement of changes in beneficial ownership",
    "5/A": "Annual statement of changes in beneficial ownership (amendment)",
}

TRANSACTION_CODES = {
    "P": "Open market or private purchase",
    "S": "Open market or private sale",
    "V": "Transaction voluntarily reported earlier than required",
    "A": "Grant, award or other acquisition",
    "D": "Disposition to the issuer",
    "F": "Payment of exercise price or tax liability by delivering securities",
    "I": "Discretionary transaction",
    "M": "Exercise or conversion of derivative security",
    "C": "Conversion of derivative security",
    "E": "Expiration of short derivative position",
    "H": "Expiration or cancellation of long derivative position",
    "O": "Exercise of out-of-the-money derivative security",
    "X": "Exercise of in-the-money or at-the-money derivative security",
    "G": "Gift",
    "L": "Small acquisition",
    "W": "Acquisition or disposition by will or the laws of descent and distribution",
    "Z": "Deposit into or withdrawal from voting trust",
    "J": "Other acquisition or disposition",
    "K": "Transaction in equity swap or similar instrument",
    "U": "Disposition pursuant to a tender of shares in a change of control transaction",
}


def xml_to_html(text: str) -> str:
    """HTML for one XML document's text. Never raises."""
    try:
        root = _parse(text)
    except Exception:  # noqa: BLE001 - unparsable XML is still shown, as text
        root = None
    if root is None:
        return _pre(text)
    try:
        name = root.tag
        if name == "ownershipDocument":
            return _ownership(root)
        if name == "informationTable":
            return _information_table(root)
        if name == "edgarSubmission":
            return _form(root)
        return _pre(etree.tostring(root, pretty_print=True, encoding="unicode"))
    except Exception:  # noqa: BLE001 - an odd document falls back to its source
        return _pre(text)


def _parse(text: str):
    root = parse_xml(text or "", recover=True)
    if root is None:
        return None
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    return root


def _pre(text: str) -> str:
    return f'<pre class="filing-xml">{escape(text or "", quote=False)}</pre>'


def label(tag: str) -> str:
    """`reportingOwnerAddress` -> "Reporting owner address"."""
    words = _CAMEL.sub(" ", tag).replace("_", " ").split()
    if not words:
        return tag
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[0].upper() + text[1:]


# --- Reading values ---------------------------------------------------------------------


def _find(el, path: str):
    for part in path.split("/"):
        if el is None:
            return None
        el = el.find(part)
    return el


def _text(el, path: str = "") -> str:
    """The value at `path` (its <value> child when it has one), stripped."""
    node = _find(el, path) if path else el
    if node is None:
        return ""
    value = node.find("value")
    if value is not None:
        node = value
    return " ".join("".join(node.itertext()).split())


def _notes(el, path: str = "") -> list[str]:
    node = _find(el, path) if path else el
    if node is None:
        return []
    return [f.get("id", "") for f in node.iter("footnoteId") if f.get("id")]


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _cell(el, path: str, numeric=False, title="", notes_from="") -> str:
    value = _text(el, path)
    notes = "".join(
        f'<sup class="xml-note"><a href="#xml-note-{escape(n)}">{escape(n)}</a></sup>'
        for n in _notes(el, notes_from or path)
    )
    attrs = ' class="num"' if numeric else ' class="nowrap"' if _DATE.match(value) else ""
    if title:
        attrs += f' title="{escape(title)}"'
    return f"<td{attrs}>{escape(_number(value) if numeric else value)}{notes}</td>"


def _number(value: str) -> str:
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        return value
    if number.is_integer() and "." not in value:
        return f"{int(number):,}"
    decimals = len(value.split(".", 1)[1]) if "." in value else 0
    return f"{number:,.{min(decimals, 4)}f}"


def _fields(rows: list[tuple[str, str]], css="xml-fields") -> str:
    body = "".join(
        f"<tr><th scope=\"row\">{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows if v
    )
    return f'<table class="{css}">{body}</table>' if body else ""


def _table(caption: str, head: list[str], rows: list[str]) -> str:
    if not rows:
        return ""
    th = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    return (
        f'<div class="xml-scroll"><table class="xml-table"><caption>{escape(caption)}</caption>'
        f"<thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _yes(el, path: str) -> bool:
    return _text(el, path).lower() in {"1", "true", "y", "yes"}


# --- Forms 3, 4, 5 -------------------------------------------------------------------------


def _ownership(root) -> str:
    form = _text(root, "documentType")
    out = [
        '<div class="xml-form xml-ownership">',
        f"<h2>Form {escape(form)}: {escape(OWNERSHIP_TITLES.get(form, 'Ownership report'))}</h2>",
    ]
    issuer = root.find("issuer")
    out.append(
        _fields(
            [
                ("Issuer", _text(issuer, "issuerName")),
                ("Issuer CIK", _text(issuer, "issuerCik")),
                ("Trading symbol", _text(issuer, "issuerTradingSymbol")),
                ("Period of report", _text(root, "periodOfReport")),
                ("Date of original submission", _text(root, "dateOfOriginalSubmission")),
                ("Rule 10b5-1(c) transaction", "Yes" if _yes(root, "aff10b5One") else ""),
                ("No longer subject to Section 16", "Yes" if _yes(root, "notSubjectToSection16")
                 else ""),
            ]
        )
    )
    owners = []
    for owner in root.findall("reportingOwner"):
        address = owner.find("reportingOwnerAddress")
        rel = owner.find("reportingOwnerRelationship")
        roles = [
            text
            for flag, text in (
                ("isDirector", "Director"),
                ("isOfficer", _text(rel, "officerTitle") or "Officer"),
                ("isTenPercentOwner", "10% owner"),
                ("isOther", _text(rel, "otherText") or "Other"),
            )
            if _yes(rel, flag)
        ]
        place = ", ".join(
            p for p in (
                _text(address, "rptOwnerStreet1"), _text(address, "rptOwnerStreet2"),
                _text(address, "rptOwnerCity"),
                " ".join(filter(None, [_text(address, "rptOwnerState"),
                                       _text(address, "rptOwnerZipCode")])),
            ) if p
        )
        owners.append(
            f"<tr><td>{escape(_text(owner, 'reportingOwnerId/rptOwnerName'))}</td>"
            f"<td>{escape(_text(owner, 'reportingOwnerId/rptOwnerCik'))}</td>"
            f"<td>{escape('; '.join(roles))}</td><td>{escape(place)}</td></tr>"
        )
    out.append(_table("Reporting owners", ["Name", "CIK", "Relationship", "Address"], owners))

    rows = []
    for el in root.iterfind("nonDerivativeTable/*"):
        holding = el.tag == "nonDerivativeHolding"
        code = _text(el, "transactionCoding/transactionCode")
        rows.append(
            "<tr>"
            + _cell(el, "securityTitle")
            + _cell(el, "transactionDate")
            + (
                '<td class="muted">Holding</td><td></td><td></td><td></td>'
                if holding
                else _cell(el, "transactionCoding/transactionCode",
                           title=TRANSACTION_CODES.get(code, ""), notes_from="transactionCoding")
                + _cell(el, "transactionAmounts/transactionShares", True)
                + _cell(el, "transactionAmounts/transactionAcquiredDisposedCode")
                + _cell(el, "transactionAmounts/transactionPricePerShare", True)
            )
            + _cell(el, "postTransactionAmounts/sharesOwnedFollowingTransaction", True)
            + _cell(el, "ownershipNature/directOrIndirectOwnership")
            + _cell(el, "ownershipNature/natureOfOwnership")
            + "</tr>"
        )
    out.append(
        _table(
            "Table I: Non-derivative securities acquired, disposed of, or beneficially owned",
            ["Security", "Date", "Code", "Shares", "A/D", "Price", "Owned after",
             "Direct (D) / Indirect (I)", "Nature of indirect ownership"],
            rows,
        )
    )

    rows = []
    for el in root.iterfind("derivativeTable/*"):
        code = _text(el, "transactionCoding/transactionCode")
        rows.append(
            "<tr>"
            + _cell(el, "securityTitle")
            + _cell(el, "conversionOrExercisePrice", True)
            + _cell(el, "transactionDate")
            + _cell(el, "transactionCoding/transactionCode", title=TRANSACTION_CODES.get(code, ""),
                    notes_from="transactionCoding")
            + _cell(el, "transactionAmounts/transactionShares", True)
            + _cell(el, "transactionAmounts/transactionAcquiredDisposedCode")
            + _cell(el, "exerciseDate")
            + _cell(el, "expirationDate")
            + _cell(el, "underlyingSecurity/underlyingSecurityTitle")
            + _cell(el, "underlyingSecurity/underlyingSecurityShares", True)
            + _cell(el, "transactionAmounts/transactionPricePerShare", True)
            + _cell(el, "postTransactionAmounts/sharesOwnedFollowingTransaction", True)
            + _cell(el, "ownershipNature/directOrIndirectOwnership")
            + "</tr>"
        )
    out.append(
        _table(
            "Table II: Derivative securities acquired, disposed of, or beneficially owned",
            ["Security", "Exercise price", "Date", "Code", "Number", "A/D", "Exercisable",
             "Expiration", "Underlying security", "Underlying shares", "Price",
             "Owned after", "D/I"],
            rows,
        )
    )

    notes = [
        f'<li id="xml-note-{escape(n.get("id", ""))}"><span class="xml-note-id">'
        f'{escape(n.get("id", ""))}</span> {escape(" ".join("".join(n.itertext()).split()))}</li>'
        for n in root.iterfind("footnotes/footnote")
    ]
    if notes:
        out.append(f'<h3>Explanation of responses</h3><ol class="xml-notes">{"".join(notes)}</ol>')
    remarks = _text(root, "remarks")
    if remarks:
        out.append(f"<h3>Remarks</h3><p>{escape(remarks)}</p>")
    signatures = [
        (_text(s, "signatureName"), _text(s, "signatureDate"))
        for s in root.findall("ownerSignature")
    ]
    if signatures:
        out.append("<h3>Signatures</h3>" + _fields(signatures))
    out.append("</div>")
    return "".join(out)


# --- 13F information table -----------------------------------------------------------------


def _information_table(root) -> str:
    rows, total = [], 0.0
    for info in root.findall("infoTable"):
        value = _text(info, "value")
        try:
            total += float(value.replace(",", ""))
        except ValueError:
            pass
        voting = info.find("votingAuthority")
        rows.append(
            "<tr>"
            + _cell(info, "nameOfIssuer")
            + _cell(info, "titleOfClass")
            + _cell(info, "cusip")
            + _cell(info, "value", True)
            + _cell(info, "shrsOrPrnAmt/sshPrnamt", True)
            + _cell(info, "shrsOrPrnAmt/sshPrnamtType")
            + _cell(info, "putCall")
            + _cell(info, "investmentDiscretion")
            + _cell(info, "otherManager")
            + _cell(voting, "Sole", True)
            + _cell(voting, "Shared", True)
            + _cell(voting, "None", True)
            + "</tr>"
        )
    summary = (
        f'<p class="xml-summary">{len(rows):,} holdings; total value {_number(str(int(total)))}'
        "</p>"
        if rows
        else "<p>No holdings listed.</p>"
    )
    return (
        '<div class="xml-form xml-13f"><h2>Form 13F information table</h2>'
        + summary
        + _table(
            "Holdings",
            ["Issuer", "Class", "CUSIP", "Value", "Amount", "Type", "Put/Call",
             "Discretion", "Other managers", "Voting: sole", "Voting: shared",
             "Voting: none"],
            rows,
        )
        + "</div>"
    )


# --- Other SEC form XML (Form D, 13F cover page, ...) ------------------------------------


def _form(root) -> str:
    kind = _text(root, "submissionType") or _text(root, "headerData/submissionType")
    title = f"Form {kind}" if kind else "Form data"
    return (
        f'<div class="xml-form xml-generic"><h2>{escape(title)}</h2>'
        + _section(root, 3)
        + "</div>"
    )


def _section(el, depth: int) -> str:
    """Leaves as a field table, then each child with children as its own section."""
    leaves, groups = [], []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if len(child) == 0 or (len(child) == 1 and child[0].tag == "value"):
            leaves.append((label(child.tag), _text(child)))
        else:
            groups.append(child)
    out = [_fields(leaves)]
    level = min(depth, 6)
    for child in groups:
        inner = _section(child, depth + 1)
        if inner:
            out.append(
                f'<section class="xml-group"><h{level}>{escape(label(child.tag))}</h{level}>'
                f"{inner}</section>"
            )
    return "".join(out)
