"""The ingest pipeline: real corpus files in, rows and stored files out."""
import csv
import gzip
import io
import shutil
import tarfile
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from filings import ingest as ingest_module
from filings.ingest import FAILED, NEW, UNCHANGED, UPDATED
from filings.models import Company, Document, Filing, FilingParty, Ingestion
from filings.sources import read_sources
from tests.conftest import CORPUS, corpus_file

pytestmark = pytest.mark.django_db


def manifest_rows():
    path = CORPUS / "MANIFEST.tsv"
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _dashed(date8):
    return f"{date8[:4]}-{date8[4:6]}-{date8[6:]}" if date8 else None


@pytest.mark.corpus
def test_every_corpus_file_is_ingested_or_rejected_by_name_and_a_second_run_parses_nothing(
    ingest_paths, monkeypatch
):
    # One test for both runs: ingesting the whole corpus is this suite's longest step
    # (40-75 s each time, a CI pass), and the second run needs the first's rows anyway.
    rows = manifest_rows()
    if not rows:
        pytest.skip("the shared corpus is absent")
    summary = ingest_paths(CORPUS)

    failures = {
        o.source.rsplit("/", 1)[-1]: o.error for o in summary.outcomes if o.status == FAILED
    }
    expected_failures = {r["file"] for r in rows if not r["accession"]}
    assert set(failures) == expected_failures
    for name, reason in failures.items():
        assert "accession" in reason, (name, reason)

    for row in rows:
        if not row["accession"]:
            continue
        filing = Filing.objects.get(accession_number=row["accession"])
        assert filing.form_type == row["form_type"], row["file"]
        assert filing.filed_on.isoformat() == _dashed(row["filed_date"]), row["file"]
        names = {n.lower() for n in filing.parties.values_list("name", flat=True)}
        assert row["company"].lower() in names, (row["file"], names)
        # Same submission from .txt and .nc, or header-only + full: the fuller one wins.
        expected_docs = max(
            int(r["distinct_documents"]) for r in rows if r["accession"] == row["accession"]
        )
        assert filing.documents.count() == expected_docs, row["file"]
    accessions = {r["accession"] for r in rows if r["accession"]}
    assert Filing.objects.count() == len(accessions)
    # Nothing from a rejected file was stored.
    assert not Ingestion.objects.filter(source_name__contains="noacc-").exists()

    # A second run over the same files creates nothing and parses nothing it stored.
    counts = (Filing.objects.count(), Document.objects.count(), Company.objects.count())
    parsed = []
    real_prepare = ingest_module._prepare_source
    monkeypatch.setattr(
        ingest_module, "_prepare_source", lambda s: parsed.append(s.name) or real_prepare(s)
    )
    second = ingest_paths(CORPUS)
    assert second.counts[NEW] == 0
    assert second.counts[UPDATED] == 0
    assert second.counts[UNCHANGED] == summary.counts[NEW] + summary.counts[UPDATED]
    assert (Filing.objects.count(), Document.objects.count(), Company.objects.count()) == counts
    # Known bytes are recognised by hash before parsing; only the rejected files are
    # parsed again (they stored nothing to recognise).
    assert sorted(n.rsplit("/", 1)[-1] for n in parsed) == sorted(
        r["file"] for r in rows if not r["accession"]
    )


def test_reingest_is_idempotent(ingest_paths):
    path = corpus_file("0000842517-24-000086.txt")
    first = ingest_paths(path)
    assert first.counts[NEW] == 1
    rows = (Filing.objects.count(), FilingParty.objects.count(), Document.objects.count())
    second = ingest_paths(path)
    assert second.counts[UNCHANGED] == 1
    assert (Filing.objects.count(), FilingParty.objects.count(), Document.objects.count()) == rows


def test_same_submission_from_txt_and_nc_is_one_filing(ingest_paths):
    txt = corpus_file("0001104659-25-002604.txt")
    nc = corpus_file("0001104659-25-002604.nc")
    summary = ingest_paths(txt, nc)
    assert [o.status for o in summary.outcomes] == [NEW, UPDATED]
    filing = Filing.objects.get(accession_number="0001104659-25-002604")
    assert filing.documents.count() == 2
    assert filing.ingestions.count() == 2


