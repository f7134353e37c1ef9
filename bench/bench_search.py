"""Search benchmark, for each search engine on the same data: index build (MB/s) and size,
whole `/search/` request times (ranking, grouping, facets, snippets and template; p50 and
p95), CSV export rows per second, a web worker's cold start and memory, and how much the
engines' top 10 overlap.

    # SQLite + Whoosh (the laptop default), 5,000 indexable documents:
    .venv/bin/python bench/bench_search.py --documents 5000
    # PostgreSQL, both engines on the same database (made if missing):
    .venv/bin/python bench/bench_search.py --documents 5000 \\
        --database-url postgres://postgres@127.0.0.1:5432/edgar_bench --backends whoosh,postgres
    # again on the built corpus and indexes, only timing:
    .venv/bin/python bench/bench_search.py --skip-build ...

Uses its own DATA_DIR (bench/out/scale by default) and database: the dev database is
never touched. Growing --documents on the same DATA_DIR adds copies to the corpus, so
5k, 15k, 50k runs in turn give the growth curve.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    ("rare word", {"q": "newton"}),
    ("common word", {"q": "revenue"}),
    ("two-word AND", {"q": "net sales"}),
    ("phrase", {"q": '"going concern"'}),
    ("common phrase", {"q": '"results of operations"'}),
    ("proximity", {"q": '"stock option"~5'}),
    ("word + form + dates", {"q": "revenue", "form": "10-Q", "filed_from": "1995-01-01",
                             "filed_to": "2005-12-31"}),
    ("filters only", {"form": "8-K"}),
    ("page 50", {"q": "revenue", "page": 50}),  # or the last page, if there are fewer
]
CSV_QUERIES = [("CSV, filings", {"q": "revenue"}),
               ("CSV, documents", {"q": "revenue", "view": "documents"})]
# Timed exports per CSV query, after one warm-up: a single export swung by ±40% on a
# busy machine, so the bench reports the median.
CSV_RUNS = 5


def _create_database(url: str):
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    server = {k: v for k, v in {"host": config["HOST"], "port": config["PORT"],
                                "user": config["USER"], "password": config["PASSWORD"]}.items()
              if v}
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                          [config["NAME"]]).fetchone():
            db.execute(f'CREATE DATABASE "{config["NAME"]}"')


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def index_size(backend: str) -> int:
    if backend == "whoosh":
        from search.backends import whoosh

        return dir_size(whoosh.current_dir())
    from django.db import connection

    with connection.cursor() as cursor:
        # search_tf's partitions hold its rows (the table itself has none).
        cursor.execute("SELECT pg_total_relation_size('search_entry') + "
                       "pg_total_relation_size('search_chunk') + "
                       "(SELECT coalesce(sum(pg_total_relation_size(relid)), 0) "
                       "FROM pg_partition_tree(to_regclass('search_tf')))")
        return int(cursor.fetchone()[0])


def build(backend: str, workers: int):
    from django.test import override_settings

    from search import index

    with override_settings(SEARCH_BACKEND=backend):
        stats = index.rebuild(workers=workers if backend == "whoosh" else 1)
        size = index_size(backend)
    mb = stats["bytes"] / 1e6
    print(f"  {backend:8} build: {stats['documents']} documents, {stats['filings']} filings, "
          f"{mb:.1f} MB of text in {stats['seconds']:.1f} s = {mb / stats['seconds']:.2f} MB/s; "
          f"index {size / 1e6:.1f} MB", flush=True)


def _percentile(times: list[float], fraction: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def time_requests(backend: str, repeat: int) -> list[tuple]:
    from django.test import Client, override_settings

    client = Client()
    rows = []
    with override_settings(SEARCH_BACKEND=backend):
        for label, params in QUERIES:
            params = dict(params)
            if "page" in params:
                first = client.get("/api/search", {**params, "page": 1}, HTTP_HOST="localhost")
                params["page"] = min(params["page"], first.json()["pages"])
            times, total = [], ""
            for i in range(repeat + 1):
                started = time.perf_counter()
                response = client.get("/search/", params, HTTP_HOST="localhost")
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (label, response.status_code)
                if i == 0:
                    match = re.search(rb'data-total="(\d+)"', response.content)
                    total = f"{int(match[1]) if match else 0} filings"
                else:
                    times.append(elapsed)
            rows.append((label, params, total, statistics.median(times),
                         _percentile(times, 0.95)))
        for label, params in CSV_QUERIES:
            seconds = []
            for i in range(CSV_RUNS + 1):
                started = time.perf_counter()
                response = client.get("/search.csv", params, HTTP_HOST="localhost")
                lines = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
                if i:  # the first warms up
                    seconds.append(time.perf_counter() - started)
            middle = statistics.median(seconds)
            rows.append((label, params, f"{lines} rows", middle * 1000, lines / middle))
    return rows


def top10_overlap(backends: list[str]) -> list[tuple[str, float]]:
    """|one engine's top 10 ∩ the other's| / 10, documents by relevance. The scale corpus
    is copies of the real filings (`99nnnnnnnn-yy-nnnnnn` copies `...-yy-nnnnnn`), so a
    copy counts as its original: otherwise a top 10 would be ten copies of one document."""
    from django.test import override_settings

    from search import backends as engines
    from search.filters import SearchRequest
    from search.query import parse

    rows = []
    for label, params in QUERIES:
        if "q" not in params or "page" in params:
            continue
        tops = []
        for backend in backends:
            with override_settings(SEARCH_BACKEND=backend):
                req = SearchRequest.from_query(params)
                req.view = "documents"
                seen: list = []
                for hit in engines.get().iter_results(parse(req.q), req, sort="relevance",
                                                      view="documents"):
                    original = (hit.accession[11:], hit.sequence)
                    if original not in seen:
                        seen.append(original)
                    if len(seen) == 10:
                        break
            tops.append(set(seen))
        size = max(1, min(len(t) for t in tops))
        rows.append((label, len(tops[0] & tops[1]) / size))
    return rows


def probe_worker(backend: str):
    """In a fresh process (a web worker's life): cold start, first requests, memory."""
    started = time.perf_counter()
    import config.wsgi  # noqa: F401 - loads the app and warms the engine, as gunicorn does

    cold = time.perf_counter() - started
    from django.test import Client

    client = Client()
    firsts = []
    for _label, params in QUERIES:
        t = time.perf_counter()
        client.get("/search/", params, HTTP_HOST="localhost")
        firsts.append(time.perf_counter() - t)
    memory = {}
    with open("/proc/self/smaps_rollup") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            if name in ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean",
                        "Shared_Dirty"):
                memory[name] = int(value.split()[0]) * 1024
    print(json.dumps({"cold": cold, "first": firsts[0], "slowest_first": max(firsts),
                      "memory": memory}))


