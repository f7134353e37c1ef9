"""The stored copy of each filing: companies, filings, their parties and documents; and
the jobs that upload, re-derive or delete filings in the background."""
import gzip
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Count, Max, Min, Prefetch
from django.urls import reverse

from filings import submission as sub


class Role(models.TextChoices):
    FILER = sub.FILER, "Filer"
    SUBJECT_COMPANY = sub.SUBJECT_COMPANY, "Subject company"
    FILED_BY = sub.FILED_BY, "Filed by"
    REPORTING_OWNER = sub.REPORTING_OWNER, "Reporting owner"
    ISSUER = sub.ISSUER, "Issuer"
    FILED_FOR = sub.FILED_FOR, "Filed for"
    SERIAL_COMPANY = sub.SERIAL_COMPANY, "Serial company"
    DEPOSITOR = sub.DEPOSITOR, "Depositor"
    SECURITIZER = sub.SECURITIZER, "Securitizer"


class Kind(models.TextChoices):
    HTML = sub.HTML, "HTML"
    IXBRL = sub.IXBRL, "Inline XBRL"
    TEXT = sub.TEXT, "Text"
    XML = sub.XML, "XML"
    XBRL = sub.XBRL, "XBRL"
    JSON = sub.JSON, "JSON"
    PDF = sub.PDF, "PDF"
    IMAGE = sub.IMAGE, "Image"
    BINARY = sub.BINARY, "Binary"
    OTHER = sub.OTHER, "Other"

    @property
    def is_binary(self):
        return self in {Kind.PDF, Kind.IMAGE, Kind.BINARY}

    @property
    def renders_as_html(self):
        return self in {Kind.HTML, Kind.IXBRL}


def format_cik(cik):
    return f"{int(cik):010d}"


class CompanyQuerySet(models.QuerySet):
    def matching(self, text):
        """Companies whose current or former name contains `text`, or whose CIK it is."""
        text = (text or "").strip()
        if not text:
            return self.none()
        query = models.Q(name__icontains=text) | models.Q(former_names__name__icontains=text)
        if text.isascii() and text.isdigit():  # int() takes "²" and "٣" too
            query |= models.Q(cik=int(text))
        if len(text) <= 16:  # a ticker (AAPL, BRK-B): SEC's symbol for the CIK
            query |= models.Q(cik__in=Ticker.objects.filter(ticker=text.upper()).values("cik"))
        return self.filter(query).distinct()


class Company(models.Model):
    cik = models.PositiveBigIntegerField("CIK")
    name = models.CharField(max_length=255, db_index=True)
    sic_code = models.CharField("SIC code", max_length=8, blank=True)
    sic_description = models.CharField("SIC description", max_length=255, blank=True)
    irs_number = models.CharField("IRS number", max_length=32, blank=True)
    state_of_incorporation = models.CharField(max_length=8, blank=True)
    fiscal_year_end = models.CharField(max_length=4, blank=True)
    business_address = models.JSONField(default=dict, blank=True)
    mail_address = models.JSONField(default=dict, blank=True)
    # The filed date of the filing the profile above was taken from: a newer filing
    # updates the profile, an older one never overwrites it.
    profile_as_of = models.DateField(null=True, blank=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        constraints = [models.UniqueConstraint(fields=["cik"], name="company_unique_cik")]

    def __str__(self):
        return f"{self.name} ({self.cik})"

    def get_absolute_url(self):
        return reverse("filings:company", kwargs={"cik": self.cik})

    @property
    def padded_cik(self):
        return format_cik(self.cik)

    @property
    def state_located(self):
        return (self.business_address or {}).get("state", "")


class FormerName(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="former_names")
    name = models.CharField(max_length=255)
    changed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-changed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name", "changed_on"], name="formername_unique"
            )
        ]

    def __str__(self):
        return self.name


class FilingQuerySet(models.QuerySet):
    def of_form(self, *forms):
        return self.filter(form_type__in=forms)

    def newest_first(self):
        return self.order_by("-filed_on", "-accession_number")

    def of_company(self, company):
        return self.filter(parties__company=company).distinct()

    def with_parties(self):
        return self.prefetch_related(
            Prefetch("parties", queryset=FilingParty.objects.select_related("company"))
        )

    def form_counts(self):
        """[{"form_type", "n"}] for these filings, by form type."""
        return (
            self.order_by("form_type").values("form_type").annotate(n=Count("id", distinct=True))
        )

    def date_span(self):
        """{"first", "last"}: the earliest and latest filed dates."""
        return self.aggregate(first=Min("filed_on"), last=Max("filed_on"))

    def film_numbers(self, accessions):
        """{accession number: film number} for those of these filings that have one."""
        return dict(
            self.filter(accession_number__in=accessions).exclude(film_number="")
            .values_list("accession_number", "film_number")
        )


