"""Search benchmark: indexing throughput, index size, and the time of whole `/search/`
requests (ranking, grouping, facets, snippets and template) on a scale corpus.

    .venv/bin/python bench/bench_search.py                 # build to 50,000 docs, measure
    .venv/bin/python bench/bench_search.py --documents 5000 --repeat 10
    .venv/bin/python bench/bench_search.py --skip-build   # time queries on the built index

Uses its own DATA_DIR (bench/out/scale by default): the dev database is never touched.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale_corpus  # noqa: E402

QUERIES = [
    ("rare word", {"q": "newton"}),
    ("common word", {"q": "revenue"}),
    ("two-word AND", {"q": "net sales"}),
    ("phrase", {"q": '"going concern"'}),
    ("word + form + dates", {"q": "revenue", "form": "10-Q", "filed_from": "1995-01-01",
                             "filed_to": "2005-12-31"}),
    ("filters only", {"form": "8-K"}),
]


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure_indexing(sample_mb: float, workers: int) -> tuple[float, float, int]:
    """Index filings until `sample_mb` of text into a scratch index; (MB, s, docs)."""
    from whoosh import index as windex

    from filings.models import Filing
    from search import index
    from search.backends import whoosh

    scratch = scale_corpus.DEFAULT_DATA_DIR.parent / f"scratch-index-{workers}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    ix = windex.create_in(str(scratch), whoosh.make_schema())
    kwargs = {"limitmb": 256}
    if workers > 1:
        kwargs.update(procs=workers, multisegment=True)
    accessions = list(Filing.objects.order_by("?").values_list("accession_number", flat=True))
    started = time.perf_counter()
    writer = ix.writer(**kwargs)
    total, docs = 0, 0
    for start in range(0, len(accessions), 50):
        for doc in index.entries_for(accessions[start : start + 50]):
            total += len(doc["body"].encode())
            docs += 1
            writer.add_document(**doc)
        if total >= sample_mb * 1e6:
            break
    writer.commit()
    seconds = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)
    return total / 1e6, seconds, docs


def time_requests(repeat: int):
    from django.test import Client

    client = Client()
    rows = []
    for label, params in QUERIES:
        first = None
        times = []
        total = ""
        for i in range(repeat + 1):
            started = time.perf_counter()
            response = client.get("/search/", params, HTTP_HOST="localhost")
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (label, response.status_code)
            if i == 0:
                first = elapsed
                match = re.search(rb'data-total="(\d+)"', response.content)
                total = f"{int(match[1]) if match else 0} filings"
            else:
                times.append(elapsed)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        rows.append((label, params, total, first, statistics.median(times), p95))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=scale_corpus.DEFAULT_DATA_DIR,
                        help="The bench's DATA_DIR (default bench/out/scale).")
    parser.add_argument("--corpus", type=Path, default=scale_corpus.DEFAULT_CORPUS,
                        help="The real corpus to replicate.")
    parser.add_argument("--documents", type=int, default=50_000,
                        help="Indexable documents in the scale corpus (default 50000).")
    parser.add_argument("--workers", type=int, default=2,
                        help="Indexing processes for the full rebuild (default 2).")
    parser.add_argument("--sample-mb", type=float, default=200,
                        help="MB of text indexed for the 1- and 2-worker throughput "
                             "figures (default 200).")
    parser.add_argument("--repeat", type=int, default=30,
                        help="Timed requests per query after one warm-up (default 30).")
    parser.add_argument("--skip-build", action="store_true",
                        help="Use the corpus and index already in --data-dir.")
    args = parser.parse_args(argv)

    scale_corpus.setup_django(args.data_dir)
    from search import index
    from search.backends import whoosh

    if not args.skip_build:
        scale_corpus.ingest_real_corpus(args.corpus)
        scale_corpus.replicate(args.documents)
        for workers in (1, 2):
            mb, seconds, docs = measure_indexing(args.sample_mb, workers)
            print(f"indexing, {workers} worker{'s' if workers > 1 else ''}: {mb:.1f} MB of text, "
                  f"{docs} documents in {seconds:.1f} s = {mb / seconds:.2f} MB/s", flush=True)
        stats = index.rebuild(workers=args.workers)
        mb = stats["bytes"] / 1e6
        print(f"full rebuild (--workers {args.workers}): {stats['documents']} documents, "
              f"{stats['filings']} filings, {mb:.1f} MB of text in {stats['seconds']:.1f} s "
              f"= {mb / stats['seconds']:.2f} MB/s", flush=True)

    with whoosh.open_index().searcher() as s:
        docs = s.doc_count()
    size = dir_size(whoosh.current_dir())
    print(f"index: {docs} documents, {size / 1e6:.1f} MB on disk")
    rows = time_requests(args.repeat)
    print(f"whole /search/ request, {args.repeat} runs after a warm-up (ms):")
    print(f"  {'query':22} {'matches':>16} {'first':>8} {'median':>8} {'p95':>8}")
    for label, params, total, first, median, p95 in rows:
        print(f"  {label:22} {total:>16} {first:8.1f} {median:8.1f} {p95:8.1f}   {params}")


if __name__ == "__main__":
    main()
