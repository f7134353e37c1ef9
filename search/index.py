"""What the search index holds, and the one place it is written.

Engine-neutral: which documents are indexed and with which fields (`entries_for`), the
product's own tokens (`words`, used by every engine and by query analysis), and the
write path every change takes:

1. `filings.ingest` stores, updates or deletes a filing and, in the same database
   transaction, records an `IndexChange` row naming it;
2. `drain()` hands the recorded accessions to the configured engine
   (`search.backends.get()`), which replaces their entries with what the database
   holds (or removes them), then deletes the rows it applied. An engine whose index
   lives in the database (`transactional`) does both in one transaction, and applies a
   filing's change inside the transaction that stored it (`apply_in_transaction`).

A crash anywhere leaves either the old entries and the row (applied by the next drain),
or the new entries and the row (applied again: applying is idempotent). `differences()`
compares the database with the index for `manage.py check_index`.

Analysis: words are `\\w+(\\.?\\w+)*` lowercased, no stemming and no stop words — EDGAR
full-text search matches words as typed, phrases must match every word, and
`search.query.highlight_pattern` can then mark exactly the words that matched.
"""
from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from contextlib import nullcontext
from itertools import compress
from types import SimpleNamespace

from django.db import transaction

log = logging.getLogger(__name__)

# The tokenizer's pattern; search.query mirrors it to build highlight regexes.
WORD_PATTERN = r"\w+(\.?\w+)*"
_WORD = re.compile(r"\w+(?:\.?\w+)*")

# What is indexed: one entry per stored document that has plain text and is meant to be
# read — HTML, inline XBRL, text, XML forms (Form 4, 13F information tables), PDFs (the
# text read from them at ingest, filings.pdftext) and unclassified text. Not indexed:
# images, zips and other binaries (no text), XBRL instances, schemas and linkbases
# (`EX-101.*`, `.xsd`: machine data whose words would drown real hits), and JSON.
# Snippets come from `Document.text` in the database.
INDEXED_KINDS = {"html", "ixbrl", "text", "xml", "pdf", "other"}
DRAIN_BATCH = 500  # filings per engine write while draining
SECTION_TAG = re.compile(r"\d{1,2}(?:\.\d{2})?[a-c]?")  # an item as sections are tagged
INGESTED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def words(text: str) -> list[str]:
    """The indexed words of `text`, in order, made in one C-level pass (lower-case, then
    find every word). Queries are analysed with it too."""
    return _WORD.findall(text.lower())


# --- Common grams: fast phrases through very common words ----------------------------------
#
# A phrase through "of" would read the positions of "of" in nearly every document. As
# Lucene's CommonGramsFilter does, an engine may index, beside the words, a token for each
# pair of adjacent words that starts with a common word ("of~operations"), at the position
# of its first word; a phrase then reads the short position lists of its pairs instead.
# The words: the function words that are 0.5% or more of the shared corpus's 2.42 million
# indexed words and in two thirds or more of its 273 indexed documents (30% of all words
# together). A phrase must be cut with the set its index was built with, so an engine
# keeps the set with its index (Whoosh: in the schema); a new set takes a rebuild.
COMMON_WORDS = frozenset(
    "the of to and or in a any by be such as for with on that this is".split()
)
# Between a gram's two words: never inside a word (words are \w characters and dots).
GRAM_SEPARATOR = "~"


def common_grams(tokens: list[str], common: frozenset = COMMON_WORDS) -> list[tuple[int, str]]:
    """(position, gram) of every pair of adjacent tokens that starts with a common word,
    in position order: ["results", "of", "operations"] gives [(1, "of~operations")]. A
    common word at the end has no pair. Runs on every token at ingest: the common words'
    positions are found in C (compress, map), only they are visited in Python (17 ms
    per MB of text on the shared corpus, beside 36 for `words()`)."""
    starts = compress(range(len(tokens) - 1), map(common.__contains__, tokens))
    return [(i, tokens[i] + GRAM_SEPARATOR + tokens[i + 1]) for i in starts]


def phrase_cover(phrase: list[str],
                 common: frozenset = COMMON_WORDS) -> list[tuple[int, str, bool]]:
    """The tokens that decide a phrase of these words, as (offset in the phrase, token,
    is a gram), by offset: a gram for each common word followed by another word of the
    phrase, and each word no gram holds, alone. A document holds the phrase at position
    p exactly when it holds each token at p + its offset (grams among the grams, words
    among the words). "results of operations" is [(0, "results", False), (1,
    "of~operations", True)]; "net sales of" ends in a single "of"; a phrase without a
    common word before another word is its words alone (no gram)."""
    cover = []
    last = len(phrase) - 1
    for i, word in enumerate(phrase):
        if i < last and word in common:
            cover.append((i, word + GRAM_SEPARATOR + phrase[i + 1], True))
        elif i == 0 or phrase[i - 1] not in common:
            cover.append((i, word, False))
    return cover


