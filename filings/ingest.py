"""The one ingest pipeline: the `ingest` command and the admin upload both call `ingest()`.

For each source file: recognise bytes already ingested (by SHA-256) and skip them; parse
(`filings.submission`), derive plain text (`filings.text`) and sanitized HTML
(`filings.sanitize`) — the CPU-heavy part, which may run in worker processes — then
store each submission in its own database transaction, which also records the index
work it calls for (`IndexChange`). After each batch, and at the end of every run, the
`index_work_recorded` signal asks the search app to apply what is recorded.
"""
from __future__ import annotations

import concurrent.futures
import gzip
import hashlib
import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, reset_queries, transaction
from django.db.models import Count, Q
from django.urls import reverse

from filings import sections
from filings import submission as sub
from filings.models import (
    Company,
    Document,
    Filing,
    FilingParty,
    FormerName,
    IndexChange,
    Ingestion,
    InsiderTransaction,
    Kind,
)
from filings.pages import compute_breaks
from filings.sanitize import SANITIZER_VERSION, text_and_html, text_to_html
from filings.signals import filing_changed, index_work_recorded
from filings.sources import Source, display_name
from filings.text import extract_text

log = logging.getLogger(__name__)

NEW, UPDATED, UNCHANGED, FAILED = "new", "updated", "unchanged", "failed"
INDEX_BATCH = 500  # stored filings between two applications of the recorded index work
PDF_SECONDS_PER_SUBMISSION = 300  # reading all the PDFs of one submission (PdfBudget)


@dataclass
class Outcome:
    """What happened to one submission (or to a whole file that failed)."""

    source: str
    status: str
    accession_number: str = ""
    form_type: str = ""
    documents: int = 0
    error: str = ""

    @property
    def url(self):
        if self.accession_number and self.status != FAILED:
            return reverse("filings:detail", kwargs={"accession": self.accession_number})
        return ""

    def __str__(self):
        if self.status == FAILED:
            return f"{display_name(self.source)}: failed: {self.error}"
        return (
            f"{display_name(self.source)}: {self.status} {self.accession_number} "
            f"({self.form_type or 'no form type'}, {self.documents} documents)"
        )


@dataclass
class Summary:
    files: int = 0
    bytes: int = 0
    documents: int = 0
    seconds: float = 0.0
    counts: dict = field(default_factory=lambda: {NEW: 0, UPDATED: 0, UNCHANGED: 0, FAILED: 0})
    outcomes: list = field(default_factory=list)
    index_error: str = ""  # why the recorded index work could not be applied

    def add(self, outcome: Outcome):
        self.counts[outcome.status] += 1
        if outcome.status in (NEW, UPDATED):
            self.documents += outcome.documents
        self.outcomes.append(outcome)

    @property
    def failed(self):
        return self.counts[FAILED] + bool(self.index_error)

    def line(self):
        mb = self.bytes / 1e6
        rate = mb / self.seconds if self.seconds else 0.0
        c = self.counts
        return (
            f"{self.files} files, filings: {c[NEW]} new, {c[UPDATED]} updated, "
            f"{c[UNCHANGED]} unchanged, {c[FAILED]} failed; {self.documents} documents, "
            f"{mb:.1f} MB in {self.seconds:.1f} s ({rate:.1f} MB/s)"
        ) + (f"; {self.index_error}" if self.index_error else "")


# --- Preparing: pure computation, safe to run in worker processes -----------------------


@dataclass
class PreparedDocument:
    document: sub.Document
    text: str
    html: str
    page_breaks: list = field(default_factory=list)  # where display pages start
    sections: list = field(default_factory=list)  # item sections (filings.sections)


@dataclass
class Prepared:
    submission: sub.Submission
    documents: list[PreparedDocument]
    sha256: str
    # Ownership reports' transaction rows (filings.ownership), stored with the documents.
    transactions: list = field(default_factory=list)


def prepare_bytes(data: bytes, name: str) -> list[Prepared]:
    """Parse one file and derive each document's text and display HTML.
    Raises SubmissionError for input that holds no storable submission."""
    submissions = sub.parse(data, name)
    if len(submissions) == 1:
        # The whole file is this filing's original (a repeated copy included), and its
        # hash lets the next run recognise the file before parsing it.
        submissions[0].raw = data
    return [_prepare_submission(s) for s in submissions]


