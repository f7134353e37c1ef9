"""Insider transactions: read from real Form 4 XML (filings.ownership), stored at ingest,
replaced on re-ingest and re-derive, deleted with the filing."""
import datetime
from decimal import Decimal

import pytest

from filings import ownership
from filings import submission as sub
from filings.ingest import delete_filing, rederive
from filings.models import Filing, InsiderTransaction
from tests.conftest import corpus_file

TESLA = "0000950170-25-003585.txt"  # Form 4, 25 rows: an M, 23 S sales, a derivative M
LAM_AMENDMENT = "0000707549-25-000004.txt"  # Form 4/A, two G (gift) rows, one indirect
ISABELLA = "0000842517-24-000086.txt"  # Form 4, one P with a fractional share count


def _rows(name):
    submission = sub.parse(corpus_file(name).read_bytes(), name)[0]
    [xml] = [d for d in submission.documents if ownership.is_ownership_xml(d.text)]
    return ownership.transactions(xml.text, xml.sequence)


def test_tesla_form_4_rows_as_the_form_gives_them():
    rows = _rows(TESLA)
    assert len(rows) == 25
    first = rows[0]
    assert (first.owner_cik, first.owner_name) == (1331680, "Wilson-Thompson Kathleen")
    assert (first.issuer_cik, first.issuer_name, first.trading_symbol) == (
        1318605, "Tesla, Inc.", "TSLA")
    assert first.table == ownership.NON_DERIVATIVE
    assert first.transaction_date == datetime.date(2025, 1, 6)
    assert (first.code, first.acquired_disposed, first.ownership) == ("M", "A", "D")
    assert first.shares == Decimal("100000") and first.price == Decimal("14.99")
    assert first.owned_after == Decimal("105400")
    assert rows[1].footnotes == "F1 F2" and rows[1].price == Decimal("402.841")
    derivative = [r for r in rows if r.table == ownership.DERIVATIVE]
    assert derivative and all(r.code == "M" for r in derivative)
    assert [r.position for r in rows] == list(range(25))


def test_amendment_keeps_indirect_ownership_and_its_nature():
    rows = _rows(LAM_AMENDMENT)
    assert [(r.code, r.acquired_disposed, r.ownership, r.nature) for r in rows] == [
        ("G", "D", "D", ""), ("G", "A", "I", "by trust")]
    assert rows[1].owned_after == Decimal("30630")


def test_fractional_shares_kept():
    [row] = _rows(ISABELLA)
    assert (row.code, row.shares, row.price) == ("P", Decimal("275.634"), Decimal("18.14"))


def test_joint_report_gives_each_owner_the_row():
    xml = """<ownershipDocument><documentType>4</documentType>
      <issuer><issuerCik>0000320193</issuerCik><issuerName>Apple Inc.</issuerName></issuer>
      <reportingOwner><reportingOwnerId><rptOwnerCik>0000000011</rptOwnerCik>
        <rptOwnerName>Fund LP</rptOwnerName></reportingOwnerId></reportingOwner>
      <reportingOwner><reportingOwnerId><rptOwnerCik>0000000012</rptOwnerCik>
        <rptOwnerName>Fund GP LLC</rptOwnerName></reportingOwnerId></reportingOwner>
      <nonDerivativeTable>
        <nonDerivativeHolding><securityTitle><value>Common</value></securityTitle>
        </nonDerivativeHolding>
        <nonDerivativeTransaction><securityTitle><value>Common</value></securityTitle>
          <transactionDate><value>2005-03-01-05:00</value></transactionDate>
          <transactionCoding><transactionCode>S</transactionCode></transactionCoding>
          <transactionAmounts><transactionShares><value>1,000</value></transactionShares>
          <transactionPricePerShare><value>see note</value></transactionPricePerShare>
          </transactionAmounts></nonDerivativeTransaction>
      </nonDerivativeTable></ownershipDocument>"""
    rows = ownership.transactions(xml, 1)
    assert [(r.owner_cik, r.owner_name) for r in rows] == [(11, "Fund LP"), (12, "Fund GP LLC")]
    assert rows[0].transaction_date == datetime.date(2005, 3, 1)  # a time zone appended
    assert rows[0].shares == Decimal("1000") and rows[0].price is None  # holding left out


def test_entities_are_not_expanded_and_other_xml_has_no_rows():
    xml = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "EXPANDED">]>'
           "<ownershipDocument><issuer><issuerName>&e;</issuerName></issuer>"
           "<reportingOwner/><nonDerivativeTable><nonDerivativeTransaction>"
           "<securityTitle><value>&e;</value></securityTitle></nonDerivativeTransaction>"
           "</nonDerivativeTable></ownershipDocument>")
    rows = ownership.transactions(xml, 1)
    assert len(rows) == 1 and "EXPANDED" not in rows[0].security + rows[0].issuer_name
    assert ownership.transactions("<informationTable><infoTable/></informationTable>") == []