def test_header_only_source_never_erases_stored_documents(ingest_paths):
    full = corpus_file("0001493152-25-029712.txt")
    header = corpus_file("0001493152-25-029712-index-headers.html")
    ingest_paths(full)
    filing = Filing.objects.get(accession_number="0001493152-25-029712")
    docs = list(filing.documents.values_list("sequence", "type"))
    original = filing.original.name
    assert docs
    summary = ingest_paths(header)
    assert summary.counts[UPDATED] == 1
    filing.refresh_from_db()
    assert list(filing.documents.values_list("sequence", "type")) == docs
    assert filing.original.name == original


def test_failure_in_the_middle_of_a_submission_leaves_nothing(ingest_paths, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest_module.Document.objects, "bulk_create", explode)
    summary = ingest_paths(corpus_file("0001127602-25-004598.nc"))
    assert summary.counts[FAILED] == 1
    assert "disk on fire" in summary.outcomes[0].error
    assert Filing.objects.count() == 0
    assert Company.objects.count() == 0
    assert FilingParty.objects.count() == 0
    assert Ingestion.objects.count() == 0


def test_failed_store_deletes_the_files_it_wrote(ingest_paths, monkeypatch, settings):
    def explode(*args, **kwargs):
        raise RuntimeError("late failure")

    monkeypatch.setattr(ingest_module.Ingestion.objects, "update_or_create", explode)
    summary = ingest_paths(corpus_file("0001127602-25-004598.nc"))
    assert summary.counts[FAILED] == 1
    root = settings.MEDIA_ROOT
    assert not root.exists() or [p for p in root.rglob("*") if p.is_file()] == []


def test_original_is_kept_compressed_and_binaries_decoded(ingest_paths):
    path = corpus_file("0001144204-17-013452.txt")
    ingest_paths(path)
    filing = Filing.objects.get(accession_number="0001144204-17-013452")
    with filing.original.open("rb") as fh:
        assert gzip.decompress(fh.read()) == path.read_bytes()
    assert filing.original.name.endswith(".txt.gz")


def test_uuencoded_images_are_stored_as_files_under_safe_names(ingest_paths):
    ingest_paths(corpus_file("0001193125-25-110092.txt"), corpus_file("0000320193-24-000061.txt"))
    path = CORPUS / "0001104659-26-017097.txt"
    if not path.exists():
        pytest.skip("corpus absent")
    ingest_paths(path)
    image = Document.objects.get(filing__accession_number="0001104659-26-017097", kind="image")
    assert image.file.name.startswith("attachments/0001104659-26-017097/")
    assert image.filename not in image.file.name
    with image.file.open("rb") as fh:
        assert fh.read(2) == b"\xff\xd8"


def test_archives_are_opened_without_touching_disk(ingest_paths, tmp_path):
    a = corpus_file("0000842517-24-000086.txt")
    b = corpus_file("0001127602-25-004598.nc")
    tgz = tmp_path / "feed.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(a, arcname="../../evil/" + a.name)
        tar.add(b, arcname=b.name)
    zpath = tmp_path / "one.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.write(corpus_file("0001062993-24-012217.hdr.sgml"), "x/0001062993-24-012217.hdr.sgml")
    gz = tmp_path / "0001144204-17-013452.txt.gz"
    gz.write_bytes(gzip.compress(corpus_file("0001144204-17-013452.txt").read_bytes()))
    summary = ingest_paths(tgz, zpath, gz)
    assert summary.counts[NEW] == 4, [str(o) for o in summary.outcomes]
    assert not (tmp_path / "evil").exists()


def test_a_bad_file_is_reported_and_the_batch_goes_on(ingest_paths, tmp_path):
    bad = tmp_path / "junk.txt"
    bad.write_bytes(b"\x00\xffnot a filing at all\n" * 10)
    good = corpus_file("0000842517-24-000086.txt")
    summary = ingest_paths(bad, tmp_path / "missing.txt", good)
    statuses = [o.status for o in summary.outcomes]
    assert statuses == [FAILED, FAILED, NEW]
    assert "junk.txt" in summary.outcomes[0].source
    assert summary.outcomes[1].error == "no such file or directory"


def test_parallel_workers_store_the_same_filings(ingest_paths):
    paths = [
        corpus_file(n)
        for n in (
            "0000842517-24-000086.txt",
            "0001127602-25-004598.nc",
            "0000014272-95-000007.txt",
            "0001144204-17-013452.txt",
        )
    ]
    summary = ingest_paths(*paths, workers=2)
    assert summary.counts[NEW] == 4
    assert Filing.objects.count() == 4


