"""Saved searches and alerts (issue 9, part 3), on each search engine: the ingest time in the
index (filter, sort, watermark), the pages (a user only ever reaches their own searches),
new matches by ingest time (a back-filled 1990s filing is new), the private feed, and
`send_alerts` digests."""
import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from filings.models import IndexChange, Ingestion
from search import alerts, backends, index
from search.backends import whoosh
from search.filters import SearchRequest
from search.models import SavedSearch
from search.query import parse
from tests.conftest import corpus_file

# Filings of companies the package's corpus (tests/search/conftest.py) does not hold.
RECENT = "0001104659-26-017097.txt"  # Nuvectis Pharma, CORRESP of 2026 (CIK 1875558)
OLD = "0000014272-95-000007.txt"  # Bristol-Myers Squibb, 10-Q of 1995: back-filled later
OTHER = "0000707549-25-000004.txt"  # a Form 4/A of Lam Research (CIK 707549)
RECENT_ACC, OLD_ACC, OTHER_ACC = (n.removesuffix(".txt") for n in (RECENT, OLD, OTHER))
MINE = ["1875558", "14272", "707549"]  # their CIKs: searches that see no other filing
PHARMA = "cik=14272&cik=1875558"


@pytest.fixture(autouse=True)
def settled(settings):
    settings.ALERTS_SETTLE_SECONDS = 0  # count up to now (see search.alerts.watermark)


@pytest.fixture
def users(db):
    model = get_user_model()
    return (model.objects.create_user("ann", "ann@example.org", "pw-ann-123"),
            model.objects.create_user("bob", "bob@example.org", "pw-bob-123"))


def entries(**params):
    """{(accession, sequence): ingested} of the configured engine's matches."""
    req = SearchRequest.from_query({"view": "documents", **params})
    hits = backends.get().iter_results(parse(req.q), req, sort=req.sort, view="documents")
    return {(h.accession, h.sequence): h.fields["ingested"] for h in hits}


def later(moment: datetime.datetime, seconds=1) -> datetime.datetime:
    return moment + datetime.timedelta(seconds=seconds)


def ingested_at(accession) -> datetime.datetime:
    return Ingestion.objects.filter(filing__accession_number=accession).latest(
        "created_at").created_at


def saved(user, query, name="s", since=None, alerts_on=False):
    since = since or timezone.now()
    return SavedSearch.objects.create(user=user, name=name, query=query, last_seen=since,
                                      last_alerted=since, alerts=alerts_on)


# --- The ingest time in the index -------------------------------------------------------------


def test_entries_carry_the_latest_ingest_time_and_an_unchanged_reingest_keeps_it(
        ingest_paths, search_backend, tmp_path):
    ingest_paths(corpus_file(OLD))
    first = entries(q="cik:14272")
    stamp = index.ingested_value(ingested_at(OLD_ACC))
    assert first and set(first.values()) == {stamp}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)

    summary = ingest_paths(corpus_file(OLD))  # the same bytes: unchanged, not new again
    assert summary.counts["unchanged"] == 1
    index.update_filings([OLD_ACC])  # as re-derive and repairs do
    assert entries(q="cik:14272") == first

    # New bytes for the filing (here, a changed word): an update, new again.
    changed = tmp_path / OLD
    changed.write_bytes(corpus_file(OLD).read_bytes().replace(b"<TEXT>", b"<TEXT>\nRevised.", 1))
    assert ingest_paths(changed).counts["updated"] == 1
    updated = entries(q="cik:14272")
    assert set(updated) == set(first)
    assert min(updated.values()) > stamp