def section_words(text: str, sections: list[dict]) -> str:
    """The words of a document's item sections, each tagged with its item ("1a:risk"),
    in order and space-separated: the index's `section_body`, where `section:1A risk`
    and `section:7 "going concern"` are searched like the body, inside one section.
    A phrase never spans two sections: their words carry different tags."""
    tagged = []
    for section in sections or []:
        tag = str(section.get("item", "")).lower()
        if not SECTION_TAG.fullmatch(tag):
            continue
        tagged.extend(f"{tag}:{word}" for word in words(text[section["start"]:section["end"]]))
    return " ".join(tagged)


def is_indexable(document) -> bool:
    if document.kind not in INDEXED_KINDS or not document.text:
        return False
    doc_type = (document.type or "").upper()
    # XBRL instances, schemas and linkbases; EDGAR's generated reports (FilingSummary.xml)
    if doc_type.startswith("EX-101") or doc_type in {"XML", "JSON", "ZIP", "GRAPHIC"}:
        return False
    return not (document.filename or "").lower().endswith((".xsd", ".json"))


def filing_fields(filing) -> dict:
    """The metadata every document of `filing` carries in the index."""
    ciks, names, sics, incs, locs, parties = [], [], [], [], [], []
    for party in filing.parties.all():
        company = party.company
        ciks.append(str(company.cik))
        names.append(party.name)
        if company.name != party.name:
            names.append(company.name)
        names.extend(f.get("name", "") for f in party.former_names or [])
        names.extend(f.name for f in company.former_names.all())
        sics.append(party.sic_code or company.sic_code)
        inc = party.state_of_incorporation or company.state_of_incorporation
        loc = (party.business_address or {}).get("state") or company.state_located
        incs.append(inc)
        locs.append(loc)
        parties.append((company.cik, party.name or company.name, loc, inc))
    filed = filing.filed_on.isoformat() if filing.filed_on else ""
    return {
        "accession": filing.accession_number,
        "form": (filing.form_type or "").upper(),
        "filed": filed,
        "year": filed[:4],
        "period": filing.period_of_report.isoformat() if filing.period_of_report else "",
        "cik": _words(ciks),
        "company": "\n".join(dict.fromkeys(n for n in names if n)),
        "parties": parties,
        "sic": _words(sics),
        "state_inc": _words(s.upper() for s in incs),
        "state_loc": _words(s.upper() for s in locs),
        "item": _words(filing.items or []),
        "file_number": _words([filing.file_number] + [p.file_number for p in filing.parties.all()]),
    }


def ingested_value(moment) -> str:
    """An ingest time as the index holds it: UTC to the microsecond, as text that sorts
    in time order on every engine ("2026-12-01T12:05:27.123456Z"; "" for none)."""
    if moment is None:
        return ""
    moment = moment.astimezone(datetime.UTC)
    # The year with four digits: strftime writes year 999 as "999", which sorts after
    # "2026" (an ingested_to before 1000 matched everything, an ingested_after nothing).
    return f"{moment.year:04d}" + moment.strftime(INGESTED_FORMAT.removeprefix("%Y"))


def _words(values: Iterable[str]) -> str:
    # Each value one word, without whitespace of any kind: Whoosh's KEYWORD fields split on
    # spaces, tabs and line breaks, PostgreSQL's arrays on what Python's split() splits on
    # (the file number column on spaces), so a crafted header's "000-1<tab>2933" was two
    # values on one engine and one on the other.
    return " ".join(dict.fromkeys("".join(v.split()) for v in values if v and v.strip()))