def _prepare_submission(submission: sub.Submission) -> Prepared:
    resolve = _image_resolver(submission)
    documents = []
    pdf_budget = PdfBudget()
    for doc in submission.documents:
        if doc.kind == sub.PDF:
            text, html = _derive_pdf(doc, submission.warnings, pdf_budget)
        else:
            text, html = _derive(doc, resolve)
        # Item sections of a 10-K, 10-Q or 8-K, with anchors in its HTML for deep links.
        found = sections.find_sections(doc.type, text)
        html = sections.add_anchors(html, text, found)
        # A very large document is shown a page at a time: cut here, in the worker.
        documents.append(PreparedDocument(doc, text, html, compute_breaks(html),
                                          sections=[s.stored() for s in found]))
    return Prepared(submission, documents, hashlib.sha256(submission.raw).hexdigest(),
                    _insider_transactions(submission))


def _insider_transactions(submission: sub.Submission) -> list:
    """The transaction rows of the submission's ownership report XML; an unreadable one
    is a warning on the filing, not a failed ingest."""
    from filings import ownership

    rows = []
    for doc in submission.documents:
        if doc.kind != sub.XML or not ownership.is_ownership_xml(doc.text):
            continue
        try:
            found = ownership.transactions(doc.text, doc.sequence,
                                           limit=ownership.MAX_ROWS - len(rows))
        except ValueError as exc:
            label = f"document {doc.sequence} ({doc.filename or doc.type or 'XML'})"
            submission.warnings.append(f"{label}: insider transactions not read: {exc}")
            continue
        rows += found
    return rows


def _derive(doc: sub.Document, resolve) -> tuple[str, str]:
    kind = Kind(doc.kind)
    if kind.is_binary:
        return "", ""
    if kind.renders_as_html:
        return text_and_html(doc.text, resolve)  # one lxml parse for both
    if kind == Kind.XML:
        # Forms 3/4/5, 13F tables and Form D as tables; other XML pretty-printed.
        from filings.xmlview import xml_to_html

        return extract_text(doc.kind, doc.text), xml_to_html(doc.text)
    return extract_text(doc.kind, doc.text), text_to_html(doc.text)


@dataclass
class PdfBudget:
    """Wall-clock seconds left for reading one submission's PDFs: pdftext bounds each PDF,
    this bounds a submission of many (a crafted one may hold a hundred that each loop)."""

    seconds: float = field(default_factory=lambda: PDF_SECONDS_PER_SUBMISSION)


def _derive_pdf(doc: sub.Document, warnings: list[str],
                budget: PdfBudget) -> tuple[str, str]:
    """A PDF's text, read within pdftext's time and memory bounds, shown as plain text
    beside its download. A PDF that cannot be read is a warning on the filing."""
    from filings import pdftext

    label = f"document {doc.sequence} ({doc.filename or doc.type or 'PDF'})"
    if budget.seconds <= 0:
        warnings.append(f"{label}: PDF text not read: this submission's PDFs took "
                        f"{PDF_SECONDS_PER_SUBMISSION} s already")
        return "", ""
    started = time.monotonic()
    result = pdftext.extract(doc.data or b"",
                             timeout=min(pdftext.TIMEOUT_SECONDS, budget.seconds))
    budget.seconds -= time.monotonic() - started
    if result.error:
        warnings.append(f"{label}: PDF text {'incomplete' if result.text else 'not read'}: "
                        f"{result.error}")
    if not result.text:
        return "", ""
    return result.text, text_to_html(result.text)


def _image_resolver(submission: sub.Submission) -> Callable[[str], str | None]:
    """Map an <img src> to the URL of the same filing's attachment it names, if any."""
    files = {
        d.filename.lower(): d.filename
        for d in submission.documents
        if d.filename and d.kind in (sub.IMAGE, sub.PDF, sub.BINARY)
    }

    def resolve(src: str) -> str | None:
        path = unquote(urlsplit(src.strip()).path or "")
        filename = files.get(path.rsplit("/", 1)[-1].lower())
        if filename is None:
            return None
        return reverse(
            "filings:attachment",
            kwargs={"accession": submission.accession_number, "filename": filename},
        )

    return resolve


def _prepare_source(source: Source) -> tuple[list[Prepared] | None, str]:
    """Worker entry point: (prepared submissions, "") or (None, reason)."""
    try:
        return prepare_bytes(source.data, source.name), ""
    except sub.SubmissionError as exc:
        return None, exc.reason  # the caller names the source
    except RecursionError:
        return None, "structure nested too deeply to parse"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch
        log.exception("unexpected error preparing %s", source.name)
        return None, f"could not be parsed ({type(exc).__name__}: {exc})"


