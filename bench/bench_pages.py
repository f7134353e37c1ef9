"""Server time of the filing and document pages of the largest filing in the corpus.

    .venv/bin/python bench/bench_pages.py [SUBMISSION] [--runs N]

Ingests the submission (default: the largest file of ../shared/corpus/MANIFEST.tsv with
an accession number) into a throwaway DATA_DIR, then renders each page through Django's
test client, prints median and 90th-percentile times, and the same for a trivial page
(the JSON API) and the 404 page as the floor. Not part of the test run.
"""
import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EDGAR_CORPUS", ROOT.parent / "shared" / "corpus"))


def largest_submission() -> Path:
    with open(CORPUS / "MANIFEST.tsv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["accession"]]
    row = max(rows, key=lambda r: int(r["size_bytes"]))
    return CORPUS / row["file"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", help="Submission file (default: largest).")
    parser.add_argument("--runs", type=int, default=50, help="Requests per page (default 50).")
    args = parser.parse_args()
    path = Path(args.submission) if args.submission else largest_submission()

    data_dir = tempfile.mkdtemp(prefix="bench-pages-")
    os.environ["DATA_DIR"] = data_dir
    os.environ["DEBUG"] = "0"  # production template loading (cached loader)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))

    import django
    from django.conf import settings

    django.setup()
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)  # no line per 404
    # No collectstatic manifest in a throwaway directory: plain static URLs.
    settings.STORAGES["staticfiles"]["BACKEND"] = (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )

    from django.core.management import call_command
    from django.test import Client

    from filings.ingest import ingest
    from filings.models import Filing
    from filings.sources import read_sources

    call_command("migrate", verbosity=0)
    summary = ingest(read_sources([str(path)]))
    accession = next(o.accession_number for o in summary.outcomes if o.accession_number)
    filing = Filing.objects.get(accession_number=accession)
    primary = filing.primary_document()
    words = (primary.text or "").split()
    q = max(set(words[:2000]), key=words.count, default="the") if words else "the"

    print(f"{path.name}: {filing.form_type} {accession}, {filing.documents.count()} documents, "
          f"{filing.original_size / 1e6:.1f} MB; primary document {len(primary.html) / 1e6:.2f} "
          f"MB of stored HTML")
    client = Client()
    pages = [
        ("floor: JSON API", f"/api/filings/{accession}"),
        ("floor: 404 page", "/filings/0000000000-00-000000/"),
        ("filing page", filing.get_absolute_url()),
        ("primary document page", primary.get_absolute_url()),
        (f"primary document ?q={q}", f"{primary.get_absolute_url()}?q={q}"),
    ]
    for label, url in pages:
        client.get(url)  # warm caches (templates, connection)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        size = len(response.content) / 1e3
        times.sort()
        p90 = times[int(len(times) * 0.9) - 1]
        print(f"  {label:<32} median {statistics.median(times):7.1f} ms   p90 {p90:7.1f} ms   "
              f"{response.status_code} {size:8.0f} kB")


if __name__ == "__main__":
    main()