def measure_worker(args, backend: str):
    env = dict(os.environ, SEARCH_BACKEND=backend)
    out = subprocess.run(
        [sys.executable, __file__, "--probe", "--data-dir", str(args.data_dir),
         *(["--database-url", args.database_url] if args.database_url else [])],
        env=env, capture_output=True, text=True, check=True, timeout=900,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    mem = data["memory"]
    private = mem.get("Private_Clean", 0) + mem.get("Private_Dirty", 0)
    print(f"  {backend:8} worker: start {data['cold'] * 1000:.0f} ms (warm-up included), "
          f"first search {data['first'] * 1000:.0f} ms, slowest first query "
          f"{data['slowest_first'] * 1000:.0f} ms; memory after one of each query: "
          f"RSS {mem.get('Rss', 0) / 1e6:.0f} MB ({private / 1e6:.0f} MB private, "
          f"{(mem.get('Shared_Clean', 0) + mem.get('Shared_Dirty', 0)) / 1e6:.0f} MB shared)",
          flush=True)


def _server() -> str:
    """The PostgreSQL server the figures were taken on: its version, the memory it is
    given, and whether the optional RUM index serves phrases."""
    from django.db import connection

    from search.backends.postgres import RUM_READY

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version'), "
                       f"current_setting('shared_buffers'), {RUM_READY}")
        version, shared_buffers, rum = cursor.fetchone()
    return (f"PostgreSQL {version} (shared_buffers {shared_buffers}; "
            f"RUM index {'present' if rum else 'absent'})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=scale_corpus.DEFAULT_DATA_DIR,
                        help="The bench's DATA_DIR (default bench/out/scale).")
    parser.add_argument("--database-url", default="",
                        help="A PostgreSQL database for the bench (made if missing); "
                             "default: SQLite in --data-dir.")
    parser.add_argument("--backends", default="whoosh",
                        help="Comma-separated engines to measure: whoosh, postgres "
                             "(postgres needs --database-url). Default whoosh.")
    parser.add_argument("--corpus", type=Path, default=scale_corpus.DEFAULT_CORPUS,
                        help="The real corpus to replicate.")
    parser.add_argument("--documents", type=int, default=50_000,
                        help="Indexable documents in the scale corpus (default 50000).")
    parser.add_argument("--workers", type=int, default=2,
                        help="Indexing processes for the Whoosh build (default 2).")
    parser.add_argument("--repeat", type=int, default=30,
                        help="Timed requests per query after one warm-up (default 30).")
    parser.add_argument("--skip-build", action="store_true",
                        help="Use the corpus and indexes already built.")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.database_url and not args.probe:
        _create_database(args.database_url)
    scale_corpus.setup_django(args.data_dir, args.database_url or None, migrate=not args.probe)
    if args.probe:
        probe_worker(os.environ.get("SEARCH_BACKEND", "whoosh"))
        return
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    database = "PostgreSQL" if args.database_url else "SQLite"
    if not args.skip_build:
        scale_corpus.ingest_real_corpus(args.corpus)
        scale_corpus.replicate(args.documents)
    print(f"{scale_corpus.indexable_count()} indexable documents, {database}", flush=True)
    for backend in backends:
        if not args.skip_build:
            build(backend, args.workers)
        else:
            print(f"  {backend:8} index {index_size(backend) / 1e6:.1f} MB", flush=True)
    if args.database_url:  # after the build, which drops and remakes the RUM index
        print(_server(), flush=True)
    results = {b: time_requests(b, args.repeat) for b in backends}
    print(f"whole /search/ request, {args.repeat} runs after a warm-up, ms "
          f"(CSV: median of {CSV_RUNS} exports after a warm-up, ms and rows/s):")
    print(f"  {'query':22} {'engine':8} {'matches':>16} {'p50':>9} {'p95':>9}")
    for i, (label, params, *_rest) in enumerate(results[backends[0]]):
        for backend in backends:
            _, _, total, p50, p95 = results[backend][i]
            print(f"  {label:22} {backend:8} {total:>16} {p50:9.1f} {p95:9.1f}"
                  + (f"   {params}" if backend == backends[0] else ""))
    for backend in backends:
        measure_worker(args, backend)
    if len(backends) == 2:
        print("top-10 overlap (documents by relevance, copies as their original): " + ", ".join(
            f"{label} {share:.0%}" for label, share in top10_overlap(backends)))


if __name__ == "__main__":
    main()