def test_ingested_filter_and_sort_agree_on_both_engines(ingest_paths, search_backend):
    ingest_paths(corpus_file(RECENT))
    cut = timezone.now()
    ingest_paths(corpus_file(OLD), corpus_file(OTHER))
    after = index.ingested_value(cut)
    newer = entries(ingested_after=after, cik=MINE)
    assert {a for a, _ in newer} == {OLD_ACC, OTHER_ACC}
    assert all(v > after for v in newer.values())
    older = entries(ingested_to=after, cik=MINE)
    assert {a for a, _ in older} == {RECENT_ACC}
    assert set(entries(cik=MINE)) == set(newer) | set(older)
    # Exclusive after, inclusive to: a bound on an entry's own time.
    stamp = next(iter(older.values()))
    assert set(entries(ingested_after=stamp, cik=MINE)) == set(newer)
    assert set(entries(ingested_to=stamp, cik=MINE)) == set(older)
    # Recently ingested first, whatever the filing dates (the 1995 filing came last).
    req = SearchRequest.from_query({"cik": ["14272", "1875558"], "sort": "ingested"})
    page = backends.get().search(parse(req.q), req, sort="ingested", view="filings", page=1,
                                 per_page=10, facets=False)
    assert [g.accession for g in page.items] == [OLD_ACC, RECENT_ACC]


def test_a_bad_ingest_time_is_a_message_not_a_filter(client, ingest_paths, search_backend):
    ingest_paths(corpus_file(OLD))
    data = client.get("/api/search", {"q": "cik:14272", "ingested_after": "yesterday"}).json()
    assert data["total"] == 1
    assert any("Ingested after" in m and "'yesterday' was ignored" in m for m in data["messages"])


def test_an_ingest_time_bound_before_the_year_1000_sorts_as_a_time(client, ingest_paths,
                                                                   search_backend):
    # strftime writes year 999 as "999", text that sorts after "2026": the bounds were
    # inverted (everything ingested "up to" 0999, nothing "after" it).
    assert index.ingested_value(datetime.datetime(999, 1, 2, tzinfo=datetime.UTC)) == \
        "0999-01-02T00:00:00.000000Z"
    ingest_paths(corpus_file(OLD))
    total = {bound: client.get("/api/search", {"q": "cik:14272", bound: "0999-01-01"}
                               ).json()["total"] for bound in ("ingested_after", "ingested_to")}
    assert total == {"ingested_after": 1, "ingested_to": 0}


def test_ingest_time_bounds_read_as_times_on_the_results_page(client, ingest_paths,
                                                               search_backend):
    ingest_paths(corpus_file(OLD))
    html = client.get("/search/", {"cik": "14272", "ingested_after": "2024-01-02T03:04:05+01:00",
                                   "sort": "ingested"}).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Ingested after: 2024-01-02 02:04:05 UTC" in text
    assert re.search(r'aria-current="true">Recently ingested</a>', html)


def test_an_index_built_before_ingest_times_still_works_and_says_so(
        ingest_paths, client, settings):
    """A Whoosh index of an older schema (no `ingested` field) opens, takes new filings,
    and says that ingest times need rebuild_index; rebuilt, it has them."""
    settings.SEARCH_BACKEND = "whoosh"
    from whoosh import index as wi

    root = settings.SEARCH_INDEX_DIR
    generation = root / "gen-1-1"
    generation.mkdir(parents=True)
    schema = whoosh.make_schema()
    schema.remove("ingested")
    wi.create_in(str(generation), schema)
    (root / "current").symlink_to(generation.name)
    whoosh.close_searcher()

    ingest_paths(corpus_file(OLD))  # written without the field it lacks
    data = client.get("/api/search", {"q": "cik:14272"}).json()
    assert data["total"] == 1
    data = client.get("/api/search", {"q": "cik:14272",
                                      "ingested_after": "2000-01-01T00:00:00Z"}).json()
    assert data["total"] == 0
    assert any("rebuild_index" in m for m in data["messages"])
    from django.core import checks

    warned = [w for w in checks.run_checks() if w.id == "search.W002"]
    assert len(warned) == 1 and "ingested" in warned[0].msg
    call_command("rebuild_index", verbosity=0)
    assert not [w for w in checks.run_checks() if w.id == "search.W002"]
    data = client.get("/api/search", {"q": "cik:14272",
                                      "ingested_after": "2000-01-01T00:00:00Z"}).json()
    assert data["total"] == 1 and not any("rebuild_index" in m for m in data["messages"])