# --- Storing: one transaction per submission ----------------------------------------------


def store(prepared: Prepared, source_name: str, user=None, force=False,
          source_sha256: str = "") -> Outcome:
    """Store one prepared submission in one transaction: new, updated, unchanged (the
    same bytes were stored before; `force` rebuilds anyway) or failed. The transaction
    also records the index work the change calls for."""
    return _store(prepared, source_name, user, force, source_sha256, retry=True)


def _store(prepared, source_name, user, force, source_sha256, retry) -> Outcome:
    s = prepared.submission
    outcome = Outcome(source_name, FAILED, s.accession_number, s.form_type)
    written: list[str] = []
    try:
        with transaction.atomic():
            lock_accession(s.accession_number)
            filing = Filing.objects.filter(accession_number=s.accession_number).first()
            seen = filing and filing.ingestions.filter(sha256=prepared.sha256).exists()
            if seen and not force:
                outcome.status = UNCHANGED
                outcome.documents = filing.documents.count()
                return outcome
            status = UPDATED if filing else NEW
            obsolete = _store_filing(
                filing, prepared, source_name, user, status, written, source_sha256
            )
            _record_index_change(s.accession_number)
            outcome.status = status
            # A header-only source keeps the documents already stored: count those.
            outcome.documents = len(prepared.documents) or Document.objects.filter(
                filing__accession_number=s.accession_number
            ).count()
            transaction.on_commit(lambda: _delete_files(obsolete))
    except IntegrityError as exc:
        _delete_files(written)
        if retry:
            # Another process stored the same accession (or company) between our read
            # and our write, and our transaction rolled back: once more, now that their
            # rows are visible.
            return _store(prepared, source_name, user, force, source_sha256, retry=False)
        log.exception("could not store %s from %s", s.accession_number, source_name)
        outcome.status = FAILED
        outcome.error = f"could not be stored ({type(exc).__name__}: {exc})"
    except Exception as exc:
        _delete_files(written)
        log.exception("could not store %s from %s", s.accession_number, source_name)
        outcome.status = FAILED
        outcome.error = f"could not be stored ({type(exc).__name__}: {exc})"
    return outcome


def lock_accession(accession: str):
    """On PostgreSQL, serialise writers of one accession for this transaction, so two
    processes storing it at once see each other's work (SQLite's IMMEDIATE transactions
    already serialise all writers). The PostgreSQL engine's rebuild takes it too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [accession])


def _record_index_change(accession: str):
    """In the caller's transaction: the index must follow this filing's new state."""
    IndexChange.objects.create(accession_number=accession)
    filing_changed.send(sender=Filing, accession_number=accession)


def _store_filing(filing, prepared, source_name, user, status, written,
                  source_sha256="") -> list[str]:
    """Write the filing's rows; returns the names of stored files it no longer uses."""
    s = prepared.submission
    keep_documents = bool(filing) and not prepared.documents and filing.documents.exists()
    obsolete = []
    if filing is None:
        filing = Filing(accession_number=s.accession_number)
    filing.form_type = s.form_type
    filing.filed_on = s.filed_on
    filing.period_of_report = s.period_of_report
    filing.accepted_at = _aware(s.accepted_at)
    filing.effective_on = s.effective_on
    filing.date_of_change = s.date_of_change
    filing.items = s.items
    filing.group_members = s.group_members
    filing.public_document_count = s.public_document_count
    filing.sec_act = s.sec_act
    filing.file_number = s.file_number
    filing.film_number = s.film_number
    if keep_documents:
        # A header-only source refreshes the header; the full submission stays.
        filing.warnings = list(dict.fromkeys(filing.warnings + s.warnings))
    else:
        filing.warnings = s.warnings
        filing.dialect = s.dialect
        filing.source_name = source_name
        if filing.original:
            obsolete.append(filing.original.name)
        filing.original.name = _save_blob(
            f"originals/{s.accession_number}", prepared.sha256, gzip.compress(s.raw, 6), ".txt.gz",
            written,
        )
        filing.original_size = len(s.raw)
    filing.save()

    filing.parties.all().delete()
    _store_parties(filing, s)

    if not keep_documents:
        for old in filing.documents.exclude(file=""):
            obsolete.append(old.file.name)
        filing.documents.all().delete()
        Document.objects.bulk_create(
            _build_document(filing, p, written) for p in prepared.documents
        )
        filing.insider_transactions.all().delete()
        InsiderTransaction.objects.bulk_create(
            (InsiderTransaction(filing=filing, **vars(t)) for t in prepared.transactions),
            batch_size=500,
        )
    Ingestion.objects.update_or_create(
        filing=filing,
        sha256=prepared.sha256,
        defaults={
            "source_sha256": source_sha256 if source_sha256 != prepared.sha256 else "",
            "source_name": source_name[:500],
            "size": len(s.raw),
            "outcome": status,
            "uploaded_by": user if getattr(user, "pk", None) else None,
        },
    )
    current = set(filing.documents.exclude(file="").values_list("file", flat=True))
    current.add(filing.original.name)
    return [name for name in obsolete if name not in current]