class Filing(models.Model):
    accession_number = models.CharField(max_length=20)
    form_type = models.CharField(max_length=32, db_index=True)
    filed_on = models.DateField(null=True, blank=True, db_index=True)
    period_of_report = models.DateField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    effective_on = models.DateField(null=True, blank=True)
    date_of_change = models.DateField(null=True, blank=True)
    items = models.JSONField(default=list, blank=True)
    group_members = models.JSONField(default=list, blank=True)
    public_document_count = models.PositiveIntegerField(null=True, blank=True)
    sec_act = models.CharField(max_length=16, blank=True)
    file_number = models.CharField(max_length=64, blank=True)
    film_number = models.CharField(max_length=64, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    dialect = models.CharField(max_length=32, blank=True)
    # The submission as ingested, gzip-compressed; pages offer it, re-derive reads it.
    # Stored under a name made from the accession and a content hash (filings.ingest).
    original = models.FileField(upload_to="originals/", blank=True)
    original_size = models.PositiveBigIntegerField(default=0)
    source_name = models.CharField(max_length=500, blank=True)
    companies = models.ManyToManyField(Company, through="FilingParty", related_name="filings")
    ingested_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FilingQuerySet.as_manager()

    class Meta:
        ordering = ["-filed_on", "-accession_number"]
        constraints = [
            models.UniqueConstraint(fields=["accession_number"], name="filing_unique_accession")
        ]

    def __str__(self):
        return f"{self.form_type} {self.accession_number}"

    def get_absolute_url(self):
        return reverse("filings:detail", kwargs={"accession": self.accession_number})

    def get_api_url(self):
        return reverse("filings:api-detail", kwargs={"accession": self.accession_number})

    @property
    def accession_digits(self):
        return self.accession_number.replace("-", "")

    def read_original(self) -> bytes:
        """The submission's bytes as ingested. Raises OSError or EOFError when the stored
        file is missing or damaged."""
        with self.original.open("rb") as fh:
            return gzip.decompress(fh.read())

    def primary_document(self):
        return self.documents.order_by("sequence").first()


class FilingParty(models.Model):
    """A company's part in one filing, with the header values as that filing gave them."""

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="parties")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(max_length=32, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=255)
    sic_code = models.CharField("SIC code", max_length=8, blank=True)
    sic_description = models.CharField("SIC description", max_length=255, blank=True)
    irs_number = models.CharField("IRS number", max_length=32, blank=True)
    state_of_incorporation = models.CharField(max_length=8, blank=True)
    fiscal_year_end = models.CharField(max_length=4, blank=True)
    form_type = models.CharField(max_length=32, blank=True)
    act = models.CharField(max_length=16, blank=True)
    file_number = models.CharField(max_length=64, blank=True)
    film_number = models.CharField(max_length=64, blank=True)
    business_address = models.JSONField(default=dict, blank=True)
    mail_address = models.JSONField(default=dict, blank=True)
    former_names = models.JSONField(default=list, blank=True)  # [{"name", "changed_on"}]

    class Meta:
        ordering = ["position"]
        verbose_name_plural = "filing parties"
        constraints = [
            models.UniqueConstraint(
                fields=["filing", "role", "company"], name="filingparty_unique_role"
            )
        ]

    def __str__(self):
        return f"{self.get_role_display()}: {self.name}"

    @property
    def cik(self):
        return self.company.cik


class DocumentQuerySet(models.QuerySet):
    def in_order(self):
        return self.order_by("sequence")

    def named(self, filename):
        """The document with this file name (exact, else ignoring case), or None."""
        return (
            self.filter(filename=filename).first()
            or self.filter(filename__iexact=filename).first()
        )


