"""Run a management command and SIGKILL it at a chosen moment, or print a snapshot of a
DATA_DIR's database and index. Used by the crash tests as a subprocess:

    python tests/killpoint.py POINT N command [args...]   # die at the Nth time POINT is hit
    python tests/killpoint.py snapshot                    # JSON of what is stored and indexed

The moments (each a real function of the pipeline, wrapped here, never in the product):
  store    inside the Nth store transaction, its rows written, not committed
  between  the Nth time ingest asks for the recorded index work to be applied
           (filings committed, not yet indexed)
  commit   in the Nth Whoosh commit: segment files written, table of contents not
  applied  after the Nth index write is durable, before its IndexChange rows are deleted
  fill     while a rebuild fills its new generation, at the Nth batch of filings
  swap     a rebuild's new generation complete, just before it is swapped in
"""
import functools
import hashlib
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _die_at(obj, name, n, after=False):
    original = getattr(obj, name)
    calls = {"count": 0}

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == n and not after:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if calls["count"] == n and after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(obj, name, wrapper)


def arm(point: str, n: int):
    from whoosh.writing import SegmentWriter

    from filings import ingest
    from search.backends import whoosh

    if point == "store":
        _die_at(ingest, "_record_index_change", n, after=True)
    elif point == "between":
        _die_at(ingest, "apply_index_work", n)
    elif point == "commit":
        _die_at(SegmentWriter, "_commit_toc", n)
    elif point == "applied":
        _die_at(whoosh.WhooshBackend, "update_filings", n, after=True)
    elif point == "fill":
        _die_at(whoosh, "entries_for", n)
    elif point == "swap":
        _die_at(whoosh, "_swap_in", n)
    else:
        raise SystemExit(f"unknown point {point!r}")


def snapshot() -> dict:
    from filings.models import Document, Filing, IndexChange
    from search import index
    from search.backends import get

    def digest(text):
        return hashlib.sha256((text or "").encode()).hexdigest()[:16]

    documents = sorted(
        [d.filing.accession_number, d.sequence, d.type, digest(d.text), digest(d.html)]
        for d in Document.objects.select_related("filing")
    )
    filings = sorted(
        [f.accession_number, f.form_type, f.parties.count()] for f in Filing.objects.all()
    )
    missing, extra = index.differences()
    return {
        "filings": filings,
        "documents": documents,
        "entries": sorted(get().entry_ids()),
        "missing": sorted(missing),
        "extra": sorted(extra),
        "pending": IndexChange.objects.count(),
    }


def main(argv):
    import django

    django.setup()
    if argv[1] == "snapshot":
        print(json.dumps(snapshot()))
        return 0
    point, n, command = argv[1], int(argv[2]), argv[3:]
    arm(point, n)
    from django.core.management import call_command

    call_command(*command)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