def _build_document(filing, prepared: PreparedDocument, written) -> Document:
    d = prepared.document
    doc = Document(
        filing=filing,
        sequence=d.sequence,
        type=d.type[:64],
        filename=d.filename[:255],
        description=d.description[:1000],
        kind=d.kind,
        size=d.size,
        content=d.text if d.data is None else "",
        text=prepared.text,
        html=prepared.html,
        sanitizer_version=SANITIZER_VERSION,
        page_breaks=prepared.page_breaks,
        sections=prepared.sections,
    )
    if d.data is not None:
        digest = hashlib.sha256(d.data).hexdigest()
        doc.file.name = _save_blob(
            f"attachments/{filing.accession_number}", digest, d.data, ".bin", written
        )
    return doc


def _store_parties(filing, s: sub.Submission):
    """The filing's parties and their companies, in a fixed number of queries however
    many parties and former names a header lists (a crafted one lists 200,000)."""
    parties = []
    seen = set()
    for position, party in enumerate(s.parties):
        if party.cik is None or (party.role, party.cik) in seen:
            continue
        seen.add((party.role, party.cik))
        parties.append((position, party))
    companies = Company.objects.in_bulk({p.cik for _, p in parties}, field_name="cik")
    for _, party in parties:
        companies[party.cik] = _upsert_company(companies.get(party.cik), party, filing.filed_on)
    _add_former_names(companies, [p for _, p in parties])
    FilingParty.objects.bulk_create(
        FilingParty(
            filing=filing,
            company=companies[party.cik],
            role=party.role[:32],
            position=position,
            name=party.name[:255] or companies[party.cik].name,
            sic_code=party.sic_code[:8],
            sic_description=party.sic_description[:255],
            irs_number=party.irs_number[:32],
            state_of_incorporation=party.state_of_incorporation[:8],
            fiscal_year_end=party.fiscal_year_end[:4],
            form_type=party.form_type[:32],
            act=party.act[:16],
            file_number=party.file_number[:64],
            film_number=party.film_number[:64],
            business_address=_address(party.business_address),
            mail_address=_address(party.mail_address),
            former_names=[
                {"name": f.name, "changed_on": f.changed_on.isoformat() if f.changed_on else None}
                for f in party.former_names
            ],
        )
        for position, party in parties
    )


def _upsert_company(company: Company | None, party: sub.Party, filed_on) -> Company:
    """The party's company, created if new; its profile follows the newest filing."""
    created = False
    if company is None:
        company, created = Company.objects.get_or_create(
            cik=party.cik, defaults={"name": party.name[:255] or f"CIK {party.cik}"}
        )
    newer = company.profile_as_of is None or (filed_on and filed_on >= company.profile_as_of)
    if created or newer:
        company.name = party.name[:255] or company.name
        for attr, size in (
            ("sic_code", 8),
            ("sic_description", 255),
            ("irs_number", 32),
            ("state_of_incorporation", 8),
            ("fiscal_year_end", 4),
        ):
            value = getattr(party, attr)[:size]
            if value:
                setattr(company, attr, value)
        for attr in ("business_address", "mail_address"):
            value = _address(getattr(party, attr))
            if value:
                setattr(company, attr, value)
        company.profile_as_of = filed_on or company.profile_as_of
        company.save()
    return company


