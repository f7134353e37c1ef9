"""The admin: upload filings through the one ingest pipeline, and browse, delete and
re-derive the stored collection.

Companies, filings and documents are derived from the submissions as filed, so the admin
shows them read-only: an edit would be overwritten by the next ingest and would leave the
search index behind. Changing the collection goes through `filings.ingest` (upload,
delete, re-derive), which keeps the database, the stored files and the index in step; it
runs as a background job (`filings.tasks`), and the request only queues it and links the
job's status page.
"""
import gzip
import io

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as confirm_delete_selected
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from filings import tasks
from filings.forms import UploadForm, too_large_message
from filings.models import Company, Document, Filing, FilingParty, FormerName, Ingestion, Job
from filings.sources import display_name
from filings.tasks import FAILED, start_on_filings, start_uploads

csrf_protect_m = method_decorator(csrf_protect)

# Room for the multipart framing around the files themselves, so a request is refused
# on its Content-Length alone only when its files cannot possibly fit under the limit.
MULTIPART_SLACK = 1024 * 1024


@admin.display(description="uploaded by", ordering="uploaded_by__username")
def uploader(ingestion):
    """Who added a source: a staff member through the upload page, or the command."""
    return ingestion.uploaded_by.get_username() if ingestion.uploaded_by else "ingest command"


def _count_of(model, fk, counted="pk"):
    """A correlated subquery counting `model` rows pointing at the outer row: unlike a
    JOIN + COUNT, it stays right when the admin's search adds joins of its own."""
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count(counted, distinct=counted != "pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class ViewOnly:
    """Rows shown and never added, edited or deleted here (admins and inlines)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ViewOnly):
    """An inline that shows stored rows and never edits them."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields, *self.readonly_fields]


class DerivedModelAdmin(admin.ModelAdmin):
    """Rows derived from filings: a user with the change permission may run this
    admin's actions, but no single object is edited by hand, so its page is a view."""

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request)


# --- Companies --------------------------------------------------------------------------


class FormerNameInline(ReadOnlyInline, admin.TabularInline):
    model = FormerName
    fields = ["name", "changed_on"]


@admin.register(Company)
class CompanyAdmin(DerivedModelAdmin):
    list_display = ["name", "padded_cik", "state_of_incorporation", "sic_code", "filing_count"]
    search_fields = ["name", "cik"]
    search_help_text = "A CIK (with or without leading zeros), or part of a current or former name."
    fields = [
        "name",
        "cik",
        ("sic_code", "sic_description"),
        "irs_number",
        "state_of_incorporation",
        "fiscal_year_end",
        "business_address",
        "mail_address",
        "profile_as_of",
    ]
    inlines = [FormerNameInline]

    # Companies come from the headers of their filings, never typed in.
    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(filing_count=_count_of(FilingParty, "company", counted="filing"))
        )

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        # One meaning of a company search everywhere: the site's CompanyQuerySet.
        matching = Company.objects.matching(search_term).values("pk")
        return queryset.filter(pk__in=matching), False

    @admin.display(description="CIK", ordering="cik")
    def padded_cik(self, company):
        return company.padded_cik

    @admin.display(description="filings", ordering="filing_count")
    def filing_count(self, company):
        url = reverse("admin:filings_filing_changelist")
        return format_html(
            '<a href="{}?parties__company__cik={}">{}</a>', url, company.cik, company.filing_count
        )


# --- Filings ----------------------------------------------------------------------------


