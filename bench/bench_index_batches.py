"""Index writes batch after batch, as a long ingest makes them: does a batch cost more
the more batches came before it (Whoosh's commits and segment merges)?

Indexes the scale corpus's filings (bench/scale_corpus.py; build it first) into a fresh
Whoosh index in a temporary directory, INDEX_BATCH filings per commit as `ingest` does,
and prints each batch's CPU time per document (this process's; wall time swings with the
machine's load) and the index's segment count. Whoosh merges segments in tiers
(MERGE_SMALL): most batches add a segment, and now and then one batch merges a tier, so
the figure to compare is the cost per document over whole stretches of batches.

    .venv/bin/python bench/bench_index_batches.py [--batches 60] [--database-url ...]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale_corpus  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=scale_corpus.DEFAULT_DATA_DIR)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--batches", type=int, default=60, help="At most this many batches.")
    args = parser.parse_args()
    scale_corpus.setup_django(args.data_dir, args.database_url or None, migrate=False)

    from django.test import override_settings

    from filings.ingest import INDEX_BATCH
    from filings.models import Filing
    from search.backends import whoosh

    accessions = list(Filing.objects.order_by("accession_number")
                      .values_list("accession_number", flat=True))
    batches = [accessions[i : i + INDEX_BATCH] for i in range(0, len(accessions), INDEX_BATCH)]
    batches = batches[: args.batches]
    with tempfile.TemporaryDirectory(prefix="bench-batches-") as folder, \
            override_settings(SEARCH_INDEX_DIR=folder, SEARCH_BACKEND="whoosh"):
        engine = whoosh.WhooshBackend()
        rows = []
        for number, batch in enumerate(batches, 1):
            before = engine.document_count()
            started = time.process_time()
            engine.update_filings(batch)
            seconds = time.process_time() - started
            documents = engine.document_count() - before
            segments = len(whoosh.open_index()._segments())
            rows.append((number, documents, seconds, segments))
        print(f"{len(batches)} batches of {INDEX_BATCH} filings into a new Whoosh index "
              "(CPU seconds of this process):")
        print(f"  {'batch':>5} {'documents':>9} {'CPU s':>8} {'ms/doc':>7} {'segments':>8}")
        for number, documents, seconds, segments in rows:
            print(f"  {number:5} {documents:9} {seconds:8.2f} "
                  f"{1000 * seconds / max(documents, 1):7.2f} {segments:8}")
        third = max(1, len(rows) // 3)
        for label, part in (("first third", rows[:third]), ("middle third", rows[third:-third]),
                            ("last third", rows[-third:])):
            if part:
                per_doc = sum(r[2] for r in part) / max(1, sum(r[1] for r in part))
                print(f"  {label}: {1000 * per_doc:.2f} ms/doc, merges included")


if __name__ == "__main__":
    main()