def test_numbers_past_the_columns_are_unknown():
    assert ownership._number("1" * 30) is None
    assert ownership._number("1e999999999") is None  # decimal.Overflow (an ArithmeticError)
    assert ownership._number("-1E+1000000") is None and ownership._number("1e-999999999") == 0
    assert ownership._number("9" * 18 + ".9999999") is None  # rounds to 25 digits
    assert ownership._number("9" * 18 + ".999999") == Decimal("9" * 18 + ".999999")
    assert ownership._number("NaN") is None and ownership._number("١٢") is None
    assert ownership._number("$1,234.5") == Decimal("1234.5")


@pytest.mark.django_db
def test_ingest_stores_rows_and_reingest_replaces_them(ingest_paths):
    ingest_paths(corpus_file(TESLA), corpus_file(ISABELLA))
    tesla = Filing.objects.get(accession_number="0000950170-25-003585")
    assert tesla.insider_transactions.count() == 25
    assert InsiderTransaction.objects.of_issuer(842517).count() == 1
    assert InsiderTransaction.objects.of_owner(1331680).with_codes(["S"]).count() == 23
    tesla.insider_transactions.filter(position__gte=5).delete()
    InsiderTransaction.objects.filter(filing=tesla).update(code="X")
    [outcome] = rederive(tesla)  # the re-derive job's own step
    assert outcome.status == "updated"
    rows = tesla.insider_transactions.order_by("position")
    assert rows.count() == 25 and rows[0].code == "M"
    delete_filing(tesla)
    assert InsiderTransaction.objects.of_owner(1331680).count() == 0
    assert InsiderTransaction.objects.count() == 1


@pytest.mark.django_db
def test_unreadable_ownership_xml_is_a_warning_not_a_failure(ingest_paths, monkeypatch):
    def broken(text, sequence=0, limit=ownership.MAX_ROWS):
        raise ValueError("its XML cannot be read (XMLSyntaxError)")

    monkeypatch.setattr(ownership, "transactions", broken)
    summary = ingest_paths(corpus_file(ISABELLA))
    assert summary.counts["new"] == 1
    filing = Filing.objects.get()
    assert filing.insider_transactions.count() == 0
    assert any("insider transactions not read" in w for w in filing.warnings)


@pytest.mark.django_db
def test_a_report_multiplying_owners_by_transactions_is_a_warning_not_a_flood(
        ingest_paths, tmp_path):
    # Isabella's Form 4 with its owner and its transaction each repeated 200 times: 40,000
    # rows (each transaction once per owner) from 1 MB; a million from 5 MB were all kept.
    raw = corpus_file(ISABELLA).read_text("latin-1")
    for tag in ("reportingOwner", "nonDerivativeTransaction"):
        start, end = raw.index(f"<{tag}>"), raw.index(f"</{tag}>") + len(f"</{tag}>")
        raw = raw[:start] + raw[start:end] * 200 + raw[end:]
    crafted = tmp_path / ISABELLA
    crafted.write_text(raw, "latin-1")
    with pytest.raises(ValueError, match="40,000 rows"):
        ownership.transactions(_rows_xml(raw), 1)
    summary = ingest_paths(crafted)
    assert summary.counts["new"] == 1
    filing = Filing.objects.get()
    assert filing.insider_transactions.count() == 0
    assert any("insider transactions not read: it gives 40,000 rows (200 reporting owners"
               in w for w in filing.warnings), filing.warnings


def _rows_xml(raw: str) -> str:
    submission = sub.parse(raw.encode("latin-1"), ISABELLA)[0]
    [xml] = [d for d in submission.documents if ownership.is_ownership_xml(d.text)]
    return xml.text


@pytest.mark.django_db
def test_a_figure_past_decimals_range_is_unknown_and_the_filing_stored(ingest_paths, tmp_path):
    # Isabella's Form 4 with 1e999999999 shares: decimal.Overflow failed the whole filing.
    raw = corpus_file(ISABELLA).read_text("latin-1")
    assert "<value>275.634</value>" in raw
    crafted = tmp_path / ISABELLA
    crafted.write_text(raw.replace("<value>275.634</value>", "<value>1e999999999</value>"),
                       "latin-1")
    summary = ingest_paths(crafted)
    assert summary.counts["new"] == 1
    [row] = Filing.objects.get().insider_transactions.all()
    assert row.shares is None and row.price == Decimal("18.14")