class FilingPartyInline(ReadOnlyInline, admin.TabularInline):
    model = FilingParty
    fields = ["role", "company", "name", "form_type", "file_number", "film_number"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company")


class DocumentInline(ReadOnlyInline, admin.TabularInline):
    model = Document
    fields = ["sequence", "type", "filename", "description", "kind", "size", "page"]
    readonly_fields = ["page"]

    def get_queryset(self, request):
        # A filing's documents may hold hundreds of MB of text; none of it is shown here.
        return (
            super()
            .get_queryset(request)
            .defer("content", "text", "html")
            .select_related("filing")
        )

    @admin.display(description="page")
    def page(self, document):
        return format_html('<a href="{}">view</a>', document.get_absolute_url())


class IngestionInline(ReadOnlyInline, admin.TabularInline):
    model = Ingestion
    fields = ["created_at", uploader, "outcome", "source_name", "size", "sha256"]
    verbose_name = "source"
    verbose_name_plural = "sources (who added this filing, and when)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(Filing)
class FilingAdmin(DerivedModelAdmin):
    list_display = [
        "form_type",
        "accession_number",
        "filed_on",
        "first_filer",
        "document_count",
        "ingested_at",
    ]
    list_display_links = ["accession_number"]
    list_filter = ["form_type"]
    date_hierarchy = "filed_on"
    # One COUNT per page, not two: the collection may hold millions of filings.
    show_full_result_count = False
    search_fields = ["accession_number", "parties__company__name", "parties__name"]
    search_help_text = "An accession number (dashes optional), a company name or a CIK."
    actions = ["delete_selected", "rederive_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "accession_number",
                    "form_type",
                    "filed_on",
                    "period_of_report",
                    "accepted_at",
                    "effective_on",
                    "date_of_change",
                ]
            },
        ),
        (
            "Header",
            {
                "fields": [
                    "items",
                    "group_members",
                    "public_document_count",
                    "sec_act",
                    "file_number",
                    "film_number",
                    "dialect",
                    "warnings",
                ]
            },
        ),
        (
            "Stored original",
            {"fields": ["original_link", "original_size", "source_name", "ingested_at",
                        "updated_at"]},
        ),
    ]
    readonly_fields = ["original_link", "ingested_at", "updated_at"]
    inlines = [FilingPartyInline, DocumentInline, IngestionInline]

    def get_urls(self):
        # The CSRF check is made inside the view, after the size check (see upload_view).
        upload = self.admin_site.admin_view(csrf_exempt(self.upload_view))
        return [
            path("upload/", upload, name="filings_filing_upload"),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        first_filer = FilingParty.objects.filter(filing=OuterRef("pk")).order_by("position")
        return (
            super()
            .get_queryset(request)
            .annotate(
                first_filer=Subquery(first_filer.values("name")[:1]),
                document_count=_count_of(Document, "filing"),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        numbers = Q()
        for term in search_term.split():
            digits = term.replace("-", "")
            if not digits.isdigit():
                continue
            if len(digits) == 18:
                numbers |= Q(accession_number=f"{digits[:10]}-{digits[10:12]}-{digits[12:]}")
            elif len(digits) <= 10:
                numbers |= Q(parties__company__cik=int(digits))
        if numbers:
            found = queryset.filter(Q(pk__in=found.values("pk")) | numbers)
            may_have_duplicates = True
        return found, may_have_duplicates

    def lookup_allowed(self, lookup, value, request=None):
        # The company list links here with ?parties__company__cik=<cik>.
        if lookup == "parties__company__cik":
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="first filer", ordering="first_filer")
    def first_filer(self, filing):
        return filing.first_filer or "—"

    @admin.display(description="documents", ordering="document_count")
    def document_count(self, filing):
        return filing.document_count

    @admin.display(description="original")
    def original_link(self, filing):
        if not filing.original:
            return "—"
        url = reverse("filings:original", kwargs={"accession": filing.accession_number})
        return format_html('<a href="{}">{}.txt</a>', url, filing.accession_number)

    # Filings are added by uploading submissions, never typed in.
    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:filings_filing_upload")

    # --- Deleting: a job whose task removes the rows, the stored files and the index
    # entries (filings.ingest.delete_filing); a bulk delete may take minutes.

    @admin.action(description="Delete selected filings", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then a delete job instead of deleting in the
        request."""
        if not request.POST.get("post"):
            return confirm_delete_selected(self, request, queryset)
        if not self.has_delete_permission(request):
            raise PermissionDenied
        accessions = list(queryset.values_list("accession_number", flat=True))
        if accessions:
            self.log_deletions(request, queryset)
            job = start_on_filings(Job.Kind.DELETE, accessions, request.user)
            self._job_started(request, job, f"Deleting {_filings(len(accessions))}")
        return None

    def delete_queryset(self, request, queryset):
        # Never Django's queryset.delete(): it would leave stored files and index entries.
        accessions = list(queryset.values_list("accession_number", flat=True))
        if accessions:
            start_on_filings(Job.Kind.DELETE, accessions, request.user)

    def delete_model(self, request, obj):
        # The filing page's own Delete button: a job too; response_delete links it.
        request.filings_job = start_on_filings(
            Job.Kind.DELETE, [obj.accession_number], request.user
        )

    def response_delete(self, request, obj_display, obj_id):
        self._job_started(request, request.filings_job, f"Deleting {obj_display}")
        if self.has_view_or_change_permission(request):
            return redirect("admin:filings_filing_changelist")
        return redirect("admin:index")

    def get_deleted_objects(self, objs, request):
        # The default walks every related row (loading each document's full text) and
        # asks for delete permission on documents, which no one has one by one. A
        # filing's parties, documents and sources always go with it: list counts.
        filings = self.get_queryset(request).filter(pk__in=[f.pk for f in objs])
        deleted, documents = [], 0
        for filing in filings:
            documents += filing.document_count
            deleted.append(
                format_html(
                    "{} {} ({} documents)",
                    filing.form_type,
                    filing.accession_number,
                    filing.document_count,
                )
            )
        model_count = {
            Filing._meta.verbose_name_plural: len(deleted),
            Document._meta.verbose_name_plural: documents,
        }
        perms_needed = set() if self.has_delete_permission(request) else {"filing"}
        return deleted, model_count, perms_needed, []

    # --- Re-deriving: a job whose task parses, sanitizes and indexes each filing again

    @admin.action(description="Re-derive from stored original", permissions=["change"])
    def rederive_selected(self, request, queryset):
        accessions = list(queryset.values_list("accession_number", flat=True))
        if not accessions:
            return
        LogEntry.objects.log_actions(
            request.user.pk, queryset, CHANGE, "Queued a re-derive from the stored original."
        )
        job = start_on_filings(Job.Kind.REDERIVE, accessions, request.user)
        self._job_started(request, job, f"Re-deriving {_filings(len(accessions))}")

    def _job_started(self, request, job, what):
        self.message_user(
            request,
            format_html(
                '{} in the background: <a href="{}">follow its progress</a>.',
                what,
                job.get_absolute_url(),
            ),
            messages.INFO,
        )

    # --- Uploading: the request stores the files and queues a job per file ------------

    def upload_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            # Refuse an oversized request before reading its body: files past
            # FILE_UPLOAD_MAX_MEMORY_SIZE would otherwise be spooled to disk first.
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.MAX_UPLOAD_BYTES + MULTIPART_SLACK:
                return self._render_upload(
                    request,
                    UploadForm(),
                    error=too_large_message(length, settings.MAX_UPLOAD_BYTES),
                    status=413,
                )
        return self._upload(request)

    @csrf_protect_m
    def _upload(self, request):
        if request.method != "POST":
            return self._render_upload(request, UploadForm())
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            too_large = form.has_error("files", code="too_large")
            return self._render_upload(request, form, status=413 if too_large else 200)
        job = start_uploads(form.cleaned_data["files"], request.user)
        return redirect(job)

    def _render_upload(self, request, form, error="", status=200):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Upload filings",
            "form": form,
            "error": error,
            "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
            "max_expanded_bytes": settings.MAX_EXPANDED_BYTES,
            "has_view_permission": self.has_view_permission(request),
            "jobs_url": reverse("admin:filings_job_changelist"),
        }
        return TemplateResponse(
            request, "admin/filings/filing/upload.html", context, status=status
        )


def _filings(n):
    return f"{n:,} filing{'s' if n != 1 else ''}"


# --- Jobs: uploads, re-derives and deletes in the background ------------------------------


def _starts_jobs(user):
    return any(
        user.has_perm(f"filings.{action}_filing") for action in ("add", "change", "delete")
    )


@admin.register(Job)
class JobAdmin(ViewOnly, admin.ModelAdmin):
    """Recent uploads, re-derives and deletes with their state; each opens its status
    page. Whoever may start a job sees their own; "Can view job" shows everyone's."""

    list_display = ["created_at", "kind", "subject", "status", "counts_line", "user"]
    list_filter = ["kind", "state"]
    list_select_related = ["user"]
    search_fields = ["source_name", "user__username"]
    show_full_result_count = False
    # How often a status page with unfinished work reloads itself.
    refresh_seconds = 2

    def _visible(self, request):
        jobs = Job.objects.all()
        if not request.user.has_perm("filings.view_job"):
            jobs = jobs.filter(user=request.user)
        return jobs

    def get_queryset(self, request):
        return self._visible(request).without_details()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _starts_jobs(request.user)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or _starts_jobs(request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("batch/<uuid:batch>/", view(self.batch_view), name="filings_job_batch"),
            path(
                "batch/<uuid:batch>/outcomes.csv",
                view(self.outcomes_csv_view),
                name="filings_job_outcomes_csv",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A job's page is its batch's status page.
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404("No such job.")
        return redirect(job)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"title": "Recent uploads and jobs", **(extra_context or {})}
        )

    @admin.display(description="file or filings", ordering="source_name")
    def subject(self, job):
        return job.source_name

    @admin.display(description="status")
    def status(self, job):
        return job.status

    @admin.display(description="outcomes")
    def counts_line(self, job):
        return job.counts_line() or "—"

    def batch_view(self, request, batch):
        if not self.has_view_permission(request):
            raise PermissionDenied
        jobs = list(self._visible(request).of_batch(batch).defer("outcomes_csv"))
        if not jobs:
            raise Http404("No such upload or job.")
        first = jobs[0]
        totals = {}
        for job in jobs:
            for status, n in job.counts.items():
                totals[status] = totals.get(status, 0) + n
        pending = [job for job in jobs if job.is_pending]
        if first.kind == Job.Kind.UPLOAD:
            title = f"Upload of {len(jobs)} file{'s' if len(jobs) != 1 else ''}"
        else:
            title = f"{first.get_kind_display()} {_filings(len(first.accessions))}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "jobs": jobs,
            "rows": self._rows(jobs),
            "totals": Job(counts=totals).counts_line(),
            "done": len(jobs) - len(pending),
            "pending": pending,
            "refresh_seconds": self.refresh_seconds,
            "truncated": [job for job in jobs if job.outcome_count > len(job.outcomes)],
            "failures_shown": tasks.FAILURES_SHOWN,
            "others_shown": tasks.OTHERS_SHOWN,
            "csv_url": reverse("admin:filings_job_outcomes_csv", kwargs={"batch": batch}),
            "upload_url": reverse("admin:filings_filing_upload"),
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/filings/job/batch.html", context)

    def _rows(self, jobs):
        """One line per outcome kept on the jobs' rows, one per job not done yet; the
        failures last, so that what was stored is not lost below 200 of them."""
        linked = {
            o["accession_number"]
            for job in jobs
            for o in job.outcomes
            if o["status"] not in (FAILED, "deleted")
        }
        admin_pks = dict(
            Filing.objects.filter(accession_number__in=linked).values_list(
                "accession_number", "pk"
            )
        )
        rows = []
        for job in jobs:
            if job.state == Job.State.DONE and job.outcomes:
                for outcome in job.outcomes:
                    pk = admin_pks.get(outcome["accession_number"])
                    rows.append(
                        {
                            **outcome,
                            "source": display_name(outcome["source"]),
                            "url": (
                                reverse(
                                    "filings:detail",
                                    kwargs={"accession": outcome["accession_number"]},
                                )
                                if pk
                                else ""
                            ),
                            "admin_url": (
                                reverse("admin:filings_filing_change", args=[pk]) if pk else ""
                            ),
                        }
                    )
                continue
            rows.append(
                {
                    "status": job.status,
                    "source": job.source_name,
                    "message": self._job_message(job),
                }
            )
        return sorted(rows, key=lambda row: row["status"] == FAILED)

    @staticmethod
    def _job_message(job):
        if job.state == Job.State.QUEUED:
            waiting = "waiting for a worker"
            return f"{waiting} (again: {job.error})" if job.error else waiting
        if job.state == Job.State.RUNNING:
            so_far = job.counts_line()
            return f"{so_far} so far" if so_far else "started"
        if job.state == Job.State.FAILED:
            return job.error
        return "The file held no submissions." if job.kind == Job.Kind.UPLOAD else "Nothing to do."

    def outcomes_csv_view(self, request, batch):
        if not self.has_view_permission(request):
            raise PermissionDenied
        jobs = list(self._visible(request).of_batch(batch).only("pk", "outcomes_csv"))
        if not jobs:
            raise Http404("No such upload or job.")

        def lines():
            header_sent = False
            for job in jobs:
                data = bytes(job.outcomes_csv)
                if not data:
                    continue
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                    header = fh.readline()
                    if not header_sent:
                        header_sent = True
                        yield header
                    yield from fh

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="outcomes-{batch}.csv"'
        return response


# --- Documents and sources ----------------------------------------------------------------


@admin.register(Document)
class DocumentAdmin(ViewOnly, admin.ModelAdmin):
    """A document goes with its filing (delete the filing), never alone: the index and
    the filing's other documents would be left inconsistent."""

    list_display = ["__str__", "type", "kind", "filename", "size", "sanitizer_version"]
    list_filter = ["kind", "sanitizer_version"]
    list_select_related = ["filing"]
    search_fields = ["filing__accession_number", "filename", "type", "description"]
    fields = [
        "filing",
        "sequence",
        "type",
        "filename",
        "description",
        "kind",
        "size",
        "sanitizer_version",
        "page",
    ]
    readonly_fields = ["page"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content", "text", "html")

    @admin.display(description="page")
    def page(self, document):
        return format_html('<a href="{0}">{0}</a>', document.get_absolute_url())


@admin.register(Ingestion)
class IngestionAdmin(ViewOnly, admin.ModelAdmin):
    """Who added which source, when: a log, so nothing here is edited."""

    list_display = ["created_at", uploader, "outcome", "source_name", "filing", "size"]
    # Lists every user (few), plus "empty" for sources loaded by the ingest command.
    list_filter = ["outcome", "uploaded_by"]
    list_select_related = ["filing", "uploaded_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    search_fields = ["source_name", "filing__accession_number", "uploaded_by__username", "=sha256"]