def _add_former_names(companies: dict, parties: list[sub.Party]):
    """Add the former names no company has yet: one read, one bulk insert."""
    wanted = {
        (companies[party.cik].pk, former.name[:255], former.changed_on)
        for party in parties
        for former in party.former_names
        if former.name
    }
    if not wanted:
        return
    existing = set(
        FormerName.objects.filter(company__in={pk for pk, _, _ in wanted}).values_list(
            "company_id", "name", "changed_on"
        )
    )
    FormerName.objects.bulk_create(
        (
            FormerName(company_id=pk, name=name, changed_on=changed_on)
            for pk, name, changed_on in sorted(wanted - existing, key=str)
        ),
        batch_size=1000,
        ignore_conflicts=True,  # another process may add the same name meanwhile
    )


def _address(address: sub.Address | None) -> dict:
    if address is None or address.is_empty():
        return {}
    return {k: v for k, v in vars(address).items() if v}


def _aware(value):
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    # EDGAR's acceptance times are Eastern.
    return value.replace(tzinfo=ZoneInfo("America/New_York"))


def _save_blob(prefix: str, digest: str, data: bytes, suffix: str, written: list[str]) -> str:
    """Store `data` under a content-addressed name (never a name from the filing)."""
    name = f"{prefix}/{digest[:32]}{suffix}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        written.append(saved)
        return saved
    return name


def _delete_files(names: Iterable[str]):
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("could not delete stored file %s", name)


# --- The pipeline -------------------------------------------------------------------------


@contextmanager
def statements_unlogged():
    """For the commands that run batches (ingest, the task worker). With DEBUG on (the
    laptop default) Django formats every statement with its parameters and keeps the
    last 9,000: a copy of each document stored, 1.2 GB more at the peak of a 100 MB
    filing. A batch is not a request and nothing reads that log."""
    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        yield
    finally:
        settings.DEBUG = debug


def ingest(
    sources: Iterable[Source],
    workers: int = 1,
    user=None,
    on_outcome: Callable[[Outcome], None] | None = None,
    on_source: Callable[[Source], None] | None = None,
) -> Summary:
    """Ingest every source; returns the summary. Never raises for bad input: each
    failure is an Outcome with the source's name and the reason. The recorded index
    work is applied after every INDEX_BATCH stored filings and at the end (what earlier,
    interrupted runs left recorded included)."""
    summary = Summary()
    started = time.monotonic()
    stored = 0

    def report(outcome: Outcome):
        summary.add(outcome)
        if on_outcome:
            on_outcome(outcome)

    for source, result in _prepared_stream(sources, workers):
        # With DEBUG on (the laptop default) Django keeps the last 9,000 statements with
        # their parameters, documents included: hundreds of MB in a bulk load. One
        # source's statements at a time is all anyone could read.
        reset_queries()
        summary.files += 1
        summary.bytes += source.size
        if on_source:
            on_source(source)
        if source.error:
            report(Outcome(source.name, FAILED, error=source.error))
            continue
        if isinstance(result, list):  # recognised by hash: nothing to parse or store
            for outcome in result:
                report(outcome)
            continue
        prepared, error = result
        if prepared is None:
            report(Outcome(source.name, FAILED, error=error))
            continue
        for item in prepared:
            outcome = store(item, source.name, user, source_sha256=source.sha256)
            report(outcome)
            if outcome.status in (NEW, UPDATED):
                stored += 1
                if stored % INDEX_BATCH == 0:
                    summary.index_error = apply_index_work()
    summary.index_error = apply_index_work()
    summary.seconds = time.monotonic() - started
    return summary


def apply_index_work() -> str:
    """Ask the search app to apply the recorded index work now. Returns "" or why it
    could not: the work stays recorded, so the filings are indexed by the next run (or
    `check_index --repair`) rather than lost."""
    try:
        index_work_recorded.send(sender=Filing)
    except Exception as exc:  # noqa: BLE001 - the filings are stored; say so, go on
        log.exception("applying the recorded index work failed")
        return f"search index not updated ({type(exc).__name__}: {exc}); it will be retried"
    return ""


KNOWN_LOOKUP_SOURCES = 500  # sources whose hashes are looked up in one query
KNOWN_LOOKUP_BYTES = 32 * 1024 * 1024  # ... or fewer, when they hold this much