class Document(models.Model):
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="documents")
    sequence = models.PositiveIntegerField()
    type = models.CharField(max_length=64, blank=True, db_index=True)
    filename = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    size = models.PositiveBigIntegerField(default=0)
    # The document's content as filed (textual kinds); binaries live in `file`.
    content = models.TextField(blank=True)
    # Plain text for search and snippets, derived at ingest.
    text = models.TextField(blank=True)
    # Sanitized HTML for display, made once at ingest by `sanitizer_version`.
    html = models.TextField(blank=True)
    sanitizer_version = models.CharField(max_length=16, blank=True)
    # Where each display page after the first starts: [offset in `html`, start tags of
    # the elements open there] pairs (filings.pages), so a very large document is shown
    # a page at a time. Empty for documents shown whole. Whatever rewrites `html` must
    # recompute them (pages.compute_breaks) or empty them (the page view then does).
    page_breaks = models.JSONField(default=list, blank=True)
    # Item sections of a 10-K, 10-Q or 8-K (filings.sections): [{item, part, title, start,
    # end, anchor}], start and end offsets in `text`, anchor the id of the heading's place
    # in `html`. Empty for other documents, and where no item heading was found.
    sections = models.JSONField(default=list, blank=True)
    # Decoded binary attachment, stored under a content-hash name, never the filing's.
    file = models.FileField(upload_to="attachments/", blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["filing", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "sequence"], name="document_unique_sequence")
        ]

    def __str__(self):
        return f"{self.filing.accession_number} #{self.sequence} {self.type}"

    def get_absolute_url(self):
        return reverse(
            "filings:document",
            kwargs={"accession": self.filing.accession_number, "sequence": self.sequence},
        )

    def get_file_url(self):
        if not self.filename:
            return ""
        return reverse(
            "filings:attachment",
            kwargs={"accession": self.filing.accession_number, "filename": self.filename},
        )

    @property
    def is_binary(self):
        return Kind(self.kind).is_binary


class Ingestion(models.Model):
    """One source a filing was built from: which bytes, from where, by whom, when.
    A source whose SHA-256 is already here is recognised and skipped."""

    class Outcome(models.TextChoices):
        NEW = "new", "New"
        UPDATED = "updated", "Updated"

    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="ingestions")
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    # The whole source file's hash, where the file held several submissions (each
    # filing's `sha256` is then that submission's own bytes): the next run recognises
    # the file by it without parsing.
    source_sha256 = models.CharField("source SHA-256", max_length=64, blank=True, db_index=True)
    source_name = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ingestions",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "sha256"], name="ingestion_unique_source")
        ]

    def __str__(self):
        return f"{self.source_name} → {self.filing.accession_number}"


