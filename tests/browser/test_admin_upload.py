"""A staff member signs in, uploads a filing in Chromium, watches its status page until
a worker has ingested it, and finds it through search."""
import os
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from filings.models import Filing
from tests.conftest import corpus_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "0000320193-99-000010.txt"  # Apple Computer 8-K, 1999
ACCESSION = "0000320193-99-000010"
WORD = "Macintosh"  # in its press release, and in no other filing of this test
PASSWORD = "correct horse battery staple"
# The status page shows the outcome once the worker has parsed, stored and indexed the
# filing and the page has reloaded itself: on a busy machine that can take longer than
# Playwright's 5 s default.
SLOW = 30_000


def search_route_exists():
    try:
        reverse("search:results")
    except NoReverseMatch:
        return False
    return True


def run_worker():
    """A real worker (the database task backend) until the queue is empty. It runs in
    this thread: the live server's in-memory test database is not shared with other
    processes."""
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0",
        verbosity=0,
    )


def test_staff_sign_in_upload_a_filing_and_find_it_through_search(
    live_server, page, artifacts_dir, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    if not search_route_exists():
        pytest.skip("the search:results route does not exist yet")
    from playwright.sync_api import expect

    User.objects.create_superuser("editor", "editor@example.com", PASSWORD)
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(f"{live_server.url}/admin/filings/filing/")
    page.get_by_role("link", name="Upload filings").click()
    assert page.url == f"{live_server.url}/admin/filings/filing/upload/"

    page.set_input_files("input[type=file][name=files]", str(corpus_file(NAME)))
    page.click("input[name=_upload]")
    # The request stored and queued the file; nothing has been ingested yet.
    expect(page).to_have_url(re.compile(r"/admin/filings/job/batch/[0-9a-f-]{36}/$"))
    queued = page.locator("tr.outcome-queued")
    expect(queued).to_have_count(1)
    expect(queued).to_contain_text(NAME)
    assert not Filing.objects.exists()
    page.screenshot(path=os.path.join(artifacts_dir, "admin-upload-queued.png"), full_page=True)

    run_worker()
    row = page.locator("tr.outcome-new")
    expect(row).to_have_count(1, timeout=SLOW)
    expect(row).to_contain_text(NAME)
    link = row.get_by_role("link", name=ACCESSION)
    expect(link).to_have_attribute("href", f"/filings/{ACCESSION}/")
    page.screenshot(path=os.path.join(artifacts_dir, "admin-upload-results.png"), full_page=True)
    assert Filing.objects.get().ingestions.get().uploaded_by.username == "editor"

    link.click()
    expect(page).to_have_url(f"{live_server.url}/filings/{ACCESSION}/")
    expect(page.locator("body")).to_contain_text("APPLE COMPUTER")

    page.goto(f"{live_server.url}{reverse('search:results')}?q={WORD}")
    hit = page.locator(f"a[href^='/filings/{ACCESSION}/']").first
    expect(hit).to_be_visible(timeout=SLOW)
    page.screenshot(path=os.path.join(artifacts_dir, "admin-upload-search.png"), full_page=True)
    # The admin pages and the upload form live under the site's CSP without violations.
    assert not [e for e in errors if re.search(r"Content Security Policy|Refused", e)], errors