def _with_known(sources: Iterable[Source]) -> Iterator[tuple[Source, list[Outcome] | None]]:
    """(source, None) for a source to ingest, or (source, its filings' UNCHANGED
    outcomes) for one stored before: as one submission (its own hash) or as a file of
    several (each filing's ingestion names the file's hash). Looked up a chunk of
    sources at a time: an archive of 100,000 small members costs a few hundred queries,
    not hundreds of thousands."""
    chunk: list[Source] = []
    size = 0

    def flush():
        known = _stored_by_hash([s.sha256 for s in chunk if not s.error])
        for source in chunk:
            outcomes = known.get(source.sha256) if not source.error else None
            if outcomes is None:
                yield source, None
            else:
                yield source, [Outcome(source.name, UNCHANGED, *o) for o in outcomes]
        chunk.clear()

    for source in sources:
        chunk.append(source)
        size += source.size
        if len(chunk) >= KNOWN_LOOKUP_SOURCES or size >= KNOWN_LOOKUP_BYTES:
            yield from flush()
            size = 0
    yield from flush()


def _stored_by_hash(hashes: list[str]) -> dict[str, list[tuple]]:
    """hash -> [(accession, form type, documents)] of the filings stored from it."""
    if not hashes:
        return {}
    rows = Ingestion.objects.filter(
        Q(sha256__in=hashes) | Q(source_sha256__in=hashes)
    ).values_list("sha256", "source_sha256", "filing_id")
    by_hash: dict[str, set[int]] = {}
    wanted = set(hashes)
    for sha256, source_sha256, filing_id in rows:
        for digest in {sha256, source_sha256} & wanted:
            by_hash.setdefault(digest, set()).add(filing_id)
    filings = {
        f.pk: (f.accession_number, f.form_type, f.n_documents)
        for f in Filing.objects.filter(pk__in=set().union(*by_hash.values()))
        .annotate(n_documents=Count("documents"))
        .only("accession_number", "form_type")
    } if by_hash else {}
    return {
        digest: sorted(filings[pk] for pk in pks if pk in filings)
        for digest, pks in by_hash.items()
    }


def _prepared_stream(
    sources: Iterable[Source], workers: int
) -> Iterator[tuple[Source, tuple | list[Outcome]]]:
    """(source, result) in input order: (prepared, error) from parsing, or the
    UNCHANGED outcomes of a source stored before."""
    if workers <= 1:
        for source, known in _with_known(sources):
            if known is None and not source.error:
                yield source, _prepare_source(source)
            else:
                yield source, known or []
        return
    # Parse in worker processes; store in this one (one writer keeps SQLite happy).
    # A bounded window of work in flight keeps memory flat on huge batches.
    context = multiprocessing.get_context("fork")
    window = workers * 4
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        inflight: list[tuple[Source, concurrent.futures.Future | list]] = []
        for source, known in _with_known(sources):
            if known is None and not source.error:
                inflight.append((source, pool.submit(_prepare_source, source)))
            else:
                inflight.append((source, known or []))
            while len(inflight) >= window:
                yield _resolve(*inflight.pop(0))
        while inflight:
            yield _resolve(*inflight.pop(0))


def _resolve(source, future):
    if isinstance(future, list):
        return source, future
    try:
        return source, future.result()
    except Exception as exc:  # a crashed worker fails this file, not the batch
        return source, (None, f"worker failed: {type(exc).__name__}: {exc}")


# --- Managing stored filings ----------------------------------------------------------------


def delete_filing(filing: Filing):
    """Delete a filing, its stored files and its index entries."""
    files = [d.file.name for d in filing.documents.exclude(file="")]
    if filing.original:
        files.append(filing.original.name)
    accession = filing.accession_number
    with transaction.atomic():
        filing.delete()
        _record_index_change(accession)
        transaction.on_commit(lambda: _delete_files(files))
    apply_index_work()


def rederive(filing: Filing) -> list[Outcome]:
    """Parse, sanitize and index a filing again from its stored original."""
    if not filing.original:
        return [Outcome(filing.accession_number, FAILED, filing.accession_number,
                        error="no stored original to re-derive from")]
    try:
        raw = filing.read_original()
    except (OSError, EOFError) as exc:  # missing or damaged in storage
        return [Outcome(filing.accession_number, FAILED, filing.accession_number,
                        error=f"the stored original cannot be read ({exc})")]
    try:
        prepared = [
            p for p in prepare_bytes(raw, filing.source_name or filing.accession_number)
            if p.submission.accession_number == filing.accession_number
        ]
    except sub.SubmissionError as exc:
        return [
            Outcome(filing.accession_number, FAILED, filing.accession_number, error=exc.reason)
        ]
    outcomes = [store(item, filing.source_name or "re-derive", force=True) for item in prepared]
    apply_index_work()
    return outcomes
