"""The Whoosh index: the only module that writes it, and the one that opens it.

Layout: `SEARCH_INDEX_DIR/current` is a symlink to a generation directory
(`gen-<timestamp>`). Writers update the current generation in place under Whoosh's
file lock; `rebuild()` builds a fresh generation beside it and swaps the link with one
atomic rename, so readers see either the old index or the new one, never a gap.

What is indexed: one Whoosh document per stored document that has plain text and is
meant to be read — HTML, inline XBRL, text, XML forms (Form 4, 13F information tables)
and unclassified text. Not indexed: images, PDFs, zips and other binaries (no text),
XBRL instances, schemas and linkbases (`EX-101.*`, `.xsd`: machine data whose words
would drown real hits), and JSON. The body is not stored; snippets come from
`Document.text` in the database.

Analysis: words are `\\w+(\\.?\\w+)*` lowercased, no stemming and no stop words — EDGAR
full-text search matches words as typed, phrases must match every word, and
`search.query.highlight_pattern` can then mark exactly the words that matched.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from whoosh import fields, index
from whoosh.analysis import LowercaseFilter, RegexTokenizer

log = logging.getLogger(__name__)

# The tokenizer's pattern; search.query mirrors it to build highlight regexes.
WORD_PATTERN = r"\w+(\.?\w+)*"
ANALYZER = RegexTokenizer(WORD_PATTERN) | LowercaseFilter()
_WORD = re.compile(r"\w+(?:\.?\w+)*")


def words(text: str) -> list[str]:
    """The indexed words of `text`, in order: what ANALYZER yields, made in one C-level
    pass (lower-case, then find every word). Queries are analysed with it too."""
    return _WORD.findall(text.lower())


class BodyText(fields.TEXT):
    """TEXT whose indexing skips Whoosh's per-token Python pipeline (Token objects
    through a tokenizer and a filter): `words()` finds the same words three times
    faster, and indexing speed is mostly this."""

    def index(self, value, **kwargs):
        positions = defaultdict(list)
        for position, word in enumerate(words(value)):
            positions[word].append(position)
        encode = self.format.encode
        boost = self.format.field_boost
        for word, poslist in positions.items():
            yield word.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist)

INDEXED_KINDS = {"html", "ixbrl", "text", "xml", "other"}
# Seconds a writer waits for another writer's lock before giving up: generous, because
# a bulk ingest commits large batches while an admin upload may be waiting.
WRITE_TIMEOUT = 900
INDEX_VERSION = 1


def make_schema():
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),  # "<accession>/<sequence>"
        pk=fields.STORED(),  # Document.pk, to fetch the text for snippets
        accession=fields.ID(stored=True, sortable=True),
        sequence=fields.NUMERIC(int, stored=True, sortable=True),
        form=fields.ID(stored=True, sortable=True),  # upper case, as EDGAR writes it
        doc_type=fields.ID(stored=True, sortable=True),  # upper case: EX-10.1
        filename=fields.STORED(),
        description=fields.STORED(),
        filed=fields.ID(stored=True, sortable=True),  # ISO date, sorts as text
        year=fields.ID(sortable=True),
        period=fields.ID(stored=True),
        cik=fields.KEYWORD(stored=True, sortable=True),  # every party's CIK, unpadded
        company=BodyText(analyzer=ANALYZER),  # every party's names, former names too
        parties=fields.STORED(),  # [(cik, name, state_loc, state_inc)], for display
        sic=fields.KEYWORD(stored=True),
        state_inc=fields.KEYWORD(stored=True),
        state_loc=fields.KEYWORD(stored=True, sortable=True),
        item=fields.KEYWORD(stored=True),  # 8-K items: "2.02 9.01"
        file_number=fields.KEYWORD(stored=True, lowercase=True),
        body=BodyText(analyzer=ANALYZER, phrase=True),
    )


# --- Where the index lives -----------------------------------------------------------------


def index_root() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


def _current_link(root: Path) -> Path:
    return root / "current"


def _new_generation(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"gen-{time.time_ns()}-{os.getpid()}"
    path.mkdir()
    index.create_in(str(path), make_schema())
    return path


def _swap_in(root: Path, generation: Path):
    """Point `current` at `generation` in one atomic rename."""
    tmp = root / f".current-{os.getpid()}-{threading.get_ident()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, _current_link(root))


_create_lock = threading.Lock()


def current_dir() -> Path:
    """The directory of the current generation, created on first use."""
    root = index_root()
    link = _current_link(root)
    if not link.exists():
        with _create_lock:
            if not link.exists():
                _swap_in(root, _new_generation(root))
    return link.resolve()


def open_index():
    return index.open_dir(str(current_dir()))


# --- Reading: one searcher per thread, refreshed per request -------------------------------

_local = threading.local()


def searcher():
    """This thread's searcher over the current index, up to date as of this call."""
    path = current_dir()
    cached = getattr(_local, "searcher", None)
    if cached is not None and getattr(_local, "path", None) == path and cached.up_to_date():
        return cached
    if cached is not None:
        # Not Searcher.refresh(): it reuses segment readers and so can miss deletions
        # committed to a segment since (a re-ingested filing would show up twice).
        cached.close()
    _local.searcher = open_index().searcher()
    _local.path = path
    return _local.searcher


