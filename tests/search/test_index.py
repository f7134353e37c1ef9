"""The index follows the database, whichever engine holds it: ingest, re-ingest, delete,
rebuild; Whoosh's writers queue; PostgreSQL's entries commit with the filing."""
import io
import threading
import time

import pytest
from django.core.management import call_command
from django.db import transaction

from filings.ingest import delete_filing
from filings.models import Document, Filing
from search import backends, index
from search.backends import whoosh
from search.filters import SearchRequest
from search.query import parse
from tests.conftest import corpus_file

SMALL_8K = "0000320193-99-000010.txt"
FORM_4A = "0000707549-25-000004.txt"


@pytest.fixture
def whoosh_engine(settings):
    """For tests of the Whoosh engine's directory and lock, whatever SEARCH_BACKEND says."""
    settings.SEARCH_BACKEND = "whoosh"


def indexed(accession):
    """(sequence, document type) of each entry the configured engine holds for a filing."""
    entries = backends.get().iter_results(parse(""), SearchRequest(), sort="newest",
                                          view="documents")
    return sorted((h.sequence, h.doc_type) for h in entries if h.accession == accession)


def test_a_filing_is_searchable_when_ingest_returns(ingest_paths, client, search_backend):
    ingest_paths(corpus_file(FORM_4A))
    assert indexed("0000707549-25-000004") == [(1, "4/A")]
    data = client.get("/api/search", {"q": "Sohail"}).json()
    assert [r["accession_number"] for r in data["results"]] == ["0000707549-25-000004"]
    assert data["results"][0]["form_type"] == "4/A"
    assert {e["name"] for e in data["results"][0]["entities"]} == {
        "Ahmed Sohail U", "LAM RESEARCH CORP"
    }


def test_reingest_replaces_entries_and_delete_removes_them(ingest_paths, client,
                                                          search_backend):
    ingest_paths(corpus_file(SMALL_8K))
    accession = "0000320193-99-000010"
    assert indexed(accession) == [(1, "8-K")]
    # The stored text changes (as a re-derive would change it); re-indexing follows.
    Document.objects.filter(filing__accession_number=accession).update(
        text="A brand new zyxwordq appears"
    )
    index.update_filings([accession])
    assert indexed(accession) == [(1, "8-K")]  # replaced, not duplicated
    assert client.get("/api/search", {"q": "zyxwordq"}).json()["total"] == 1

    delete_filing(Filing.objects.get(accession_number=accession))
    assert indexed(accession) == []
    assert client.get("/api/search", {"q": "zyxwordq"}).json()["total"] == 0


def test_update_of_a_vanished_filing_removes_its_entries(ingest_paths, search_backend):
    ingest_paths(corpus_file(SMALL_8K))
    Filing.objects.filter(accession_number="0000320193-99-000010").delete()
    index.update_filings(["0000320193-99-000010"])
    assert indexed("0000320193-99-000010") == []


def test_rebuild_index_restores_a_drifted_index(ingest_paths, client, search_backend):
    ingest_paths(corpus_file(SMALL_8K), corpus_file(FORM_4A))
    index.remove_filings(["0000320193-99-000010"])  # the index has drifted
    assert indexed("0000320193-99-000010") == []
    out = io.StringIO()
    call_command("rebuild_index", stdout=out)
    assert out.getvalue().startswith(f"{Filing.objects.count()} filings, ")
    assert indexed("0000320193-99-000010") == [(1, "8-K")]
    assert indexed("0000707549-25-000004") == [(1, "4/A")]
    assert index.differences() == (set(), set())


def test_rebuild_index_swaps_in_a_fresh_directory(ingest_paths, client, settings,
                                                   whoosh_engine):
    ingest_paths(corpus_file(SMALL_8K), corpus_file(FORM_4A))
    before = whoosh.current_dir()
    index.remove_filings(["0000320193-99-000010"])  # the index has drifted
    assert indexed("0000320193-99-000010") == []
    call_command("rebuild_index", verbosity=0)
    after = whoosh.current_dir()
    assert after != before and after.parent == before.parent
    assert (settings.SEARCH_INDEX_DIR / "current").is_symlink()
    assert indexed("0000320193-99-000010") == [(1, "8-K")]
    # A searcher opened before the swap moves to the new index on its next request.
    assert client.get("/api/search", {"q": "cik:320193"}).json()["total"] >= 1


def test_a_second_writer_waits_for_the_lock(ingest_paths, whoosh_engine):
    ingest_paths(corpus_file(FORM_4A))
    ix = whoosh.open_index()
    held = ix.writer()  # another writer (think: a bulk ingest in another process)
    done = threading.Event()

    def upload():
        index.remove_filings(["0000707549-25-000004"])
        done.set()

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.5)
    assert not done.is_set()  # waiting, not failed
    held.commit()
    thread.join(timeout=30)
    assert done.is_set()
    assert indexed("0000707549-25-000004") == []


def test_index_is_created_on_first_use(settings, tmp_path, db, whoosh_engine):
    settings.SEARCH_INDEX_DIR = tmp_path / "fresh"
    assert whoosh.searcher().doc_count() == 0
    assert (tmp_path / "fresh" / "current").exists()


def test_postgres_entries_commit_and_roll_back_with_the_filing(ingest_paths, client,
                                                               search_backend):
    if search_backend != "postgres":
        pytest.skip("only an engine in the database shares the filing's transaction")
    ingest_paths(corpus_file(SMALL_8K))
    accession = "0000320193-99-000010"
    assert index.pending() == 0  # applied in the storing transaction, nothing recorded left

    def total(q):
        return client.get("/api/search", {"q": q}).json()["total"]

    before = total("cik:320193")
    with pytest.raises(RuntimeError), transaction.atomic():
        Document.objects.filter(filing__accession_number=accession).update(
            text="A brand new zyxwordq appears"
        )
        index.apply_in_transaction(accession)
        assert total("zyxwordq") == 1  # the transaction sees its own entries
        raise RuntimeError("the store fails after indexing")
    assert total("zyxwordq") == 0  # rolled back with the document
    assert total("cik:320193") == before