def test_the_watermark_stays_behind_index_work_still_pending(db, settings):
    settings.ALERTS_SETTLE_SECONDS = 30
    now = timezone.now()
    assert alerts.watermark(now) == now - datetime.timedelta(seconds=30)
    change = IndexChange.objects.create(accession_number=OLD_ACC)
    pending = IndexChange.objects.get(pk=change.pk).recorded_at
    assert alerts.watermark(later(pending, 3600)) == pending - datetime.timedelta(seconds=30)


# --- Pages -----------------------------------------------------------------------------------


def test_pages_need_signing_in(client, db):
    for url in ("/searches/", "/searches/1/new/"):
        response = client.get(url) if url == "/searches/" else client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/accounts/login/?next=")
    assert client.post("/searches/save/", {"name": "x", "query": "q=a"}).status_code == 302
    assert not SavedSearch.objects.exists()


def test_save_from_the_results_page_and_list_it(client, users, ingest_paths, search_backend):
    ingest_paths(corpus_file(RECENT))
    ann, _bob = users
    client.force_login(ann)
    html = client.get("/search/", {"q": "nuvectis", "form": "CORRESP", "page": "1"}
                      ).content.decode()
    form = re.search(r'<form class="save-search" method="post" action="/searches/save/">(.*?)'
                     r'</form>', html, re.S)
    assert form, "the results page offers to save the search"
    query = re.search(r'name="query" value="([^"]*)"', form.group(1)).group(1)
    response = client.post("/searches/save/", {"name": "Nuvectis letters",
                                               "query": query.replace("&amp;", "&")})
    assert response.status_code == 302 and response["Location"] == "/searches/"
    s = SavedSearch.objects.get()
    assert (s.user, s.name) == (ann, "Nuvectis letters")
    assert parse_qs(s.query) == {"q": ["nuvectis"], "form": ["CORRESP"]}  # never the page
    html = client.get("/searches/").content.decode()
    assert "Nuvectis letters" in html and 'data-new="0"' in html  # new from now on
    assert s.get_feed_url() in html
    # The same name twice is refused with a message, not an error page.
    response = client.post("/searches/save/", {"name": "Nuvectis letters", "query": "q=x"},
                           follow=True)
    assert "already have a saved search named" in response.content.decode()
    assert SavedSearch.objects.count() == 1


def test_a_search_too_long_to_keep_is_refused_with_a_message(client, users):
    client.force_login(users[0])
    values = "&".join(f"form=F-{n:02d}{'X' * 60}" for n in range(50))
    values += "&" + "&".join(f"doc_type=D-{n:02d}{'Y' * 60}" for n in range(50))
    response = client.post("/searches/save/", {"name": "long", "query": values}, follow=True)
    assert "too long to save" in response.content.decode()
    assert not SavedSearch.objects.exists()


def test_signed_out_visitors_get_no_save_form(client, ingest_paths, search_backend):
    ingest_paths(corpus_file(RECENT))
    html = client.get("/search/", {"q": "nuvectis"}).content.decode()
    assert "save-search" not in html and 'href="/accounts/login/?next=' in html