def entries_for(accessions: Iterable[str]):
    """The index entries of these filings, as plain dicts every engine takes: one per
    indexable document, or one metadata-only entry (sequence 0, no body) for a filing
    with none, such as a header-only filing, so that searches without words, field
    searches, filters and facets find it. One filing's texts in memory at a time."""
    from django.db.models import Max

    from filings.models import Document, Filing

    filings = (
        Filing.objects.filter(accession_number__in=accessions)
        .prefetch_related("parties__company__former_names")
        # When the filing's latest bytes arrived (see `ingested_value`'s callers).
        .annotate(last_ingestion=Max("ingestions__created_at"))
        .order_by("accession_number")
    )
    for filing in filings:
        common = filing_fields(filing)
        # "New" for saved searches and alerts: when the filing was first stored, or when
        # new bytes for it arrived (a changed or fuller submission: an Ingestion row of
        # its own). Unchanged re-ingests store nothing and re-derive keeps the
        # Ingestion's time, so neither makes a filing new again.
        common["ingested"] = ingested_value(filing.last_ingestion or filing.ingested_at)
        # The items of the sections its main document has (filings.sections), on every
        # entry of the filing, as 8-K items are: the `section` filter and facet select
        # filings.
        documents = list(
            Document.objects.filter(filing=filing)
            .only("pk", "sequence", "type", "filename", "description", "kind", "text",
                  "sections")
            .order_by("sequence")
        )
        common["section"] = _words(
            str(section.get("item", "")).lower()
            for document in documents for section in document.sections or [])
        indexed = False
        for document in documents:
            if not is_indexable(document):
                continue
            yield {
                **common,
                "id": f"{filing.accession_number}/{document.sequence}",
                "pk": document.pk,
                "sequence": document.sequence,
                "doc_type": (document.type or "").upper(),
                "filename": document.filename,
                "description": document.description,
                "body": document.text,
                "section_body": section_words(document.text, document.sections),
            }
            indexed = True
        if not indexed:
            yield {
                **common,
                "id": f"{filing.accession_number}/0",
                "pk": None,
                "sequence": 0,
                "doc_type": "",
                "filename": "",
                "description": "",
                "body": "",
                "section_body": "",
            }


# --- The write path ----------------------------------------------------------------------


def _backend():
    from search import backends

    return backends.get()


def drain(batch: int = DRAIN_BATCH) -> int:
    """Apply every recorded index change; returns how many filings were applied.
    Safe to run in several processes at once (applying is idempotent)."""
    from filings.models import IndexChange

    backend = _backend()
    applied = 0
    while True:
        with transaction.atomic() if backend.transactional else nullcontext():
            rows = IndexChange.objects.order_by("id")
            if backend.transactional:
                rows = rows.select_for_update(skip_locked=True)
            changes = list(rows.values_list("id", "accession_number")[:batch])
            if not changes:
                return applied
            accessions = sorted({accession for _, accession in changes})
            backend.update_filings(accessions)
            # Rows recorded after we read the database stay for the next round.
            IndexChange.objects.filter(id__in=[pk for pk, _ in changes]).delete()
        applied += len(accessions)


def apply_in_transaction(accession: str):
    """Called inside the transaction that stored or deleted a filing (through the
    `filings.signals.filing_changed` signal): an engine in the same database applies the
    change there and then, so the filing and its entries commit together."""
    from filings.models import IndexChange

    backend = _backend()
    if backend.transactional:
        backend.update_filings([accession])
        IndexChange.objects.filter(accession_number=accession).delete()


def pending() -> int:
    """How many recorded changes wait to be applied."""
    from filings.models import IndexChange

    return IndexChange.objects.count()


def update_filings(accessions: Iterable[str]):
    """Apply these filings now, whatever is recorded (repairs and tests)."""
    _backend().update_filings(accessions)


def remove_filings(accessions: Iterable[str]):
    _backend().remove_filings(accessions)


def rebuild(workers: int = 1, batch: int = 200, progress=None) -> dict:
    """Index every stored filing afresh. Changes recorded before it started are covered
    by it, so they are cleared; later ones stay for the next drain."""
    from filings.models import IndexChange

    last = IndexChange.objects.order_by("-id").values_list("id", flat=True).first()
    stats = _backend().rebuild(workers=workers, batch=batch, progress=progress)
    if last is not None:
        IndexChange.objects.filter(id__lte=last).delete()
    return stats


def document_count() -> int:
    return _backend().document_count()


def expected_ids() -> set[str]:
    """The entry ids the database calls for (texts are not read, only their length)."""
    from django.db.models.functions import Length

    from filings.models import Document, Filing

    ids = set()
    with_entries = set()
    rows = Document.objects.annotate(length=Length("text")).values_list(
        "filing__accession_number", "sequence", "type", "filename", "kind", "length"
    )
    for accession, sequence, type_, filename, kind, length in rows.iterator(chunk_size=2000):
        document = SimpleNamespace(type=type_, filename=filename, kind=kind, text=length)
        if is_indexable(document):
            ids.add(f"{accession}/{sequence}")
            with_entries.add(accession)
    for accession in Filing.objects.values_list("accession_number", flat=True).iterator():
        if accession not in with_entries:
            ids.add(f"{accession}/0")
    return ids


def differences() -> tuple[set[str], set[str]]:
    """(entries the index lacks, entries the index holds that the database does not)."""
    expected = expected_ids()
    actual = set(_backend().entry_ids())
    return expected - actual, actual - expected


