"""Build a scale corpus: the real corpus ingested once, then replicated in the database
with fresh accession numbers until it holds at least N indexable documents.

Copies carry each document's plain text (what search reads) but not its filed content
or display HTML, which keeps the database a third of the size; the index does not see
the difference. Uses its own DATA_DIR (default bench/out/scale), never the dev database.

    .venv/bin/python bench/scale_corpus.py --documents 50000
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "bench" / "out" / "scale"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"


def setup_django(data_dir: Path, database_url: str | None = None, migrate: bool = True):
    """Point Django at the bench's own data directory (and database: SQLite in it unless
    `database_url` names one), then start it and, unless told not to, migrate."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["DATA_DIR"] = str(data_dir)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SEARCH_INDEX_DIR", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")  # plain static files: no manifest needed
    os.environ.setdefault("SECRET_KEY", "bench-only")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def ingest_real_corpus(corpus: Path, out=print):
    from filings.ingest import ingest
    from filings.models import Filing
    from filings.sources import read_sources

    if Filing.objects.exclude(accession_number__startswith="99").exists():
        return  # ingested by an earlier run
    out(f"ingesting the real corpus from {corpus} ...")
    summary = ingest(read_sources([str(corpus)]), workers=2)
    out(summary.line())


def indexable_count() -> int:
    from filings.models import Document
    from search.index import is_indexable

    return sum(
        1 for d in Document.objects.only("kind", "type", "filename", "sequence", "text").iterator()
        if is_indexable(d)
    )


def replicate(target_documents: int, out=print) -> int:
    """Copy the real filings with fresh accession numbers until the database holds at
    least `target_documents` indexable documents. Returns the number of copies made."""
    from django.db import transaction

    from filings.models import Document, Filing, FilingParty
    from search.index import is_indexable

    originals = list(
        Filing.objects.exclude(accession_number__startswith="99")
        .prefetch_related("parties")
        .order_by("accession_number")
    )
    per_copy = 0
    for filing in originals:
        per_copy += sum(
            1 for d in filing.documents.only("kind", "type", "filename", "sequence", "text")
            if is_indexable(d)
        )
    have = indexable_count()
    copies_done = Filing.objects.filter(accession_number__startswith="99").values(
        "accession_number"
    ).count() // max(1, len(originals))
    needed = max(0, -(-(target_documents - have) // max(1, per_copy)))
    out(f"{len(originals)} real filings, {per_copy} indexable documents each copy; "
        f"{have} indexable now; making {needed} more copies")
    started = time.monotonic()
    for n in range(copies_done + 1, copies_done + needed + 1):
        with transaction.atomic():
            for filing in originals:
                _copy_filing(filing, n, Document, Filing, FilingParty)
        if n % 10 == 0:
            out(f"  copy {n}: {time.monotonic() - started:.0f} s")
    return needed


def _copy_filing(filing, n, Document, Filing, FilingParty):
    original_pk = filing.pk
    accession = f"99{n:08d}-{filing.accession_number[11:]}"
    copy = Filing.objects.get(pk=original_pk)
    copy.pk = None
    copy.accession_number = accession
    copy.save()
    FilingParty.objects.bulk_create(
        FilingParty(**{**_fields(p), "filing_id": copy.pk}) for p in filing.parties.all()
    )
    docs = Document.objects.filter(filing_id=original_pk).defer("content", "html")
    Document.objects.bulk_create(
        Document(
            filing_id=copy.pk, sequence=d.sequence, type=d.type, filename=d.filename,
            description=d.description, kind=d.kind, size=d.size, text=d.text,
            # The sections too, so that copies are indexed (section_body) and searched
            # (section:) as the real filings are. Copies have no display HTML.
            sections=d.sections,
            sanitizer_version=d.sanitizer_version, file=d.file.name if d.file else "",
        )
        for d in docs
    )


def _fields(party):
    return {
        f.attname: getattr(party, f.attname)
        for f in party._meta.concrete_fields
        if f.attname not in ("id", "filing_id")
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"The bench's DATA_DIR (default {DEFAULT_DATA_DIR}).")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"The real corpus to replicate (default {DEFAULT_CORPUS}).")
    parser.add_argument("--documents", type=int, default=50_000,
                        help="Indexable documents to reach (default 50000).")
    args = parser.parse_args(argv)
    setup_django(args.data_dir)
    ingest_real_corpus(args.corpus)
    replicate(args.documents)
    print(f"{indexable_count()} indexable documents in {args.data_dir}")


if __name__ == "__main__":
    main()
