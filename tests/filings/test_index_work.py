"""The index work a change calls for is recorded in the change's own transaction and
applied by the next drain; header-only filings are found by metadata; a file of several
submissions is recognised on the next run; huge party lists are stored in bulk."""
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from filings import ingest as pipeline
from filings import signals
from filings.ingest import delete_filing, prepare_bytes, store
from filings.models import Filing, FormerName, IndexChange
from filings.sources import Source
from search import index
from search.backends import get as backend
from tests.conftest import corpus_file

SMALL_8K = "0000320193-99-000010.txt"
HEADER_ONLY_4 = "0001062993-24-012217.hdr.sgml"


@contextmanager
def no_drain():
    """Record index work but apply none of it (as if the process died after storing).
    With Whoosh: an engine in the database applies it in the storing transaction."""
    from search.apps import _drain

    signals.index_work_recorded.disconnect(dispatch_uid="search-drain")
    try:
        with override_settings(SEARCH_BACKEND="whoosh"):
            yield
    finally:
        signals.index_work_recorded.connect(_drain, dispatch_uid="search-drain")


@pytest.fixture
def undrained():
    with no_drain():
        yield


def entries(accession):
    return sorted(e for e in backend().entry_ids() if e.startswith(accession + "/"))


def test_a_stored_filing_records_its_index_work_until_a_drain_applies_it(
    ingest_paths, undrained
):
    ingest_paths(corpus_file(SMALL_8K))
    assert list(IndexChange.objects.values_list("accession_number", flat=True)) == [
        "0000320193-99-000010"
    ]
    assert entries("0000320193-99-000010") == []  # stored, not yet searchable
    assert index.drain() == 1
    assert entries("0000320193-99-000010") == ["0000320193-99-000010/1"]
    assert not IndexChange.objects.exists()


def test_a_failed_store_records_no_index_work(db, monkeypatch):
    prepared = prepare_bytes(corpus_file(SMALL_8K).read_bytes(), SMALL_8K)[0]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "_store_parties", broken)
    outcome = store(prepared, SMALL_8K)
    assert outcome.status == "failed" and "disk full" in outcome.error
    assert not Filing.objects.exists() and not IndexChange.objects.exists()


def test_the_next_ingest_run_applies_work_an_earlier_run_left(ingest_paths):
    with no_drain():
        ingest_paths(corpus_file(SMALL_8K))
    assert entries("0000320193-99-000010") == []
    summary = ingest_paths(corpus_file(SMALL_8K))  # unchanged, yet the index catches up
    assert summary.counts["unchanged"] == 1
    assert entries("0000320193-99-000010") == ["0000320193-99-000010/1"]
    assert not IndexChange.objects.exists()


def test_a_delete_records_and_applies_its_index_work(ingest_paths):
    ingest_paths(corpus_file(SMALL_8K))
    assert entries("0000320193-99-000010")
    delete_filing(Filing.objects.get(accession_number="0000320193-99-000010"))
    assert entries("0000320193-99-000010") == []
    assert not IndexChange.objects.exists()


def test_check_index_reports_drift_and_repairs_it(ingest_paths):
    ingest_paths(corpus_file(SMALL_8K), corpus_file(HEADER_ONLY_4))
    index.remove_filings(["0000320193-99-000010"])  # the index drifts behind our back
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_index", stdout=out)
    assert failed.value.returncode == 1
    assert "0000320193-99-000010/1" in out.getvalue()
    out = StringIO()
    call_command("check_index", "--repair", stdout=out)
    assert "re-indexed 1 filing" in out.getvalue()
    assert "the index matches the database" in out.getvalue()
    assert index.differences() == (set(), set())


def test_pending_work_is_a_system_check_warning(ingest_paths, undrained):
    assert not [m for m in checks.run_checks() if m.id == "search.W001"]
    ingest_paths(corpus_file(SMALL_8K))
    warnings = [m for m in checks.run_checks() if m.id == "search.W001"]
    assert len(warnings) == 1 and "1 filing change" in warnings[0].msg


def test_header_only_filing_is_found_by_metadata_not_by_words(ingest_paths, client):
    ingest_paths(corpus_file(HEADER_ONLY_4))
    accession = "0001062993-24-012217"
    assert entries(accession) == [f"{accession}/0"]
    by_form = client.get("/api/search", {"form": "4"}).json()
    assert [r["accession_number"] for r in by_form["results"]] == [accession]
    by_company = client.get("/api/search", {"q": "company:hassett"}).json()
    assert by_company["total"] == 1
    assert client.get("/api/search", {"q": "hassett"}).json()["total"] == 0  # no body
    page = client.get("/search/", {"form": "4"})
    assert f'href="/filings/{accession}/' in page.content.decode()
    csv_rows = client.get("/search.csv", {"form": "4"}).getvalue().decode().splitlines()
    assert len(csv_rows) == 2 and accession in csv_rows[1]


def test_a_header_only_filing_gains_documents_and_loses_its_metadata_entry(ingest_paths):
    # The full submission of the same filing arrives later: the document entries replace
    # the metadata-only one.
    ingest_paths(corpus_file("0001924152-24-000002-index-headers.html"))
    assert entries("0001924152-24-000002") == ["0001924152-24-000002/0"]
    filing = Filing.objects.get(accession_number="0001924152-24-000002")
    filing.documents.create(sequence=1, type="4", kind="xml", text="ownership table words")
    index.update_filings([filing.accession_number])
    assert entries("0001924152-24-000002") == ["0001924152-24-000002/1"]


def test_a_file_of_several_submissions_is_recognised_on_the_next_run(db, monkeypatch):
    data = corpus_file(SMALL_8K).read_bytes() + corpus_file(
        "0000912057-00-002128.txt"
    ).read_bytes()
    first = pipeline.ingest([Source("two.txt", data)])
    assert first.counts["new"] == 2

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(pipeline, "prepare_bytes", must_not_parse)
    second = pipeline.ingest([Source("two-again.txt", data)])
    assert second.counts == {"new": 0, "updated": 0, "unchanged": 2, "failed": 0}


def test_thousands_of_parties_and_former_names_take_a_fixed_number_of_queries(db):
    prepared = prepare_bytes(corpus_file(SMALL_8K).read_bytes(), SMALL_8K)[0]
    party = prepared.submission.parties[0]
    from filings.submission import FormerName as Former

    party.former_names = [Former(f"OLD NAME {i}", None) for i in range(20_000)]
    with CaptureQueriesContext(connection) as queries:
        assert store(prepared, SMALL_8K).status == "new"
    # 20,000 names go in batches of 1,000: about 20 inserts, where a query per name
    # made 40,000 round trips.
    assert len(queries) < 100
    assert FormerName.objects.count() == 20_000


def test_sources_stored_before_are_recognised_in_a_few_queries(ingest_paths):
    data = corpus_file(SMALL_8K).read_bytes()
    ingest_paths(corpus_file(SMALL_8K))
    again = [Source(f"member-{i}.txt", data) for i in range(1_200)]
    with CaptureQueriesContext(connection) as queries:
        summary = pipeline.ingest(again)
    assert summary.counts["unchanged"] == 1_200 and summary.failed == 0
    assert {o.accession_number for o in summary.outcomes} == {"0000320193-99-000010"}
    assert all(o.documents == 1 for o in summary.outcomes)
    # Three chunks of sources, each looked up in two queries; then the drain.
    assert len(queries) < 20