def test_command_prints_summary_and_exits_1_on_failure(db, tmp_path, capsys):
    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(corpus_file("0000842517-24-000086.txt"), good)
    out = io.StringIO()
    call_command("ingest", str(good), stdout=out, no_progress=True)
    assert "1 files, filings: 1 new, 0 updated, 0 unchanged, 0 failed" in out.getvalue()

    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", str(bad), stdout=io.StringIO(), stderr=err, no_progress=True)
    assert excinfo.value.returncode == 1
    assert "bad.txt" in err.getvalue()


def test_filing_json_has_the_documented_shape(client, ingest_paths):
    ingest_paths(corpus_file("0000842517-24-000086.txt"))
    response = client.get("/api/filings/0000842517-24-000086")
    assert response.status_code == 200
    data = response.json()
    assert list(data)[:11] == [
        "accession_number", "form_type", "filed_on", "period_of_report", "accepted_at",
        "items", "public_document_count", "warnings", "url", "parties", "documents",
    ]
    assert data["form_type"] == "4"
    assert data["filed_on"] == "2024-05-01"
    roles = {p["role"] for p in data["parties"]}
    assert roles == {"reporting-owner", "issuer"}
    party = data["parties"][0]
    assert isinstance(party["cik"], int)
    assert set(party) >= {
        "role", "cik", "name", "sic", "state_of_incorporation", "fiscal_year_end",
        "irs_number", "business_address", "mail_address", "former_names",
    }
    doc = data["documents"][0]
    assert list(doc) == ["sequence", "type", "filename", "description", "kind", "size", "url",
                         "sections"]
    assert doc["kind"] == "xml"
    assert doc["url"].endswith("/filings/0000842517-24-000086/1/")


def test_filing_json_for_unknown_accession_is_a_json_404(client):
    response = client.get("/api/filings/0000000000-00-000000")
    assert response.status_code == 404
    assert "error" in response.json()
    # Not an accession number at all: a NUL reached PostgreSQL's comparison (a 500),
    # and Arabic-Indic digits were taken as digits.
    for bad in ("0000000000-00-000000%00", "%00", "\u0661" * 18, "x" * 5000):
        response = client.get(f"/api/filings/{bad}")
        assert response.status_code == 404 and "error" in response.json(), bad


def test_uniqueness_lives_in_the_database(ingest_paths):
    from django.db import IntegrityError, transaction

    ingest_paths(corpus_file("0000842517-24-000086.txt"))
    filing = Filing.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Filing.objects.create(accession_number=filing.accession_number, form_type="4")
    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.create(cik=filing.parties.first().company.cik, name="dup")
    doc = filing.documents.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(filing=filing, sequence=doc.sequence, kind="text")
    assert connection.vendor in {"sqlite", "postgresql"}


def _statements_naming(accession: str) -> list[str]:
    """The logged statements that store something of this filing."""
    return [q["sql"] for q in connection.queries
            if q["sql"].startswith("INSERT") and accession in q["sql"]]


def test_a_bulk_load_keeps_no_log_of_its_statements_when_debug_is_on(db, tmp_path, settings):
    # DEBUG (the laptop default) makes Django format and keep every statement with its
    # parameters: the whole of every document stored, in a bulk load.
    settings.DEBUG = True
    first, second = "0000320193-97-000011", "0000320193-99-000002"
    for accession in (first, second):
        shutil.copy(corpus_file(f"{accession}.txt"), tmp_path)
    call_command("ingest", str(tmp_path), stdout=io.StringIO(), no_progress=True)
    assert Filing.objects.filter(accession_number__in=[first, second]).count() == 2
    assert not _statements_naming(first) and not _statements_naming(second)
    assert settings.DEBUG is True  # as it was
    Filing.objects.count()
    assert connection.queries  # the log itself still works after the command


def test_the_pipeline_keeps_one_sources_statements_at_a_time(db, tmp_path):
    first, second = "0000320193-97-000011", "0000320193-99-000002"
    for accession in (first, second):
        shutil.copy(corpus_file(f"{accession}.txt"), tmp_path)
    connection.force_debug_cursor = True
    try:
        ingest_module.ingest(read_sources([str(tmp_path / f"{first}.txt"),
                                           str(tmp_path / f"{second}.txt")]))
        assert _statements_naming(second)  # the last source's statements are there
        assert not _statements_naming(first)  # the first's were let go
    finally:
        connection.force_debug_cursor = False