def test_a_user_never_reaches_another_users_searches(client, users, db):
    ann, bob = users
    mine = saved(ann, "q=squibb", name="Ann's secret search")
    client.force_login(bob)
    assert "Ann's secret search" not in client.get("/searches/").content.decode()
    assert client.post(f"/searches/{mine.pk}/new/").status_code == 404
    assert client.post(f"/searches/{mine.pk}/", {f"s{mine.pk}-name": "mine now"}
                       ).status_code == 404
    assert client.post(f"/searches/{mine.pk}/delete/").status_code == 404
    mine.refresh_from_db()
    assert mine.name == "Ann's secret search"
    client.force_login(ann)
    response = client.post(f"/searches/{mine.pk}/", {f"s{mine.pk}-name": "Renamed",
                                                     f"s{mine.pk}-alerts": "on"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.name, mine.alerts) == ("Renamed", True)
    assert client.post(f"/searches/{mine.pk}/delete/").status_code == 302
    assert not SavedSearch.objects.exists()


def test_new_matches_are_by_ingest_time_and_a_backfilled_old_filing_is_new(
        client, users, ingest_paths, search_backend):
    ann, _bob = users
    ingest_paths(corpus_file(RECENT))
    pharma = saved(ann, PHARMA, name="Pharma")
    words = saved(ann, "q=squibb&view=documents", name="Squibb, documents")
    other = saved(ann, "q=cik:707549", name="Other company")
    client.force_login(ann)
    html = client.get("/searches/").content.decode()
    assert html.count('data-new="0"') == 3

    ingest_paths(corpus_file(OLD), corpus_file(OTHER))  # a 1995 filing, loaded now
    html = client.get("/searches/").content.decode()
    rows = dict(re.findall(r'<h2 class="saved-search__name"><a [^>]*>([^<]*)</a></h2>\s*'
                           r'(?:<form [^>]*>\s*<input [^>]*>\s*)?<(?:button|span) '
                           r'class="saved-search__new[^"]*"[^>]*data-new="(\d+)"',
                           html))
    assert rows == {"Pharma": "1", "Squibb, documents": str(len(entries(
        q="squibb", ingested_after=index.ingested_value(words.last_seen)))),
        "Other company": "1"}
    assert int(rows["Squibb, documents"]) >= 1  # the 10-Q and its exhibit, say
    assert html.count("Latest new match ingested") == 3

    # Only a POST looks (and moves the watermark): a link or an image on another site
    # cannot mark them seen.
    before = pharma.last_seen
    assert client.get(f"/searches/{pharma.pk}/new/").status_code == 405
    pharma.refresh_from_db()
    assert pharma.last_seen == before
    response = client.post(f"/searches/{pharma.pk}/new/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    params = parse_qs(target.query)
    assert target.path == "/search/" and params["sort"] == ["ingested"]
    assert params["cik"] == ["14272", "1875558"]
    data = client.get("/api/search", params).json()
    assert [r["accession_number"] for r in data["results"]] == [OLD_ACC]
    # Looked at: no longer new; the others are untouched.
    html = client.get("/searches/").content.decode()
    assert re.search(r'>Pharma</a></h2>\s*<span [^>]*data-new="0"', html)
    assert re.search(r'>Other company</a></h2>\s*<form [^>]*>\s*<input [^>]*>\s*'
                     r'<button [^>]*data-new="1"', html)
    other.refresh_from_db()
    assert other.last_seen < timezone.now()


def test_the_feed_is_private_by_token_and_by_ingest_time(client, users, ingest_paths,
                                                         search_backend):
    ann, _bob = users
    ingest_paths(corpus_file(RECENT))
    ingest_paths(corpus_file(OLD))
    s = saved(ann, PHARMA, name="Pharma & <b>co</b>")
    response = client.get(s.get_feed_url())  # no sign-in: feed readers have none
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response["Referrer-Policy"] == "no-referrer"
    body = response.content.decode()
    assert "<b>co" not in body and "&lt;b&gt;co" in body
    links = re.findall(r'<link href="[^"]*/filings/([0-9-]+)/', body)
    # Latest ingested first: the 1995 filing, loaded last, leads.
    assert links == [OLD_ACC, RECENT_ACC]
    updated = re.findall(r"<entry>.*?<updated>([^<]+)</updated>", body, re.S)
    assert updated == sorted(updated, reverse=True)
    assert client.get("/searches/feed/not-the-token/").status_code == 404
    # No token holds a NUL: a 404, not PostgreSQL's error on comparing one (a 500).
    assert client.get(f"/searches/feed/{s.feed_token[:8]}%00/").status_code == 404
    ann.is_active = False
    ann.save()
    assert client.get(s.get_feed_url()).status_code == 404


def test_a_feed_named_with_control_characters_is_still_a_feed(client, users, ingest_paths,
                                                              search_backend):
    # The save and rename forms refuse a NUL but not the other C0 controls, which Django's
    # feed writer raises on: the feed was a 500.
    ingest_paths(corpus_file(OLD))
    s = saved(users[0], "q=squibb", name="Squibb\x01\x0b")
    response = client.get(s.get_feed_url())
    assert response.status_code == 200
    assert "<title>EDGAR saved search: Squibb  </title>" in response.content.decode()


# --- send_alerts ---------------------------------------------------------------------------


def test_send_alerts_sends_one_digest_per_user_once(users, ingest_paths, search_backend,
                                                    settings):
    settings.SITE_URL = "https://edgar.example.org"
    ann, bob = users
    ingest_paths(corpus_file(RECENT))
    now = timezone.now()
    saved(ann, PHARMA, name="Pharma", alerts_on=True, since=now)
    saved(ann, "q=cik:707549", name="Other", alerts_on=True, since=now)
    saved(ann, "q=squibb", name="Quiet", alerts_on=False, since=now)
    saved(bob, "q=cik:707549", name="Bob's", alerts_on=True, since=now)
    nobody = get_user_model().objects.create_user("eve", "", "pw-eve-123")
    saved(nobody, PHARMA, name="No address", alerts_on=True, since=now)

    mail.outbox.clear()
    call_command("send_alerts", verbosity=0)
    assert mail.outbox == []  # nothing ingested since

    ingest_paths(corpus_file(OLD), corpus_file(OTHER))
    sent = alerts.send_alerts()
    assert (sent.emails, sent.searches, sent.matches) == (2, 3, 3)
    assert sent.no_address == ["eve"]
    by_user = {m.to[0]: m for m in mail.outbox}
    assert set(by_user) == {"ann@example.org", "bob@example.org"}
    ann_mail = by_user["ann@example.org"]
    assert ann_mail.subject == "EDGAR search: 2 new matches for 2 saved searches"
    assert "Pharma: 1 new filing" in ann_mail.body and "Other: 1 new filing" in ann_mail.body
    assert "Quiet" not in ann_mail.body  # alerts off
    assert f"https://edgar.example.org/filings/{OLD_ACC}/" in ann_mail.body
    link = re.search(r"All of them: (\S+)", ann_mail.body).group(1)
    assert "ingested_after=" in link and "ingested_to=" in link and "sort=ingested" in link

    mail.outbox.clear()
    assert alerts.send_alerts().emails == 0  # idempotent: the watermarks moved
    assert mail.outbox == []


def test_a_failed_digest_keeps_its_watermark(users, ingest_paths, search_backend, settings,
                                             monkeypatch):
    ann, _bob = users
    ingest_paths(corpus_file(RECENT))
    s = saved(ann, PHARMA, alerts_on=True)
    ingest_paths(corpus_file(OLD))

    def refuse(self, fail_silently=False):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    sent = alerts.send_alerts()
    assert sent.emails == 0 and sent.failed == ["ann: OSError: mail server down"]
    before = s.last_alerted
    s.refresh_from_db()
    assert s.last_alerted == before
    monkeypatch.undo()
    mail.outbox.clear()
    assert alerts.send_alerts().emails == 1 and len(mail.outbox) == 1


def test_send_alerts_schedule_queues_one_periodic_task(db, settings):
    from django_tasks_db.models import DBTaskResult

    from search import tasks

    settings.ALERTS_EVERY_SECONDS = 600
    call_command("send_alerts", "--schedule", verbosity=0)
    call_command("send_alerts", "--schedule", verbosity=0)  # already queued: not twice
    queued = DBTaskResult.objects.filter(task_path="search.tasks.send_alerts_task")
    assert queued.count() == 1
    from tests.conftest import run_worker

    run_worker()  # runs it: it sends (nothing here) and queues the next run
    runs = list(queued.order_by("enqueued_at").values_list("status", "run_after"))
    assert [status for status, _ in runs] == ["SUCCESSFUL", "READY"]
    assert runs[1][1] > timezone.now() + datetime.timedelta(seconds=500)
    assert tasks.scheduled() is not None
