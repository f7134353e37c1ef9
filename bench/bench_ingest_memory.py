"""Ingest memory: the peak RSS of `manage.py ingest` for one very large filing and over a
long run, to show that memory is bounded by the largest filing, not by the run.

    # one generated filing of about 100 MB (a real 10-K's HTML body repeated):
    .venv/bin/python bench/bench_ingest_memory.py large --mb 100
    # a long run: distinct copies of the dev corpus (fresh accession numbers) up to 2 GB,
    # with the RSS of the command and its workers sampled as it goes:
    .venv/bin/python bench/bench_ingest_memory.py run --gb 2 --workers 2

Each case uses a fresh DATA_DIR under --scratch (removed afterwards unless --keep).
Peak RSS is the largest resident set of any one process (the command or a worker), as
the kernel reports it (getrusage of the waited-for children); the sampled series shows
the sum over the process tree at each tenth of the run.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import DEFAULT_CORPUS, ROOT, corpus_files, manage  # noqa: E402

ACCESSION = re.compile(rb"(?:ACCESSION NUMBER:\s*|<ACCESSION-NUMBER>\s*)(\d{10}-\d{2}-\d{6})")


# --- Inputs ----------------------------------------------------------------------------


def large_filing(path: Path, mb: float, corpus: Path) -> int:
    """Write one 10-K submission whose main HTML document is about `mb` MB: the body of
    the corpus's largest HTML 10-K document, repeated with its numbers changed per copy
    (so no two copies are the same text). Returns the file's size."""
    best = b""
    for file in corpus_files(corpus):
        data = file.read_bytes()
        for doc in re.findall(rb"<DOCUMENT>(.*?)</DOCUMENT>", data, re.S):
            if re.search(rb"<TYPE>10-K", doc) and re.search(rb"<body", doc, re.I):
                body = re.search(rb"<body[^>]*>(.*)</body>", doc, re.S | re.I)
                if body and len(body[1]) > len(best):
                    best = body[1]
    if not best:
        raise SystemExit(f"no HTML 10-K document in {corpus}")
    target = int(mb * 1e6)
    with open(path, "wb") as out:
        out.write(
            b"<SEC-DOCUMENT>0000999999-26-000001.txt : 20260101\n<SEC-HEADER>\n"
            b"ACCESSION NUMBER:\t\t0000999999-26-000001\nCONFORMED SUBMISSION TYPE:\t10-K\n"
            b"PUBLIC DOCUMENT COUNT:\t\t1\nFILED AS OF DATE:\t\t20260101\n\nFILER:\n\n"
            b"\tCOMPANY DATA:\t\n\t\tCOMPANY CONFORMED NAME:\t\t\tLARGE FILING BENCH INC\n"
            b"\t\tCENTRAL INDEX KEY:\t\t\t0000999999\n</SEC-HEADER>\n<DOCUMENT>\n<TYPE>10-K\n"
            b"<SEQUENCE>1\n<FILENAME>large10k.htm\n<TEXT>\n<html><body>\n")
        copy = 0
        while out.tell() < target:
            copy += 1
            out.write(re.sub(rb"\b(\d{2,})\b", lambda m, n=copy: b"%d" % (int(m[1]) + n), best))
        out.write(b"\n</body></html>\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n")
    return path.stat().st_size


def corpus_copies(folder: Path, gb: float, corpus: Path) -> tuple[int, int]:
    """Write distinct copies of the corpus's submissions into `folder` until they hold
    `gb` GB: each copy's accession numbers are replaced by fresh ones (99nnnnnnnn-yy-…)
    wherever they occur. Returns (files, bytes)."""
    sources = []
    for file in corpus_files(corpus):
        data = file.read_bytes()
        found = sorted(set(ACCESSION.findall(data[:200_000])))
        if found:
            sources.append((file, data, found))
    target, written, files, copy = int(gb * 1e9), 0, 0, 0
    while written < target:
        copy += 1
        part = folder / f"copy-{copy:04d}"
        part.mkdir()
        for file, data, found in sources:
            for accession in found:
                fresh = b"99%08d-%s-%06d" % (copy, accession[11:13], int(accession[14:]))
                data = data.replace(accession, fresh)
            name = file.name
            for accession in found:
                name = name.replace(accession.decode(), f"99{copy:08d}{accession[10:].decode()}")
            (part / name).write_bytes(data)
            written += len(data)
            files += 1
            if written >= target:
                break
    return files, written


