"""The admin: uploads through the ingest pipeline, their limits, their status pages, and
managing filings. Jobs run at once (the immediate task backend) unless a test queues them
in the database and runs a real worker."""
import csv
import gzip
import io
import re
import zlib

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from filings import tasks
from filings.models import Company, Document, Filing, Ingestion, Job
from tests.builders import tar_bytes, zip_bytes
from tests.conftest import corpus_file, run_worker

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/filings/filing/upload/"
CHANGELIST = "/admin/filings/filing/"
MB = 1024 * 1024

TXT = "0000320193-99-000010.txt"  # 8-K, Apple Computer, 1999
TXT_ACCESSION = "0000320193-99-000010"
NC = "0001127602-25-004598.nc"  # Form 4 from the daily feed
NC_ACCESSION = "0001127602-25-004598"
HDR = "0001062993-24-012217.hdr.sgml"  # header only
HDR_ACCESSION = "0001062993-24-012217"
INDEX_HEADERS = "0001924152-24-000002-index-headers.html"
INDEX_HEADERS_ACCESSION = "0001924152-24-000002"


def read(name):
    return corpus_file(name).read_bytes()


def upload(name, data):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}




def post(client, *files, follow=True, **extra):
    """Upload, and follow the redirect to the upload's status page."""
    return client.post(UPLOAD, {"files": list(files)}, follow=follow, **extra)


def rows(response):
    """(status, source, accession) of each line on a status page; a line that spans the
    filing's columns (a reason, or a job not done yet) has no accession."""
    html = response.content.decode()
    found = []
    for row in re.findall(r'<tr class="outcome outcome-([\w-]+)">(.*?)</tr>', html, re.S):
        status, body = row
        cells = re.findall(r"<td([^>]*)>(.*?)</td>", body, re.S)
        attributes, filing = cells[2]
        accession = "" if "colspan" in attributes else re.sub(r"<[^>]+>", "", filing).strip()
        found.append((status, cells[1][1].strip(), accession))
    return found


def messages_of(response):
    """The job lines on a status page that span the filing's columns."""
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'<td colspan="4"[^>]*>(.*?)</td>', response.content.decode(), re.S)
    ]


def error_reasons(response):
    html = response.content.decode()
    return re.findall(r'<td colspan="4" class="reason">(.*?)</td>', html, re.S)


def stored_files(tmp_path):
    root = tmp_path / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def indexed(accession):
    """How many of this filing's documents the search index holds (whichever engine)."""
    from search import backends

    return sum(1 for entry in backends.get().entry_ids() if entry.startswith(accession + "/"))




