"""An `ingest` run and admin uploads at the same time, as in production: separate
processes sharing one DATA_DIR and one database (the database the suite runs on: SQLite
in DATA_DIR, or a scratch PostgreSQL database beside the test database) and the search
engine the suite runs with. Neither may lose the other's filings, the index must hold
every one of them, and two processes storing the same filings both succeed."""
import json
import re
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import corpus_file, separate_instance

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parents[2]

INGESTED = [
    "0000014272-94-000003.txt",
    "0000037996-94-000005.txt",
    "0000072333-23-000015.txt",
    "0000796343-23-000044.txt",
    "0000943374-24-000509.txt",
    "0001010412-10-000078.txt",
    "0001193125-23-048785.txt",
    "0001213900-25-026186.txt",
    "0001628280-25-058337.txt",
]
UPLOADED = [
    "0000320193-97-000011.txt",
    "0000320193-99-000002.txt",
    "0000912057-00-023442.txt",
    "0001779026-23-000027.txt",
]
# Given to both at once: one stores it, the other finds it already there.
BOTH = "0000320193-97-000014.txt"

# Each helper process sets Django up first, then waits for the same "go" file, so the
# two really run side by side; each prints its start and end times and what it did.
PREAMBLE = """
import json, os, sys, time
import django
django.setup()
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.01)
started = time.time()
"""

INGEST = PREAMBLE + """
import io

from django.core.management import call_command

out = io.StringIO()
call_command("ingest", *sys.argv[2:], "--no-progress", stdout=out)
print(json.dumps({"started": started, "ended": time.time(), "summary": out.getvalue()}))
"""

UPLOAD = PREAMBLE + """
import re

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

user = User.objects.create_superuser("uploader", password="x")
client = Client()
client.force_login(user)
results = []
for path in sys.argv[2:]:
    with open(path, "rb") as fh:
        upload = SimpleUploadedFile(os.path.basename(path), fh.read())
    response = client.post("/admin/filings/filing/upload/", {"files": [upload]}, follow=True)
    # The upload is a job: run a worker, then read the status page.
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    results.append(response.status_code)
    page = client.get(response.redirect_chain[-1][0]).content.decode()
    results.extend(re.findall(r'<tr class="outcome outcome-(\\w+)">', page))
print(json.dumps({"started": started, "ended": time.time(), "results": results}))
"""


def start(env, code, *args):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(process):
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def accession_of(path):
    return Path(path).name[:20]


@pytest.fixture
def data_env(tmp_path):
    with separate_instance(tmp_path / "data") as instance:
        yield instance


def stored_documents(shared):
    """{accession: [documents]} straight from the shared database."""
    rows = shared.query(
        "SELECT f.accession_number, d.kind, d.type, d.filename, length(d.text) > 0 "
        "FROM filings_filing f LEFT JOIN filings_document d ON d.filing_id = f.id"
    )
    found = {}
    for accession, kind, doc_type, filename, has_text in rows:
        documents = found.setdefault(accession, [])
        if kind is not None:
            documents.append(
                SimpleNamespace(kind=kind, type=doc_type, filename=filename,
                                text="x" if has_text else "")
            )
    return found


def indexed_entries(shared, settings) -> Counter:
    """{accession: entries} as the helpers' search engine holds them."""
    if settings.SEARCH_BACKEND == "postgres":
        return Counter(dict(shared.query(
            "SELECT accession, count(*) FROM search_entry GROUP BY accession")))
    from search.backends import whoosh

    settings.SEARCH_INDEX_DIR = shared.data / "index"
    with whoosh.open_index().searcher() as searcher:
        return Counter(f["accession"] for f in searcher.all_stored_fields())


