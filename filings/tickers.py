"""Ticker symbols from SEC's `company_tickers.json` and `company_tickers_exchange.json`
(`manage.py load_tickers`).

The two files differ in shape: the first is an object of numbered entries
`{"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}`, the second a
table `{"fields": ["cik", "name", "ticker", "exchange"], "data": [[320193, "Apple Inc.",
"AAPL", "Nasdaq"], ...]}`. `parse()` reads either (pure Python); `load()` stores what it
read. Tickers are kept by CIK, also for companies not ingested yet: their filings may come
later, and the tickers show then.

Loading replaces, for every CIK the file lists, that CIK's tickers with the file's (in
the file's order: SEC lists a company's main symbol first); a ticker the file gives to a
CIK is taken from any other CIK that held it (tickers move). CIKs the file does not list
keep theirs, unless `prune` (then the table holds exactly the file). Loading the same
file twice changes nothing; the plain file after the exchange one keeps the exchanges.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_FILE_BYTES = 64 * 1024 * 1024  # SEC's files are about 1 MB
_TICKER = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,15}$")
_CIK = re.compile(r"^[0-9]{1,10}$")


class TickerFileError(ValueError):
    """The file is not one of SEC's ticker files; the message says why."""


@dataclass(frozen=True)
class Entry:
    cik: int
    ticker: str
    title: str = ""
    exchange: str = ""


@dataclass
class Parsed:
    entries: list[Entry]
    skipped: list[str]  # why each entry that was left out was (its place in the file)
    shape: str  # "tickers" or "exchange"


def parse(data: bytes) -> Parsed:
    """The file's entries, in its order. Raises TickerFileError when the file as a whole
    cannot be read; a bad entry is skipped with a reason."""
    if len(data) > MAX_FILE_BYTES:
        raise TickerFileError(f"it is larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TickerFileError(f"it is not JSON ({exc})") from None
    except RecursionError:  # "[[[[..." past the decoder's depth
        raise TickerFileError("it is nested too deeply to be a ticker file") from None
    if isinstance(document, dict) and "fields" in document and "data" in document:
        return _exchange(document)
    if isinstance(document, dict):
        return _tickers(document)
    raise TickerFileError("it is neither company_tickers.json (an object of entries) nor "
                          "company_tickers_exchange.json (fields and data)")


def _tickers(document: dict) -> Parsed:
    entries, skipped = [], []
    for key, item in document.items():
        if not isinstance(item, dict):
            skipped.append(f"entry {key!s:.20}: not an object")
            continue
        _add(entries, skipped, f"entry {key!s:.20}", item.get("cik_str"), item.get("ticker"),
             item.get("title"), "")
    return Parsed(entries, skipped, "tickers")


def _exchange(document: dict) -> Parsed:
    fields = document["fields"]
    if not isinstance(fields, list) or not isinstance(document["data"], list):
        raise TickerFileError("its fields and data are not lists")
    if not all(isinstance(name, str) for name in fields):
        raise TickerFileError("its fields are not all names")
    missing = {"cik", "ticker"} - set(fields)
    if missing:
        raise TickerFileError(f"its fields lack {', '.join(sorted(missing))}")
    at = {name: fields.index(name) for name in ("cik", "ticker", "name", "exchange")
          if name in fields}
    entries, skipped = [], []
    for n, row in enumerate(document["data"]):
        if not isinstance(row, list) or len(row) != len(fields):
            skipped.append(f"row {n}: not {len(fields)} values")
            continue
        _add(entries, skipped, f"row {n}", row[at["cik"]], row[at["ticker"]],
             row[at["name"]] if "name" in at else "",
             row[at["exchange"]] if "exchange" in at else "")
    return Parsed(entries, skipped, "exchange")


def _add(entries, skipped, where, cik, ticker, title, exchange):
    cik_text = str(cik).strip() if isinstance(cik, (int, str)) else ""
    if not _CIK.match(cik_text) or int(cik_text) == 0:  # ASCII digits, as EDGAR's CIKs
        skipped.append(f"{where}: no CIK")
        return
    ticker = ticker.strip().upper() if isinstance(ticker, str) else ""
    if not _TICKER.match(ticker):
        skipped.append(f"{where}: ticker {str(ticker)[:20]!r} is not a symbol")
        return
    title = _storable(title)[:255]
    exchange = _storable(exchange)[:32]
    entries.append(Entry(int(cik_text), ticker, title, exchange))


def _storable(value) -> str:
    """Text as the database takes it: NUL (PostgreSQL refuses it) left out, and a lone
    surrogate (JSON's "\\ud800", which UTF-8 cannot hold) read as "?"."""
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()


@dataclass
class Loaded:
    tickers: int = 0  # stored from the file
    ciks: int = 0  # CIKs the file lists
    known: int = 0  # of those, companies in the collection
    removed: int = 0  # tickers the file took away (moved, dropped, pruned)


def load(parsed: Parsed, prune: bool = False) -> Loaded:
    """Store the parsed file's tickers, in one transaction (see the module's summary)."""
    from django.db import transaction

    from filings.models import Company, Ticker

    by_cik: dict[int, list[Entry]] = {}
    for entry in parsed.entries:
        listed = by_cik.setdefault(entry.cik, [])
        if entry.ticker not in {e.ticker for e in listed}:
            listed.append(entry)
    # A ticker the file lists twice, for two CIKs, stays with the first.
    owner: dict[str, int] = {}
    for cik, listed in by_cik.items():
        for entry in listed:
            owner.setdefault(entry.ticker, cik)
    with transaction.atomic():
        existing = list(Ticker.objects.all())
        exchanges = {(t.cik, t.ticker): t.exchange for t in existing}
        stale = [t.pk for t in existing
                 if t.cik in by_cik or t.ticker in owner or prune]
        gone = set(stale)
        for start in range(0, len(stale), 500):
            Ticker.objects.filter(pk__in=stale[start:start + 500]).delete()
        rows = [
            Ticker(cik=cik, ticker=entry.ticker, title=entry.title, position=position,
                   exchange=entry.exchange or exchanges.get((cik, entry.ticker), ""))
            for cik, listed in by_cik.items()
            for position, entry in enumerate(e for e in listed if owner[e.ticker] == cik)
        ]
        Ticker.objects.bulk_create(rows, batch_size=1000)
        known = sum(Company.objects.filter(cik__in=chunk).count()
                    for chunk in _chunks(list(by_cik), 10000))
        before = {(t.cik, t.ticker) for t in existing if t.pk in gone}
        removed = len(before - {(t.cik, t.ticker) for t in rows})
    return Loaded(len(rows), len(by_cik), known, removed)


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start:start + size]
