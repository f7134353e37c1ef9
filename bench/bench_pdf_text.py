"""Figures for the text read from PDF documents (filings.pdftext) over a corpus.

    .venv/bin/python bench/bench_pdf_text.py [PATH ...]   # default: ../shared/corpus

Finds every PDF document of every submission under PATH (through filings.sources and the
parser, as ingest does), reads each one as ingest does, and prints one line per PDF
(accession, sequence, file name, bytes, pages, characters, seconds, error) and a summary:
PDFs found and read, characters, seconds per PDF, the largest resident size of a child
process, failures with their reasons, and the
overhead of the child process alone (an interpreter start and pypdf's import, measured on
a one-line PDF). Not part of the test run.
"""
from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filings import pdftext  # noqa: E402
from filings import submission as sub  # noqa: E402
from filings.sources import read_sources  # noqa: E402
from tests.builders import pdf_bytes  # noqa: E402

CORPUS = Path(os.environ.get("EDGAR_CORPUS", ROOT.parent / "shared" / "corpus"))


def main(paths: list[str]) -> None:
    times, chars, failures = [], 0, Counter()
    found = read = 0
    for source in read_sources(paths or [str(CORPUS)]):
        if source.error:
            continue
        try:
            submissions = sub.parse(source.data, source.name)
        except sub.SubmissionError:
            continue
        for submission in submissions:
            for doc in submission.documents:
                if doc.kind != sub.PDF:
                    continue
                found += 1
                started = time.perf_counter()
                result = pdftext.extract(doc.data or b"")
                seconds = time.perf_counter() - started
                times.append(seconds)
                chars += len(result.text)
                read += bool(result.text)
                if result.error:
                    failures[result.error] += 1
                print(f"{submission.accession_number}\t{doc.sequence}\t{doc.filename}\t"
                      f"{len(doc.data or b''):,} B\t{result.pages} pages\t"
                      f"{len(result.text):,} chars\t{seconds:.3f} s\t{result.error}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    overhead = [_timed(pdf_bytes(["one line"])) for _ in range(10)]
    print(f"{found} PDFs, {read} with text, {chars:,} characters; "
          f"{statistics.mean(times) if times else 0:.3f} s per PDF "
          f"(max {max(times, default=0):.3f} s), largest child {peak:.0f} MB resident; "
          f"child process alone {statistics.median(overhead):.3f} s (median of 10)")
    for reason, n in failures.most_common():
        print(f"  {n} x {reason}")


def _timed(data: bytes) -> float:
    started = time.perf_counter()
    pdftext.extract(data)
    return time.perf_counter() - started


if __name__ == "__main__":
    main(sys.argv[1:])