def test_an_ingest_run_and_uploads_at_the_same_time_lose_nothing(data_env, settings, tmp_path):
    env = data_env.env
    ingested = [str(corpus_file(n)) for n in [*INGESTED, BOTH]]
    uploaded = [str(corpus_file(n)) for n in [BOTH, *UPLOADED]]
    go = tmp_path / "go"

    ingest = start(env, INGEST, str(go), *ingested)
    upload = start(env, UPLOAD, str(go), *uploaded)
    time.sleep(1.0)  # let both set Django up
    go.touch()
    ingest_run, upload_run = finish(ingest), finish(upload)

    assert ingest_run["summary"].startswith(f"{len(ingested)} files, filings: ")
    # The two really overlapped.
    assert ingest_run["started"] < upload_run["ended"]
    assert upload_run["started"] < ingest_run["ended"]
    # Every upload was answered, each with one line; the shared file was stored once.
    results = upload_run["results"]
    assert results.count(200) == len(uploaded)
    lines = [r for r in results if r != 200]
    assert len(lines) == len(uploaded)
    assert "failed" not in lines
    assert lines[1:] == ["new"] * len(UPLOADED)
    assert lines[0] in ("new", "unchanged")

    documents = stored_documents(data_env)
    expected = {accession_of(p) for p in ingested + uploaded}
    assert set(documents) == expected
    assert all(documents[a] for a in expected), "a filing lost its documents"

    # The index holds exactly the indexable documents of every filing from both.
    from search import index

    entries = indexed_entries(data_env, settings)
    for accession in sorted(expected):
        want = sum(1 for d in documents[accession] if index.is_indexable(d))
        assert entries[accession] == want > 0, accession
    assert set(entries) == expected


SUMMARY = re.compile(r"filings: (\d+) new, (\d+) updated, (\d+) unchanged, (\d+) failed")


def test_two_ingests_of_the_same_filings_at_once_both_succeed(data_env, settings, tmp_path):
    # On PostgreSQL both used to fail "duplicate key value violates unique constraint"
    # and exit 1; now the second writer of an accession waits for the first.
    files = [str(corpus_file(n)) for n in [BOTH, *UPLOADED]]
    go = tmp_path / "go"
    first = start(data_env.env, INGEST, str(go), *files)
    second = start(data_env.env, INGEST, str(go), *files)
    time.sleep(1.0)
    go.touch()
    runs = [finish(first), finish(second)]  # each exited 0
    counts = [tuple(map(int, SUMMARY.search(run["summary"]).groups())) for run in runs]
    assert all(failed == 0 for *_, failed in counts), [r["summary"] for r in runs]
    new = sum(c[0] for c in counts)
    assert new == len(files)  # each filing stored once; the other run found it there
    assert all(sum(c[:3]) == len(files) for c in counts)
    assert runs[0]["started"] < runs[1]["ended"] and runs[1]["started"] < runs[0]["ended"]

    documents = stored_documents(data_env)
    assert set(documents) == {accession_of(p) for p in files}
    from search import index

    entries = indexed_entries(data_env, settings)
    for accession, docs in documents.items():
        assert entries[accession] == sum(1 for d in docs if index.is_indexable(d)) > 0


@pytest.mark.django_db(transaction=True)
def test_ingests_go_on_while_postgres_rebuilds(settings, tmp_path):
    """A rebuild replaces a batch of filings' entries per transaction: between batches
    an ingest stores and indexes a filing at once (it used to wait for the whole
    rebuild, which held a lock on the index table from start to end)."""
    import threading

    from django.db import connection, connections

    from filings.ingest import ingest
    from filings.sources import read_sources
    from search import backends
    from search.index import differences

    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine needs PostgreSQL (set DATABASE_URL)")
    settings.SEARCH_BACKEND = "postgres"
    settings.SEARCH_INDEX_DIR = str(tmp_path / "index")
    first = ["0000320193-97-000011.txt", "0000320193-99-000002.txt", "0000320193-99-000010.txt"]
    ingest(read_sources([str(corpus_file(name)) for name in first]))
    outcome = {}

    def store_during_rebuild():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SET lock_timeout = '10s'")
            summary = ingest(read_sources([str(corpus_file("0000320193-97-000014.txt"))]))
            outcome["line"] = summary.line()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = repr(exc)
        finally:
            connections.close_all()

    def between_batches(_count):
        if not outcome:
            worker = threading.Thread(target=store_during_rebuild)
            worker.start()
            worker.join(60)

    stats = backends.get().rebuild(batch=1, progress=between_batches)
    assert "1 new" in outcome.get("line", ""), outcome
    assert stats["filings"] == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT accession) FROM search_entry")
        assert cursor.fetchone()[0] == 4  # the three rebuilt and the one stored meanwhile
    assert differences() == (set(), set())
