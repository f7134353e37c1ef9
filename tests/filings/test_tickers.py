"""`manage.py load_tickers`: SEC's two ticker files (tests/fixtures/tickers, written in
their real format), loading that replaces what the file says, tickers that move, bad
entries and bad files."""
import io
import json

import pytest
from django.core.management import CommandError, call_command

from filings import tickers
from filings.models import Company, Ticker
from tests.conftest import FIXTURES

PLAIN = FIXTURES / "tickers" / "company_tickers.json"
EXCHANGE = FIXTURES / "tickers" / "company_tickers_exchange.json"


def load(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("load_tickers", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def held():
    return {(t.cik, t.ticker, t.exchange) for t in Ticker.objects.all()}


def test_both_shapes_read_the_same_entries():
    plain = tickers.parse(PLAIN.read_bytes())
    exchange = tickers.parse(EXCHANGE.read_bytes())
    assert (plain.shape, exchange.shape) == ("tickers", "exchange")
    assert [(e.cik, e.ticker, e.title) for e in plain.entries] == [
        (e.cik, e.ticker, e.title) for e in exchange.entries]
    assert plain.entries[0] == tickers.Entry(320193, "AAPL", "Apple Inc.", "")
    assert exchange.entries[0].exchange == "Nasdaq"
    assert not plain.skipped and not exchange.skipped


@pytest.mark.django_db
def test_load_keeps_tickers_of_companies_not_ingested_and_is_idempotent():
    Company.objects.create(cik=320193, name="Apple Inc.")
    out, err = load(EXCHANGE)
    assert "14 tickers for 12 CIKs (1 of them companies here), 0 removed" in out and not err
    first = held()
    assert (1652044, "GOOGL", "Nasdaq") in first and (320193, "AAPL", "Nasdaq") in first
    assert Ticker.objects.of_ciks([1652044, 1067983]) == {
        1652044: ["GOOGL", "GOOG"], 1067983: ["BRK-B", "BRK-A"]}  # SEC's order kept
    load(EXCHANGE)
    assert held() == first
    # The plain file has no exchanges: those already known stay.
    load(PLAIN)
    assert held() == first


@pytest.mark.django_db
def test_a_file_replaces_the_tickers_of_the_ciks_it_lists(tmp_path):
    load(EXCHANGE)
    # Alphabet drops GOOG; the ticker L moves to another CIK; Apple is not listed.
    moved = {"0": {"cik_str": 1652044, "ticker": "GOOGL", "title": "Alphabet Inc."},
             "1": {"cik_str": 999, "ticker": "L", "title": "Someone Else"}}
    path = tmp_path / "company_tickers.json"
    path.write_text(json.dumps(moved))
    out, _ = load(path)
    assert "2 removed" in out  # GOOG, and L from Loews
    assert Ticker.objects.of_ciks([1652044, 60086, 999, 320193]) == {
        1652044: ["GOOGL"], 999: ["L"], 320193: ["AAPL"]}
    load(path, "--prune")
    assert {(t.cik, t.ticker) for t in Ticker.objects.all()} == {(1652044, "GOOGL"),
                                                                 (999, "L")}


@pytest.mark.django_db
def test_bad_entries_are_skipped_with_their_place(tmp_path):
    path = tmp_path / "company_tickers.json"
    path.write_text(json.dumps({
        "0": {"cik_str": 320193, "ticker": "aapl", "title": "Apple Inc."},
        "1": {"cik_str": "٣٢٠١٩٣", "ticker": "X", "title": "digits of another script"},
        "2": {"cik_str": 0, "ticker": "ZERO"},
        "3": {"cik_str": 5, "ticker": "<script>"},
        "4": "not an object",
        "5": {"cik_str": 789019, "ticker": "MSFT", "title": "Micro\u0000soft"},
        "6": {"cik_str": 1018724, "ticker": "AMZN", "title": "Amazon\ud800"},
    }))
    out, err = load(path)
    assert "3 tickers for 3 CIKs" in out and "4 entries skipped" in out
    assert "entry 1: no CIK" in err and "entry 3: ticker '<SCRIPT>' is not a symbol" in err
    assert "entry 4: not an object" in err
    assert held() == {(320193, "AAPL", ""), (789019, "MSFT", ""), (1018724, "AMZN", "")}
    assert Ticker.objects.get(ticker="MSFT").title == "Microsoft"  # NUL: PostgreSQL refuses it
    assert Ticker.objects.get(ticker="AMZN").title == "Amazon?"  # UTF-8 cannot hold it


@pytest.mark.parametrize("content, reason", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "neither company_tickers.json"),
    (b'{"fields": ["cik", "name"], "data": []}', "its fields lack ticker"),
    (b"[" * 100_000, "nested too deeply"),  # RecursionError, a traceback
    (b'{"fields": ["cik", ["ticker"]], "data": []}', "fields are not all names"),  # TypeError
])
@pytest.mark.django_db
def test_a_file_that_is_no_ticker_file_is_refused_by_name(tmp_path, content, reason):
    path = tmp_path / "tickers.json"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        load(path)
    assert str(path) in str(error.value) and reason in str(error.value)
    assert not Ticker.objects.exists()


@pytest.mark.django_db
def test_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(CommandError, match="nothing.json: cannot be read"):
        load(tmp_path / "nothing.json")