# --- Running and sampling ----------------------------------------------------------------


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, max) of the RSS in bytes of `root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total = biggest = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        biggest = max(biggest, rss.get(pid, 0))
        stack.extend(children.get(pid, []))
    return total, biggest


def run(cmd: list[str], env: dict, log: Path, every: float = 1.0) -> dict:
    samples: list[tuple[float, int, int]] = []
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample():
            while not done.wait(every):
                samples.append((time.perf_counter() - started, *_tree_rss(proc.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _pid, status, usage = os.wait4(proc.pid, 0)
        done.set()
        sampler.join()
    lines = log.read_text(errors="replace").strip().splitlines()
    return {"exit": os.waitstatus_to_exitcode(status), "wall": time.perf_counter() - started,
            "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "samples": samples,
            "summary": next((x for x in reversed(lines) if " files, " in x), lines[-1:])}


def ingest(paths: list[Path], workers: int, scratch: Path) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="ingest-memory-", dir=scratch))
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("SEARCH_INDEX_DIR", None)
    env.pop("DATABASE_URL", None)
    log = data_dir / "ingest.log"
    subprocess.run([*manage(ROOT), "migrate", "-v", "0"], env=env, check=True)
    result = run([*manage(ROOT), "ingest", "--no-progress", "--workers", str(workers),
                  *map(str, paths)], env, log)
    result["data_dir"] = data_dir
    return result


def report(result: dict, mb: float):
    print(f"  {result['summary']}")
    print(f"  exit {result['exit']}; {mb:.0f} MB in {result['wall']:.0f} s "
          f"({mb / result['wall']:.2f} MB/s), CPU {result['cpu']:.0f} s "
          f"({result['cpu'] / mb:.3f} CPU-s/MB); peak RSS of one process "
          f"{result['peak_rss_mb']:.0f} MB")
    samples = result["samples"]
    if samples:
        tenth = max(1, len(samples) // 10)
        print("  RSS as the run goes (s: all processes / largest one, MB): " + ", ".join(
            f"{t:.0f}: {total / 1e6:.0f}/{big / 1e6:.0f}"
            for t, total, big in samples[tenth - 1::tenth]))
        print(f"  largest sampled: all processes {max(s[1] for s in samples) / 1e6:.0f} MB, "
              f"one process {max(s[2] for s in samples) / 1e6:.0f} MB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=["large", "run"])
    parser.add_argument("--mb", type=float, default=100, help="Size of the large filing.")
    parser.add_argument("--gb", type=float, default=2, help="Size of the long run.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", action="store_true", help="Keep inputs and DATA_DIR.")
    args = parser.parse_args()
    inputs = Path(tempfile.mkdtemp(prefix="ingest-memory-input-", dir=args.scratch))
    try:
        if args.case == "large":
            path = inputs / "0000999999-26-000001.txt"
            size = large_filing(path, args.mb, args.corpus)
            print(f"one 10-K of {size / 1e6:.0f} MB, {args.workers} worker(s)", flush=True)
            result = ingest([path], args.workers, args.scratch)
        else:
            files, size = corpus_copies(inputs, args.gb, args.corpus)
            print(f"{files} files, {size / 1e9:.2f} GB, {args.workers} worker(s)", flush=True)
            result = ingest([inputs], args.workers, args.scratch)
        report(result, size / 1e6)
    finally:
        if not args.keep:
            shutil.rmtree(inputs, ignore_errors=True)
            if "result" in locals():
                shutil.rmtree(result["data_dir"], ignore_errors=True)


if __name__ == "__main__":
    main()
