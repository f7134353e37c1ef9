"""Section detection (filings.sections) on every 10-K, 10-Q and 8-K main document of the
corpus: which items were found, what fraction of annual reports have Items 1A and 7 (and
quarterly reports their MD&A, Item 2), how many anchors were placed in the display HTML,
and the time detection took.

    .venv/bin/python bench/bench_sections.py [--list]

Reads ../shared/corpus/MANIFEST.tsv (or $EDGAR_CORPUS); derives each filing as ingest
does (filings.ingest.prepare_bytes, nothing stored), then times detection alone again on
each main document's text. --list prints every document's sections. Not part of the test
run.
"""
import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EDGAR_CORPUS", ROOT.parent / "shared" / "corpus"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="Print each document's sections.")
    args = parser.parse_args()
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-sections-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from filings import sections as sec
    from filings.ingest import prepare_bytes
    from filings.sanitize import text_and_html
    from filings.submission import SubmissionError

    with open(CORPUS / "MANIFEST.tsv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t")
                if sec.family(r["form_type"])]
    by_family: dict[str, list] = {"annual": [], "quarterly": [], "current": []}
    skipped, seconds, anchors, total_sections = [], 0.0, 0, 0
    for row in rows:
        try:
            prepared = prepare_bytes((CORPUS / row["file"]).read_bytes(), row["file"])
            documents = [(d.document.type, d.text, d.sections)
                         for p in prepared for d in p.documents]
        except SubmissionError as exc:
            # A document without its submission (no accession number: not ingestible):
            # its main document's text, derived as ingest would.
            raw = (CORPUS / row["file"]).read_text("latin-1")
            if "<TEXT>" not in raw:
                skipped.append(f"{row['file']}: {exc.reason}")
                continue
            text, html = text_and_html(raw[raw.index("<TEXT>") + 6:], lambda src: None)
            found = sec.find_sections(row["form_type"], text)
            sec.add_anchors(html, text, found)
            documents = [(row["form_type"], text, [s.stored() for s in found])]
        for doc_type, text, stored in documents:
            kind = sec.family(doc_type)
            if kind is None:
                continue
            started = time.perf_counter()
            sec.find_sections(doc_type, text)
            seconds += time.perf_counter() - started
            items = [s["item"] for s in stored]
            total_sections += len(items)
            anchors += sum(1 for s in stored if s["anchor"])
            by_family[kind].append((row["file"], doc_type, len(text), items))
            if args.list:
                print(f"{row['file']} {doc_type} ({len(text):,} chars): "
                      + (" ".join(f"{s['part'] + '-' if s['part'] else ''}{s['item']}"
                                  for s in stored) or "none"))
    print()
    documents = sum(map(len, by_family.values()))
    print(f"{documents} main documents ({len(skipped)} files skipped), {total_sections} "
          f"sections, {anchors} anchors placed in the HTML; detection "
          f"{seconds * 1000:.0f} ms in all")
    for kind, wanted in (("annual", ("1A", "7")), ("quarterly", ("2",)),
                         ("current", ())):
        docs = by_family[kind]
        found = sum(1 for *_, items in docs if items)
        line = f"{kind:9}: {len(docs):3} documents, {found} with sections"
        for item in wanted:
            have = sum(1 for *_, items in docs if item in items)
            line += f"; Item {item} in {have}/{len(docs)}"
        if kind == "annual":
            both = sum(1 for *_, items in docs if "1A" in items and "7" in items)
            # Item 1A exists in 10-Ks for fiscal years ending after 1 December 2005 (the
            # document-only file, Verizon's, is for 2008).
            modern = [d for d in docs if d[0].startswith("noacc") or (
                d[0][11:13].isdigit() and int(d[0][11:13]) in range(6, 90))]
            have = sum(1 for *_, items in modern if "1A" in items)
            line += (f"; both in {both}; of the {len(modern)} filed since 2006, "
                     f"{have} have 1A")
        print(line)
        for file, doc_type, size, items in docs:
            if not items:
                print(f"    none found: {file} {doc_type} ({size:,} chars)")
    for line in skipped:
        print(f"    skipped: {line}")


if __name__ == "__main__":
    main()
