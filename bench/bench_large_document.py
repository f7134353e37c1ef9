"""Server cost of a very large document's pages: time, response size and peak memory.

    .venv/bin/python bench/bench_large_document.py [--mb 200] [--kind html|text]

Stores one generated document of about --mb megabytes of display HTML in a throwaway
DATA_DIR (nested tables in a wrapper div, or a plain-text filing's one <pre>), cutting it
into pages as ingest does (timed), then requests each page type in a fresh process and
prints the time, the response size and the process's peak memory (RSS) against the same
process's peak before the request. A `?q=` page is requested twice in one process: first
with every page's hit counts to make (the whole document read once), then cached.
Not part of the test run.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACCESSION = "0000999999-24-000001"


def setup_django(data_dir: str):
    os.environ["DATA_DIR"] = data_dir
    os.environ["DEBUG"] = "0"  # production template loading (cached loader)
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    settings.STORAGES["staticfiles"]["BACKEND"] = (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )


def generated(mb: float, kind: str) -> str:
    target = int(mb * 1_000_000)
    if kind == "text":
        from filings.sanitize import text_to_html

        line = "Item {}: net revenue &amp; costs of the quarter were as follows\n"
        lines = [line.format(i) for i in range(target // len(line) + 1)]
        return text_to_html("".join(lines).replace("&amp;", "&"))
    parts = ['<div style="font-family:Times"><div style="margin:0 5%">']
    size, section = 0, 0
    while size < target:
        rows = "".join(
            f"<tr><td>Row {section}.{r}</td><td><table><tbody><tr><td>nested revenue {r}"
            f"</td></tr></tbody></table></td><td>{r * 7}</td></tr>"
            for r in range(400)
        )
        part = (f'<div><h2 id="s{section}">Section {section}</h2><p>Discussion &amp; '
                f'analysis.</p><table border="1"><tbody>{rows}</tbody></table></div>')
        parts.append(part)
        size += len(part)
        section += 1
    parts.append("</div></div>")
    return "".join(parts)


def build(data_dir: str, mb: float, kind: str):
    setup_django(data_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from filings import pages
    from filings.models import Company, Document, Filing, FilingParty, Kind, Role

    html = generated(mb, kind)
    started = time.perf_counter()
    breaks = pages.compute_breaks(html)
    seconds = time.perf_counter() - started
    print(f"document: {len(html) / 1e6:.1f} MB of display HTML ({kind}); "
          f"cut into {len(breaks) + 1} pages in {seconds:.1f} s")
    filing = Filing.objects.create(accession_number=ACCESSION, form_type="10-K")
    company = Company.objects.create(cik=999999, name="BIG DOCUMENT CORP")
    FilingParty.objects.create(filing=filing, company=company, role=Role.FILER,
                               name=company.name)
    Document.objects.create(filing=filing, sequence=1, type="10-K", filename="big.htm",
                            kind=Kind.TEXT if kind == "text" else Kind.HTML,
                            size=len(html), html=html, page_breaks=breaks)
    return len(breaks) + 1


def peak_mb() -> float:
    """This process's peak resident memory. Not getrusage(): Linux carries ru_maxrss
    over exec, so a child would report its parent's peak."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(data_dir: str, urls: list[str]):
    """In a fresh process: request each URL, print time, size and peak memory."""
    setup_django(data_dir)
    import logging

    logging.getLogger("django.request").setLevel(logging.ERROR)
    from django.test import Client

    client = Client()
    client.get("/no-such-page/")  # load code and templates: the floor
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    for url in urls:
        before = peak_mb()
        started = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - started
        peak = peak_mb()
        print(f"  {url:<62} {response.status_code}  {seconds * 1000:7.0f} ms  "
              f"{len(response.content) / 1e6:6.2f} MB  peak RSS {peak:6.0f} MB "
              f"(+{peak - before:.0f} MB)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200,
                        help="Size of the generated display HTML in MB (default 200).")
    parser.add_argument("--kind", choices=("html", "text"), default="html",
                        help="Nested tables in divs (default) or a plain-text <pre>.")
    parser.add_argument("--serve", nargs="+", metavar=("DATA_DIR", "URL"),
                        help=argparse.SUPPRESS)  # the child process's entry point
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1:])
        return

    data_dir = tempfile.mkdtemp(prefix="bench-large-document-")
    count = build(data_dir, args.mb, args.kind)
    doc = f"/filings/{ACCESSION}/1/"
    runs = [
        [f"/filings/{ACCESSION}/"],
        [doc],
        [f"{doc}?page={count // 2}"],
        [f"{doc}?page={count}"],
        [f"{doc}?page={count // 2}&q=revenue", f"{doc}?page={count // 2 + 1}&q=revenue"],
        [f"{doc}?page={count // 2}&q=zyzzyva"],
        [f"{doc}?page={count // 2}&q=td"],  # a word of the markup: the slow way
    ]
    print("each line a request; lines in one group share a process (and its cache):")
    for urls in runs:
        subprocess.run([sys.executable, __file__, "--serve", data_dir, *urls], check=True)
    print(f"data left in {data_dir}")


if __name__ == "__main__":
    main()