def zeros_gzip(total):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join([compressor.compress(zeros) for _ in range(total // MB)] + [compressor.flush()])


def assert_nothing_stored(tmp_path):
    assert Filing.objects.count() == 0
    assert Ingestion.objects.count() == 0
    assert Company.objects.count() == 0
    assert stored_files(tmp_path) == []


@pytest.fixture
def staff_viewer(db):
    """Staff who may look at filings but not add them."""
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_filing"))
    return user


@pytest.fixture
def staff_uploader(db):
    """Staff with just the add permission (not a superuser)."""
    user = User.objects.create_user("uploader", password="pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="add_filing"),
        Permission.objects.get(codename="view_filing"),
    )
    return user


# --- Accepted formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, accession",
    [
        (TXT, TXT_ACCESSION),
        (NC, NC_ACCESSION),
        (HDR, HDR_ACCESSION),
        (INDEX_HEADERS, INDEX_HEADERS_ACCESSION),
    ],
)
def test_each_plain_format_is_stored_and_listed_as_new(admin_client, admin_user, name, accession):
    response = post(admin_client, upload(name, read(name)))
    assert response.status_code == 200
    assert rows(response) == [("new", name, accession)]
    filing = Filing.objects.get(accession_number=accession)
    assert f'href="{filing.get_absolute_url()}"' in response.content.decode()
    assert filing.ingestions.get().uploaded_by == admin_user


@pytest.mark.parametrize(
    "archive_name, make, sources",
    [
        ("filing.txt.gz", lambda txt, nc: gzip.compress(txt), ["filing.txt"]),
        ("batch.zip", lambda txt, nc: zip_bytes({TXT: txt, NC: nc}),
         [f"batch.zip!{TXT}", f"batch.zip!{NC}"]),
        ("batch.tar.gz", lambda txt, nc: tar_bytes({TXT: txt, NC: nc}),
         [f"batch.tar!{TXT}", f"batch.tar!{NC}"]),
        ("batch.tar", lambda txt, nc: tar_bytes({TXT: txt, NC: nc}, mode="w"),
         [f"batch.tar!{TXT}", f"batch.tar!{NC}"]),
    ],
)
def test_each_archive_format_is_opened_and_every_submission_listed(
    admin_client, archive_name, make, sources
):
    data = make(read(TXT), read(NC))
    response = post(admin_client, upload(archive_name, data))
    assert response.status_code == 200
    expected = [TXT_ACCESSION, NC_ACCESSION][: len(sources)]
    assert rows(response) == [("new", s, a) for s, a in zip(sources, expected, strict=True)]
    assert set(Filing.objects.values_list("accession_number", flat=True)) == set(expected)


def test_several_files_in_one_upload_each_get_a_line(admin_client):
    response = post(admin_client, upload(TXT, read(TXT)), upload(NC, read(NC)))
    assert rows(response) == [("new", TXT, TXT_ACCESSION), ("new", NC, NC_ACCESSION)]
    assert "Upload of 2 files" in response.content.decode()
    assert "All done. Outcomes: 2 new." in re.sub(r"\s+", " ", response.content.decode())
    assert Job.objects.filter(batch=response.context["jobs"][0].batch).count() == 2


def test_an_uploaded_filing_is_searchable_when_its_job_is_done(admin_client):
    post(admin_client, upload(TXT, read(TXT)))
    filing = Filing.objects.get(accession_number=TXT_ACCESSION)
    assert indexed(TXT_ACCESSION) == filing.documents.count() > 0


def test_uploading_the_same_bytes_again_is_unchanged(admin_client):
    post(admin_client, upload(TXT, read(TXT)))
    response = post(admin_client, upload("again.txt", read(TXT)))
    assert rows(response) == [("unchanged", "again.txt", TXT_ACCESSION)]
    assert Ingestion.objects.count() == 1


def test_a_changed_copy_of_a_filing_is_updated(admin_client):
    post(admin_client, upload(TXT, read(TXT)))
    changed = read(TXT).replace(b"</DOCUMENT>", b"Corrected copy.\n</DOCUMENT>", 1)
    response = post(admin_client, upload("corrected.txt", changed))
    assert rows(response) == [("updated", "corrected.txt", TXT_ACCESSION)]
    assert Ingestion.objects.filter(filing__accession_number=TXT_ACCESSION).count() == 2


def test_staff_with_only_the_add_permission_may_upload(client, staff_uploader):
    client.force_login(staff_uploader)
    assert client.get(UPLOAD).status_code == 200
    response = post(client, upload(TXT, read(TXT)))
    assert rows(response) == [("new", TXT, TXT_ACCESSION)]
    assert Ingestion.objects.get().uploaded_by == staff_uploader


# --- Refusals ------------------------------------------------------------------------------


def test_an_upload_past_the_size_limit_is_refused_naming_the_limit(
    admin_client, settings, tmp_path
):
    settings.MAX_UPLOAD_BYTES = 4000
    response = post(admin_client, upload(TXT, read(TXT)))  # 5.9 KB
    assert response.status_code == 413
    text = response.content.decode()
    assert "the most one upload may hold is 3.9\xa0KB" in text
    assert "MAX_UPLOAD_MB" in text
    assert_nothing_stored(tmp_path)


def test_a_request_far_past_the_limit_is_refused_before_its_body_is_read(
    admin_client, settings, tmp_path, monkeypatch
):
    settings.MAX_UPLOAD_BYTES = 4000

    def no_parsing(request):
        raise AssertionError("the body of an oversized request was parsed")

    monkeypatch.setattr("django.http.request.HttpRequest._load_post_and_files", no_parsing)
    response = post(admin_client, upload("big.txt", bytes(2 * MB)))
    assert response.status_code == 413
    assert "the most one upload may hold is 3.9\xa0KB" in response.content.decode()
    assert_nothing_stored(tmp_path)


def test_a_gzip_bomb_is_refused(admin_client, settings, tmp_path):
    settings.MAX_EXPANDED_BYTES = 4 * MB
    response = post(admin_client, upload("bomb.txt.gz", zeros_gzip(64 * MB)))
    assert response.status_code == 200
    assert rows(response) == [("failed", "bomb.txt.gz", "")]
    [reason] = error_reasons(response)
    assert "expands past the limit of 4 MB (refused as a possible archive bomb)" in reason
    assert_nothing_stored(tmp_path)


def test_a_zip_member_expanding_past_the_limit_is_refused(admin_client, settings, tmp_path):
    settings.MAX_EXPANDED_BYTES = 4 * MB
    response = post(admin_client, upload("bomb.zip", zip_bytes({"zeros.txt": bytes(16 * MB)})))
    assert rows(response) == [("failed", "bomb.zip", "")]
    assert "zeros.txt would expand past the limit of 4 MB" in error_reasons(response)[0]
    assert_nothing_stored(tmp_path)


def test_a_bomb_nested_inside_an_archive_is_refused(admin_client, settings, tmp_path):
    settings.MAX_EXPANDED_BYTES = 4 * MB
    nested = zip_bytes({"inner.tar.gz": tar_bytes({"zeros.txt": bytes(16 * MB)})})
    response = post(admin_client, upload("nested.zip", nested))
    assert [r[0] for r in rows(response)] == ["failed"]
    assert "archive bomb" in error_reasons(response)[0]
    assert_nothing_stored(tmp_path)


@pytest.mark.parametrize(
    "name, make",
    [
        ("broken.zip", lambda data: zip_bytes({TXT: data})[:300]),
        ("broken.txt.gz", lambda data: gzip.compress(data)[:300]),
    ],
)
def test_a_broken_archive_is_refused_with_the_reason(admin_client, tmp_path, name, make):
    response = post(admin_client, upload(name, make(read(TXT))))
    assert rows(response) == [("failed", name, "")]
    assert error_reasons(response)[0].startswith("broken archive:")
    assert_nothing_stored(tmp_path)


def test_a_file_that_is_not_a_submission_fails_and_stores_nothing(admin_client, tmp_path):
    text = b"Shopping list: eggs, flour, 12 lemons.\nNothing to do with the SEC.\n" * 20
    response = post(admin_client, upload("notes.txt", text))
    assert response.status_code == 200
    assert rows(response) == [("failed", "notes.txt", "")]
    [reason] = error_reasons(response)
    assert reason.strip()
    assert_nothing_stored(tmp_path)


def test_a_bad_member_fails_alone_and_the_good_ones_are_stored(admin_client):
    archive = zip_bytes({TXT: read(TXT), "junk.txt": b"not a filing\n" * 10})
    response = post(admin_client, upload("mixed.zip", archive))
    assert rows(response) == [("new", f"mixed.zip!{TXT}", TXT_ACCESSION),
                              ("failed", "mixed.zip!junk.txt", "")]
    assert list(Filing.objects.values_list("accession_number", flat=True)) == [TXT_ACCESSION]


def test_an_upload_without_files_asks_for_them(admin_client):
    response = admin_client.post(UPLOAD, {})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_staff_without_the_add_permission_get_403(client, staff_viewer, tmp_path):
    client.force_login(staff_viewer)
    assert client.get(UPLOAD).status_code == 403
    assert post(client, upload(TXT, read(TXT))).status_code == 403
    assert_nothing_stored(tmp_path)


def test_anonymous_visitors_are_sent_to_the_login_page(client, tmp_path):
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")
    response = post(client, upload(TXT, read(TXT)), follow=False)
    assert response["Location"].startswith("/admin/login/?next=")
    assert_nothing_stored(tmp_path)


def test_non_staff_users_cannot_upload(client, tmp_path):
    user = User.objects.create_user("outsider", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="add_filing"))
    client.force_login(user)
    response = post(client, upload(TXT, read(TXT)), follow=False)
    assert response["Location"].startswith("/admin/login/?next=")
    assert_nothing_stored(tmp_path)


def test_an_upload_without_a_csrf_token_is_refused(admin_user, tmp_path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert post(client, upload(TXT, read(TXT))).status_code == 403
    assert_nothing_stored(tmp_path)

    page = client.get(UPLOAD)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(UPLOAD, {"files": [upload(TXT, read(TXT))],
                                    "csrfmiddlewaretoken": token}, follow=True)
    assert rows(response) == [("new", TXT, TXT_ACCESSION)]


# --- The changelists -------------------------------------------------------------------------


def test_the_filing_list_offers_upload_only_to_those_who_may(client, staff_viewer, staff_uploader):
    client.force_login(staff_uploader)
    assert f'href="{UPLOAD}"' in client.get(CHANGELIST).content.decode()
    client.force_login(staff_viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert f'href="{UPLOAD}"' not in page.content.decode()


def test_adding_a_filing_by_hand_leads_to_the_upload_page(admin_client):
    response = admin_client.get(reverse("admin:filings_filing_add"))
    assert response.status_code == 302
    assert response["Location"] == UPLOAD


def test_the_filing_list_shows_form_accession_first_filer_and_documents(
    admin_client, ingest_paths
):
    ingest_paths(corpus_file(TXT))
    filing = Filing.objects.get()
    html = admin_client.get(CHANGELIST).content.decode()
    assert TXT_ACCESSION in html
    assert '<td class="field-form_type">8-K</td>' in html
    assert filing.parties.order_by("position").first().name in html
    assert f'<td class="field-document_count">{filing.documents.count()}</td>' in html


def test_the_filing_list_makes_the_same_queries_for_one_filing_or_many(
    admin_client, ingest_paths
):
    ingest_paths(corpus_file(TXT))
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(CHANGELIST).status_code == 200
    ingest_paths(*(corpus_file(n) for n in (NC, HDR, INDEX_HEADERS, "0000842517-24-000086.txt")))
    assert Filing.objects.count() == 5
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(CHANGELIST).status_code == 200
    assert len(many) == len(one)


@pytest.mark.parametrize(
    "term",
    [TXT_ACCESSION, TXT_ACCESSION.replace("-", ""), "apple computer", "320193", "0000320193"],
)
def test_filings_are_found_by_accession_company_name_and_cik(admin_client, ingest_paths, term):
    ingest_paths(corpus_file(TXT), corpus_file(NC))
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    found = [f.accession_number for f in response.context["cl"].result_list]
    assert found == [TXT_ACCESSION]


def test_the_company_list_finds_by_cik_and_name_and_links_its_filings(admin_client, ingest_paths):
    ingest_paths(corpus_file(TXT), corpus_file(NC))
    for term in ("0000320193", "320193", "APPLE"):
        response = admin_client.get("/admin/filings/company/", {"q": term})
        assert [c.cik for c in response.context["cl"].result_list] == [320193], term
    html = response.content.decode()
    assert '?parties__company__cik=320193">1</a>' in html
    listed = admin_client.get(CHANGELIST, {"parties__company__cik": "320193"})
    assert [f.accession_number for f in listed.context["cl"].result_list] == [TXT_ACCESSION]


def test_companies_are_not_added_by_hand(admin_client):
    assert admin_client.get("/admin/filings/company/add/").status_code == 403


def test_the_filing_page_is_read_only_with_parties_documents_and_uploader(
    admin_client, admin_user
):
    post(admin_client, upload(TXT, read(TXT)))
    filing = Filing.objects.get()
    url = reverse("admin:filings_filing_change", args=[filing.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    # The sources inline says who uploaded it.
    assert re.search(rf'class="field-uploader">\s*<p>{admin_user.username}</p>', html)
    assert re.search(rf'class="field-name">\s*<p>{filing.parties.get().name}</p>', html)
    assert reverse("filings:original", kwargs={"accession": TXT_ACCESSION}) in html
    # No document's text is put on the page, only links to the documents.
    document = filing.documents.first()
    assert document.get_absolute_url() in html
    assert admin_client.post(url, {"form_type": "10-K"}).status_code == 403
    assert Filing.objects.get().form_type == "8-K"


def test_the_document_list_and_page_never_load_document_text(admin_client, ingest_paths):
    ingest_paths(corpus_file(TXT))
    document = Document.objects.get()
    with CaptureQueriesContext(connection) as queries:
        listing = admin_client.get("/admin/filings/document/")
        page = admin_client.get(reverse("admin:filings_document_change", args=[document.pk]))
    assert listing.status_code == page.status_code == 200
    selects = [q["sql"] for q in queries if '"filings_document"' in q["sql"]]
    assert selects
    assert not any('"filings_document"."text"' in sql for sql in selects)
    assert not any('"filings_document"."content"' in sql for sql in selects)


def test_the_ingestion_list_shows_who_uploaded_what_and_when(
    admin_client, admin_user, ingest_paths
):
    post(admin_client, upload(TXT, read(TXT)))
    ingest_paths(corpus_file(NC))
    response = admin_client.get("/admin/filings/ingestion/")
    listed = {
        i.filing.accession_number: (i.uploaded_by, i.source_name)
        for i in response.context["cl"].result_list
    }
    assert listed == {TXT_ACCESSION: (admin_user, TXT), NC_ACCESSION: (None, str(corpus_file(NC)))}
    html = response.content.decode()
    assert f'<td class="field-uploader">{admin_user.username}</td>' in html
    assert '<td class="field-uploader">ingest command</td>' in html
    assert html.count('<th class="field-created_at nowrap">') == 2
    by_command = admin_client.get("/admin/filings/ingestion/", {"uploaded_by__isnull": "True"})
    assert [i.source_name for i in by_command.context["cl"].result_list] == [str(corpus_file(NC))]
    by_admin = admin_client.get(
        "/admin/filings/ingestion/", {"uploaded_by__id__exact": admin_user.pk}
    )
    assert [i.source_name for i in by_admin.context["cl"].result_list] == [TXT]


# --- Actions: delete and re-derive ------------------------------------------------------------


def test_deleting_selected_filings_removes_rows_files_and_index_entries(
    admin_client, tmp_path, django_capture_on_commit_callbacks
):
    post(admin_client, upload(TXT, read(TXT)), upload(NC, read(NC)))
    txt, nc = Filing.objects.get(accession_number=TXT_ACCESSION), Filing.objects.get(
        accession_number=NC_ACCESSION
    )
    assert indexed(TXT_ACCESSION) > 0
    original = tmp_path / "files" / txt.original.name
    assert original.exists()

    confirm = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [txt.pk]}
    )
    assert confirm.status_code == 200
    assert "Are you sure" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            CHANGELIST, {"action": "delete_selected", "_selected_action": [txt.pk], "post": "yes"}
        )
    assert done.status_code == 302
    assert list(Filing.objects.values_list("pk", flat=True)) == [nc.pk]
    assert not Document.objects.filter(filing_id=txt.pk).exists()
    assert not original.exists()
    assert indexed(TXT_ACCESSION) == 0
    assert indexed(NC_ACCESSION) > 0


def test_deleting_one_filing_from_its_page_removes_its_index_entries(admin_client):
    post(admin_client, upload(TXT, read(TXT)))
    filing = Filing.objects.get()
    url = reverse("admin:filings_filing_delete", args=[filing.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Filing.objects.exists()
    assert indexed(TXT_ACCESSION) == 0


def test_staff_without_delete_permission_cannot_delete(client, staff_uploader):
    client.force_login(staff_uploader)
    post(client, upload(TXT, read(TXT)))
    filing = Filing.objects.get()
    response = client.post(reverse("admin:filings_filing_delete", args=[filing.pk]),
                           {"post": "yes"})
    assert response.status_code == 403
    assert Filing.objects.exists()


def rederive(client, filing):
    """Run the re-derive action; returns the changelist with its message, and the
    status page that message links."""
    listing = client.post(
        CHANGELIST, {"action": "rederive_selected", "_selected_action": [filing.pk]}, follow=True
    )
    status_url = re.search(r'in the background: <a href="([^"]+)">follow its progress</a>',
                           listing.content.decode())[1]
    return listing, client.get(status_url)


def test_rederive_rebuilds_derived_text_and_index_from_the_stored_original(admin_client):
    post(admin_client, upload(TXT, read(TXT)))
    filing = Filing.objects.get()
    fresh = {d.pk: (d.text, d.html) for d in filing.documents.all()}
    filing.documents.update(text="stale", html="<p>stale</p>", sanitizer_version="0")
    from search import index

    index.remove_filings([TXT_ACCESSION])
    assert indexed(TXT_ACCESSION) == 0

    listing, status = rederive(admin_client, filing)
    assert "Re-deriving 1 filing in the background" in listing.content.decode()
    assert rows(status) == [("updated", TXT, TXT_ACCESSION)]
    documents = list(Filing.objects.get().documents.all())
    assert {(d.text, d.html) for d in documents} == set(fresh.values())
    assert all(d.sanitizer_version != "0" for d in documents)
    assert indexed(TXT_ACCESSION) == len(documents)


def test_rederive_reports_a_filing_without_an_original(admin_client, ingest_paths):
    ingest_paths(corpus_file(TXT))
    filing = Filing.objects.get()
    Filing.objects.filter(pk=filing.pk).update(original="")
    _, status = rederive(admin_client, filing)
    assert rows(status) == [("failed", TXT_ACCESSION, "")]
    assert error_reasons(status) == ["no stored original to re-derive from"]


def test_rederive_reports_an_original_missing_from_storage(admin_client, tmp_path):
    post(admin_client, upload(TXT, read(TXT)))
    filing = Filing.objects.get()
    (tmp_path / "files" / filing.original.name).unlink()
    _, status = rederive(admin_client, filing)
    assert rows(status) == [("failed", TXT_ACCESSION, "")]
    assert error_reasons(status)[0].startswith("the stored original cannot be read")
    assert indexed(TXT_ACCESSION) > 0  # nothing was taken away


def test_rederive_is_queued_and_logged_for_the_worker(admin_client, admin_user, ingest_paths,
                                                     database_tasks):
    ingest_paths(corpus_file(TXT))
    filing = Filing.objects.get()
    Filing.objects.filter(pk=filing.pk).update(original="")
    _, status = rederive(admin_client, filing)
    assert rows(status) == [("queued", f"{TXT_ACCESSION}", "")]
    assert Job.objects.get().kind == Job.Kind.REDERIVE
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.get().object_id == str(filing.pk)
    run_worker()
    status = admin_client.get(status.request["PATH_INFO"])
    assert rows(status) == [("failed", TXT_ACCESSION, "")]


# --- Background jobs: the request queues, a worker runs, a status page follows ---------------

JOBS = "/admin/filings/job/"


def status_url(response):
    return response.redirect_chain[-1][0]


def test_an_upload_returns_at_once_with_its_files_stored_and_queued(
    admin_client, database_tasks, monkeypatch, tmp_path
):
    def no_ingest(*args, **kwargs):
        raise AssertionError("ingested in the request")

    monkeypatch.setattr(tasks, "ingest", no_ingest)
    response = post(admin_client, upload(TXT, read(TXT)), upload(NC, read(NC)))
    assert response.redirect_chain[0][1] == 302
    assert rows(response) == [("queued", TXT, ""), ("queued", NC, "")]
    assert messages_of(response) == ["waiting for a worker"] * 2
    assert '<meta http-equiv="refresh" content="2">' in response.content.decode()
    assert Filing.objects.count() == 0
    # Stored under generated names, never the uploaded ones.
    names = [job.upload.name for job in Job.objects.order_by("pk")]
    assert all(re.fullmatch(r"uploads/[0-9a-f]{32}", name) for name in names), names
    assert sorted(p.name for p in (tmp_path / "files" / "uploads").iterdir()) == sorted(
        name.split("/")[1] for name in names
    )

    monkeypatch.undo()
    run_worker()
    page = admin_client.get(status_url(response))
    assert rows(page) == [("new", TXT, TXT_ACCESSION), ("new", NC, NC_ACCESSION)]
    assert 'http-equiv="refresh"' not in page.content.decode()
    assert not list((tmp_path / "files" / "uploads").iterdir())


def test_a_running_job_shows_its_progress(admin_client, database_tasks):
    response = post(admin_client, upload("batch.zip", zip_bytes({TXT: read(TXT)})))
    Job.objects.update(state=Job.State.RUNNING, counts={"new": 3, "failed": 1})
    page = admin_client.get(status_url(response))
    assert rows(page) == [("ingesting", "batch.zip", "")]
    assert messages_of(page) == ["3 new, 1 failed so far"]
    assert "0 of 1 done; this page reloads itself" in re.sub(r"\s+", " ", page.content.decode())


def test_an_archive_of_many_members_is_summarised_with_every_outcome_in_the_csv(
    admin_client, monkeypatch
):
    monkeypatch.setattr(tasks, "OTHERS_SHOWN", 1)
    monkeypatch.setattr(tasks, "FAILURES_SHOWN", 2)
    members = {f"junk-{i}.txt": b"not a filing\n" for i in range(3)}
    members.update({TXT: read(TXT), NC: read(NC)})
    response = post(admin_client, upload("batch.zip", zip_bytes(members)))
    html = re.sub(r"\s+", " ", response.content.decode())
    assert "All done. Outcomes: 2 new, 3 failed." in html
    assert "batch.zip: 5 outcomes (2 new, 3 failed). Listed below: 3 of them" in html
    # What was stored first, then the failures (a page may list 200 of them).
    assert rows(response) == [
        ("new", f"batch.zip!{TXT}", TXT_ACCESSION),
        ("failed", "batch.zip!junk-0.txt", ""),
        ("failed", "batch.zip!junk-1.txt", ""),
    ]
    csv_url = re.search(r'<a href="([^"]+/outcomes\.csv)" download>', html)[1]
    download = admin_client.get(csv_url)
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in download["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert sorted((r["status"], r["source"], r["accession_number"]) for r in lines) == sorted(
        [("failed", f"batch.zip!junk-{i}.txt", "") for i in range(3)]
        + [("new", f"batch.zip!{TXT}", TXT_ACCESSION), ("new", f"batch.zip!{NC}", NC_ACCESSION)]
    )


def test_a_thousand_failing_members_make_a_small_page(admin_client):
    members = {f"junk-{i}.txt": b"not a filing\n" for i in range(1000)}
    response = post(admin_client, upload("junk.zip", zip_bytes(members)))
    assert "Outcomes: 1,000 failed." in response.content.decode()
    assert len(rows(response)) == tasks.FAILURES_SHOWN
    assert len(response.content) < 100_000


def test_the_csv_of_an_upload_of_several_files_has_one_header(admin_client):
    response = post(admin_client, upload(TXT, read(TXT)), upload("notes.txt", b"hello\n"))
    download = admin_client.get(status_url(response) + "outcomes.csv")
    text = b"".join(download.streaming_content).decode()
    assert text.count("status,source,") == 1
    assert [r["status"] for r in csv.DictReader(io.StringIO(text))] == ["new", "failed"]


def test_staff_see_their_own_jobs_and_not_other_peoples(admin_client, client, staff_uploader):
    theirs = status_url(post(admin_client, upload(TXT, read(TXT))))
    client.force_login(staff_uploader)
    assert client.get(theirs).status_code == 404
    assert client.get(theirs + "outcomes.csv").status_code == 404
    mine = post(client, upload(NC, read(NC)))
    assert rows(mine) == [("new", NC, NC_ACCESSION)]
    listed = client.get(JOBS).context["cl"].result_list
    assert [job.source_name for job in listed] == [NC]
    everyone = admin_client.get(JOBS).context["cl"].result_list
    assert [job.source_name for job in everyone] == [NC, TXT]


def test_staff_who_start_no_jobs_see_none(client, staff_viewer):
    client.force_login(staff_viewer)
    assert client.get(JOBS).status_code == 403


def test_the_job_list_shows_recent_uploads_with_their_status(admin_client):
    post(admin_client, upload(TXT, read(TXT)))
    post(admin_client, upload("mixed.zip", zip_bytes({NC: read(NC), "junk.txt": b"junk\n"})))
    html = admin_client.get(JOBS).content.decode()
    assert re.search(r'<td class="field-subject">mixed.zip</td>\s*'
                     r'<td class="field-status">done</td>\s*'
                     r'<td class="field-counts_line">1 new, 1 failed</td>', html)
    assert re.search(rf'<td class="field-subject">{TXT}</td>\s*'
                     r'<td class="field-status">new</td>', html)
    # A job's own page is its status page.
    job = Job.objects.get(source_name=TXT)
    response = admin_client.get(reverse("admin:filings_job_change", args=[job.pk]))
    assert response["Location"] == job.get_absolute_url()


def test_the_upload_page_links_recent_uploads(admin_client):
    assert f'href="{JOBS}"' in admin_client.get(UPLOAD).content.decode()


def test_bulk_delete_is_a_job_and_the_filings_go_when_the_worker_runs(
    admin_client, database_tasks, ingest_paths
):
    ingest_paths(corpus_file(TXT), corpus_file(NC))
    txt = Filing.objects.get(accession_number=TXT_ACCESSION)
    form = {"action": "delete_selected", "_selected_action": [txt.pk]}
    assert "Are you sure" in admin_client.post(CHANGELIST, form).content.decode()
    listing = admin_client.post(CHANGELIST, {**form, "post": "yes"}, follow=True)
    assert "Deleting 1 filing in the background" in listing.content.decode()
    assert Filing.objects.filter(pk=txt.pk).exists()  # not in the request
    from django.contrib.admin.models import DELETION, LogEntry

    assert LogEntry.objects.get(action_flag=DELETION).object_id == str(txt.pk)
    url = re.search(r'<a href="([^"]+)">follow its progress</a>', listing.content.decode())[1]
    assert rows(admin_client.get(url)) == [("queued", TXT_ACCESSION, "")]

    run_worker()
    assert rows(admin_client.get(url)) == [("deleted", TXT_ACCESSION, TXT_ACCESSION)]
    assert list(Filing.objects.values_list("accession_number", flat=True)) == [NC_ACCESSION]
    assert indexed(TXT_ACCESSION) == 0


def test_deleting_from_the_filing_page_is_a_job_too(admin_client, database_tasks, ingest_paths):
    ingest_paths(corpus_file(TXT))
    filing = Filing.objects.get()
    response = admin_client.post(
        reverse("admin:filings_filing_delete", args=[filing.pk]), {"post": "yes"}, follow=True
    )
    html = response.content.decode()
    assert f"Deleting 8-K {TXT_ACCESSION} in the background" in html
    assert "deleted successfully" not in html
    assert Job.objects.get().accessions == [TXT_ACCESSION]
    run_worker()
    assert not Filing.objects.exists()


@pytest.mark.parametrize("codenames", [["view_filing", "add_filing"],
                                       ["view_filing", "change_filing"]])
def test_staff_without_the_delete_permission_cannot_queue_a_delete(client, codenames,
                                                                    ingest_paths):
    ingest_paths(corpus_file(TXT))
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    filing = Filing.objects.get()
    client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [filing.pk],
                             "post": "yes"})
    assert client.post(reverse("admin:filings_filing_delete", args=[filing.pk]),
                       {"post": "yes"}).status_code == 403
    assert not Job.objects.exists()
    assert Filing.objects.exists()


def test_an_empty_archive_is_done_with_nothing_stored(admin_client):
    response = post(admin_client, upload("empty.zip", zip_bytes({})))
    assert rows(response) == [("done", "empty.zip", "")]
    assert messages_of(response) == ["The file held no submissions."]


def test_a_job_that_gave_up_shows_why(admin_client, database_tasks):
    response = post(admin_client, upload(TXT, read(TXT)))
    Job.objects.update(state=Job.State.FAILED,
                       error="the worker stopped while running it; gave up after 5 attempts")
    page = admin_client.get(status_url(response))
    assert rows(page) == [("failed", TXT, "")]
    assert error_reasons(page) == [
        "the worker stopped while running it; gave up after 5 attempts"
    ]
