"""Insider transactions of a corpus: how many ownership reports (Forms 3, 4, 5 and
amendments, by MANIFEST.tsv's form type), how many carry ownership XML, the transaction
rows `filings.ownership` reads from them (one per transaction and reporting owner), and
the reports whose XML could not be read. Parses only: no database.

    .venv/bin/python bench/bench_insiders.py [CORPUS]     # default ../shared/corpus
"""
import csv
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filings import ownership  # noqa: E402
from filings import submission as sub  # noqa: E402

OWNERSHIP_FORMS = {"3", "4", "5", "3/A", "4/A", "5/A"}


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
                / "shared" / "corpus")
    with open(root / "MANIFEST.tsv", newline="") as fh:
        manifest = list(csv.DictReader(fh, delimiter="\t"))
    reports = [row for row in manifest if row["form_type"] in OWNERSHIP_FORMS]
    started = time.perf_counter()
    with_xml, rows, failures, codes, tables = 0, 0, [], Counter(), Counter()
    for row in manifest:
        try:
            submissions = sub.parse((root / row["file"]).read_bytes(), row["file"])
        except sub.SubmissionError:
            continue  # not a storable submission (the corpus's noacc-* files)
        for submission in submissions:
            xml = [d for d in submission.documents
                   if d.kind == sub.XML and ownership.is_ownership_xml(d.text)]
            if not xml:
                continue
            with_xml += 1
            for doc in xml:
                try:
                    found = ownership.transactions(doc.text, doc.sequence)
                except ValueError as exc:
                    failures.append(f"{row['file']} document {doc.sequence}: {exc}")
                    continue
                rows += len(found)
                codes.update(t.code for t in found)
                tables.update(t.table for t in found)
    seconds = time.perf_counter() - started
    by_form = Counter(r["form_type"] for r in reports)
    print(f"{len(manifest)} corpus files; {len(reports)} ownership reports by form type "
          f"({', '.join(f'{f} {n}' for f, n in sorted(by_form.items()))})")
    print(f"{with_xml} filings with ownership XML; {rows} transaction rows "
          f"({', '.join(f'{t} {n}' for t, n in sorted(tables.items()))}); "
          f"codes: {', '.join(f'{c} {n}' for c, n in codes.most_common())}")
    print(f"{len(failures)} failures{': ' if failures else ''}{'; '.join(failures)}")
    print(f"{seconds:.1f} s (parsing every corpus file included)")


if __name__ == "__main__":
    main()