def close_searcher():
    cached = getattr(_local, "searcher", None)
    if cached is not None:
        cached.close()
        _local.searcher = None


# --- Writing -------------------------------------------------------------------------------

# Whoosh's lock is a file lock between processes; threads of one process also queue here.
_write_lock = threading.Lock()


def _writer(ix, **kwargs):
    return ix.writer(timeout=WRITE_TIMEOUT, delay=0.1, **kwargs)


def _current_writer():
    """A writer on the current generation. A writer that waited for the lock while
    `rebuild()` swapped in a new generation would write to the old one: it lets go and
    takes the new one's lock instead."""
    while True:
        path = current_dir()
        writer = _writer(index.open_dir(str(path)))
        if current_dir() == path:
            return writer
        writer.cancel()


@contextmanager
def _removing(accessions: Iterable[str]):
    """A writer of the current index with these filings' entries deleted; commits when
    the block ends, cancels if it raises. Yields None when there is nothing to do."""
    accessions = sorted(set(a for a in accessions if a))
    if not accessions:
        yield None, accessions
        return
    with _write_lock:
        writer = _current_writer()
        try:
            for accession in accessions:
                writer.delete_by_term("accession", accession)
            yield writer, accessions
        except BaseException:
            writer.cancel()
            raise
        writer.commit()


def update_filings(accessions: Iterable[str]):
    """Replace the index entries of these filings with their stored documents; a filing
    that no longer exists loses its entries. Commits before returning."""
    with _removing(accessions) as (writer, accessions):
        for doc in documents_for(accessions) if writer else ():
            writer.add_document(**doc)


def remove_filings(accessions: Iterable[str]):
    """Remove every index entry of these filings. Commits before returning."""
    with _removing(accessions):
        pass


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


def _words(values: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(v.strip().replace(" ", "") for v in values if v and v.strip()))


def documents_for(accessions: list[str]):
    """The Whoosh documents of these filings, one filing's texts in memory at a time."""
    from filings.models import Document, Filing

    filings = (
        Filing.objects.filter(accession_number__in=accessions)
        .prefetch_related("parties__company__former_names")
        .order_by("accession_number")
    )
    for filing in filings:
        common = filing_fields(filing)
        documents = (
            Document.objects.filter(filing=filing)
            .only("pk", "sequence", "type", "filename", "description", "kind", "text")
            .order_by("sequence")
        )
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
            }


# --- Rebuilding ------------------------------------------------------------------------------


def rebuild(workers: int = 1, batch: int = 200, progress=None) -> dict:
    """Index every stored filing into a fresh generation and swap it in atomically.

    Writes that land in the old generation while this runs are caught up at the end,
    under the old generation's lock, so nothing ingested meanwhile is lost.
    Returns figures: filings, documents, text bytes, seconds.
    """
    from django.utils import timezone

    from filings.models import Filing

    started = time.monotonic()
    since = timezone.now()
    root = index_root()
    generation = _new_generation(root)
    ix = index.open_dir(str(generation))
    accessions = list(
        Filing.objects.order_by("accession_number").values_list("accession_number", flat=True)
    )
    stats = {"filings": len(accessions), "documents": 0, "bytes": 0}
    kwargs = {"limitmb": 256}
    if workers > 1:
        kwargs.update(procs=workers, multisegment=True)
    writer = ix.writer(**kwargs)
    try:
        for start in range(0, len(accessions), batch):
            chunk = accessions[start : start + batch]
            for doc in documents_for(chunk):
                stats["documents"] += 1
                stats["bytes"] += len(doc["body"].encode("utf-8"))
                writer.add_document(**doc)
            if progress:
                progress(len(chunk))
    except BaseException:
        writer.cancel()
        shutil.rmtree(generation, ignore_errors=True)
        raise
    writer.commit()

    with _write_lock:
        old = _current_link(root)
        held = None
        if old.exists():
            held = _writer(index.open_dir(str(old.resolve())))  # hold the old lock
        try:
            changed = set(
                Filing.objects.filter(updated_at__gte=since).values_list(
                    "accession_number", flat=True
                )
            )
            present = set(Filing.objects.values_list("accession_number", flat=True))
            gone = set(accessions) - present
            if changed or gone:
                w = _writer(ix)
                for accession in changed | gone:
                    w.delete_by_term("accession", accession)
                for doc in documents_for(sorted(changed)):
                    w.add_document(**doc)
                w.commit()
            previous = old.resolve() if old.exists() else None
            _swap_in(root, generation)
        finally:
            if held is not None:
                held.cancel()
    _remove_old_generations(root, keep={generation, previous})
    stats["seconds"] = time.monotonic() - started
    return stats


def _remove_old_generations(root: Path, keep: set):
    """Generations older than the previous one: no searcher can still be reading them
    after a request has come and gone, and the previous one stays for those that are."""
    keep = {p for p in keep if p}
    for path in root.glob("gen-*"):
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def document_count() -> int:
    with open_index().searcher() as s:
        return s.doc_count()