class IndexChange(models.Model):
    """A filing whose search index entries must be brought in line with the database.

    Recorded in the same transaction that stores, updates or deletes the filing, and
    deleted once the search backend has applied it (`search.index.drain`): a crash
    between the two leaves the row, and the next drain applies it again (applying is
    idempotent: the filing's entries are replaced by what the database holds, or
    removed if it is gone)."""

    accession_number = models.CharField(max_length=20, db_index=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"index {self.accession_number}"


class TickerQuerySet(models.QuerySet):
    def of_ciks(self, ciks):
        """{cik: [tickers, the file's first (SEC's main one) first]} for these CIKs."""
        out = {}
        for cik, ticker in (self.filter(cik__in=set(ciks)).order_by("cik", "position")
                            .values_list("cik", "ticker")):
            out.setdefault(cik, []).append(ticker)
        return out


class Ticker(models.Model):
    """A trading symbol SEC lists for a CIK (`manage.py load_tickers`). Keyed by CIK, not
    by company: a ticker of a company not yet ingested is kept, and shows once its
    filings arrive. A company may have several (share classes); a ticker may move."""

    cik = models.PositiveBigIntegerField("CIK", db_index=True)
    ticker = models.CharField(max_length=16, db_index=True)  # upper case
    exchange = models.CharField(max_length=32, blank=True)
    title = models.CharField(max_length=255, blank=True)  # the name SEC's file gives
    position = models.PositiveIntegerField(default=0)  # its place in the file

    objects = TickerQuerySet.as_manager()

    class Meta:
        ordering = ["cik", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cik", "ticker"], name="ticker_unique_cik_ticker")
        ]

    def __str__(self):
        return f"{self.ticker} ({self.cik})"


class InsiderTransactionQuerySet(models.QuerySet):
    def of_issuer(self, cik):
        return self.filter(issuer_cik=cik)

    def of_owner(self, cik):
        return self.filter(owner_cik=cik)

    def with_codes(self, codes):
        return self.filter(code__in=codes) if codes else self

    def dated(self, start=None, end=None):
        rows = self
        if start:
            rows = rows.filter(transaction_date__gte=start)
        if end:
            rows = rows.filter(transaction_date__lte=end)
        return rows


class InsiderTransaction(models.Model):
    """One transaction row of an ownership report (Forms 3, 4, 5), for one of its
    reporting owners (a joint report's row is stored once per owner), derived at ingest
    by `filings.ownership` and replaced with the filing's documents."""

    class Table(models.TextChoices):
        NON_DERIVATIVE = "non-derivative", "Non-derivative"
        DERIVATIVE = "derivative", "Derivative"

    filing = models.ForeignKey(
        Filing, on_delete=models.CASCADE, related_name="insider_transactions"
    )
    document_sequence = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    table = models.CharField(max_length=16, choices=Table.choices)
    owner_cik = models.PositiveBigIntegerField("owner CIK", null=True, blank=True)
    owner_name = models.CharField(max_length=255, blank=True)
    issuer_cik = models.PositiveBigIntegerField("issuer CIK", null=True, blank=True)
    issuer_name = models.CharField(max_length=255, blank=True)
    trading_symbol = models.CharField(max_length=32, blank=True)
    security = models.CharField(max_length=255, blank=True)
    transaction_date = models.DateField(null=True, blank=True)
    code = models.CharField(max_length=8, blank=True)
    acquired_disposed = models.CharField("A/D", max_length=1, blank=True)
    shares = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    price = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    owned_after = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    ownership = models.CharField("direct/indirect", max_length=8, blank=True)
    nature = models.CharField("nature of indirect ownership", max_length=255, blank=True)
    footnotes = models.CharField(max_length=255, blank=True)

    objects = InsiderTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-transaction_date", "filing", "position"]
        constraints = [
            models.UniqueConstraint(fields=["filing", "document_sequence", "position"],
                                    name="insidertransaction_unique_row")
        ]
        indexes = [
            models.Index(fields=["issuer_cik", "transaction_date"],
                         name="insider_issuer_date"),
            models.Index(fields=["owner_cik", "transaction_date"], name="insider_owner_date"),
        ]

    def __str__(self):
        return f"{self.owner_name} {self.code} {self.security} ({self.filing_id})"


# --- Work done off the request (filings.tasks) ---------------------------------------------

# The order in which outcome counts are shown (PostgreSQL's jsonb keeps no key order).
OUTCOME_ORDER = ["new", "updated", "unchanged", "deleted", "failed"]


def job_upload_name(job, filename):
    """Where an uploaded file waits for its task: a generated name, never the uploader's
    (that one is only shown, and names the outcomes)."""
    return f"uploads/{uuid.uuid4().hex}"


class JobQuerySet(models.QuerySet):
    def of_batch(self, batch):
        return self.filter(batch=batch).order_by("pk")

    def pending(self):
        return self.filter(state__in=[Job.State.QUEUED, Job.State.RUNNING])

    def without_details(self):
        """For lists: everything but the outcome lists, which may be large."""
        return self.defer("outcomes", "outcomes_csv", "accessions")


class Job(models.Model):
    """Work done off the request by the task `filings.tasks.run_job`: one uploaded file
    to ingest, or a re-derive or delete of selected filings. The row is what the status
    page shows, and how a job whose worker stopped is found and run again. The files of
    one upload are one job each, sharing a `batch`; the status page shows a batch."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Upload"
        REDERIVE = "rederive", "Re-derive"
        DELETE = "delete", "Delete"

        @property
        def running_label(self):
            return {"upload": "ingesting", "rederive": "re-deriving", "delete": "deleting"}[
                self.value
            ]

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    batch = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What to work on: an uploaded file, kept in storage until the job ends, or filings.
    upload = models.FileField(upload_to=job_upload_name, blank=True)
    # The upload's name as given (or the filings worked on): shown, never used as a path.
    source_name = models.CharField(max_length=500, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    accessions = models.JSONField(default=list, blank=True)
    # What came of it: counts per outcome status, the first outcomes with every failure
    # up to a cap (an archive may hold 100,000 members), and all outcomes as gzip'd CSV.
    counts = models.JSONField(default=dict, blank=True)
    outcomes = models.JSONField(default=list, blank=True)
    outcomes_csv = models.BinaryField(default=b"", blank=True)
    # Why the job itself failed; or what went wrong beside its outcomes (index not updated).
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)
    # Who runs it. `attempt` counts the runs and is the running worker's claim on the
    # row: a worker writes only while the row still holds its attempt.
    task_id = models.CharField(max_length=64, blank=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)  # "host:pid"
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.source_name}"

    def get_absolute_url(self):
        return reverse("admin:filings_job_batch", kwargs={"batch": self.batch})

    @property
    def is_pending(self):
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def status(self):
        """What the pages show: queued; ingesting (re-deriving, deleting); failed; or,
        once done, the outcome all its filings share (new, updated, unchanged, deleted,
        failed), else "done"."""
        if self.state == self.State.QUEUED:
            return "queued"
        if self.state == self.State.RUNNING:
            return self.Kind(self.kind).running_label
        if self.state == self.State.FAILED:
            return "failed"
        seen = [status for status, n in self.counts.items() if n]
        return seen[0] if len(seen) == 1 else "done"

    @property
    def outcome_count(self):
        return sum(self.counts.values())

    def counts_line(self):
        """ "3 new, 1 failed": the counts in a fixed order, zeros left out."""
        order = OUTCOME_ORDER + sorted(set(self.counts) - set(OUTCOME_ORDER))
        return ", ".join(f"{self.counts[s]:,} {s}" for s in order if self.counts.get(s))
