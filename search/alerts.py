"""What is new to a saved search, and the e-mail digests of it (`manage.py send_alerts`).

"New" is by ingest time, not filing date: a 1998 filing loaded today is news to a saved
search it matches. Each entry of the index carries when its filing's latest bytes were
stored (`search.index.ingested_value`), and a saved search keeps two watermarks of that
time: `last_seen` (what its owner has looked at) and `last_alerted` (what was e-mailed).
The new matches are those ingested in (watermark, `watermark()`].

`watermark()` trails the clock: a filing is stored in a transaction that commits a moment
after its ingest time is taken, and the Whoosh index takes it only when its recorded
index work is applied. So the watermark stays ALERTS_SETTLE_SECONDS behind now and behind
the oldest index work still pending: whatever it passes is searchable, and a later run
never finds a match older than a watermark already moved (nothing is missed, nothing is
sent twice). A filing ingested in the last minute is counted a minute later.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from search import results as sr
from search.index import ingested_value

log = logging.getLogger(__name__)

DIGEST_LISTED = 10  # matches listed per saved search in a digest (the link has them all)


def watermark(now: datetime.datetime | None = None) -> datetime.datetime:
    """The latest ingest time up to which the index is known to be complete."""
    from filings.models import IndexChange

    now = now or timezone.now()
    oldest = IndexChange.objects.order_by("recorded_at").values_list(
        "recorded_at", flat=True).first()
    if oldest is not None:
        now = min(now, oldest)
    return now - datetime.timedelta(seconds=settings.ALERTS_SETTLE_SECONDS)


def bounds(after: datetime.datetime, until: datetime.datetime) -> dict[str, str]:
    """The results page's parameters for matches ingested in (after, until]."""
    return {"ingested_after": ingested_value(after), "ingested_to": ingested_value(until)}


def new_matches(saved, after, until, per_page: int = 1) -> sr.Results:
    """The saved search's matches ingested in (after, until], latest first: `total` counts
    them as the search's view does (filings, or documents)."""
    req = saved.request(**bounds(after, until))
    req.sort, req.page, req.per_page = "ingested", 1, per_page
    return sr.run(req, with_facets=False)


def new_matches_url(saved, after, until) -> str:
    return saved.results_url(sort="ingested", **bounds(after, until))


# --- E-mail digests ---------------------------------------------------------------------


@dataclass
class Sent:
    """What one `send_alerts()` did."""

    emails: int = 0
    searches: int = 0  # saved searches with new matches, in the e-mails sent
    matches: int = 0
    no_address: list[str] = field(default_factory=list)  # users skipped: no e-mail address
    failed: list[str] = field(default_factory=list)  # "user: reason"


def send_alerts(now: datetime.datetime | None = None) -> Sent:
    """One e-mail per user whose saved searches with alerts on have matches ingested since
    they were last alerted, then their watermarks move to `watermark()`. Run again, it
    sends nothing until something new is ingested. A user whose e-mail fails keeps their
    watermarks (the next run tries again); the others are sent."""
    from django.contrib.auth import get_user_model

    from search.models import SavedSearch

    until = watermark(now)
    sent = Sent()
    users = (SavedSearch.objects.with_alerts().filter(last_alerted__lt=until)
             .order_by().values_list("user", flat=True).distinct())
    for user in get_user_model().objects.filter(pk__in=list(users)).order_by("pk"):
        if not user.email:
            sent.no_address.append(user.get_username())
            continue
        try:
            with transaction.atomic():
                # Locked (and re-read) while this user's digest is made and sent: two runs
                # at once never send the same matches twice.
                searches = list(SavedSearch.objects.with_alerts().of_user(user)
                                .filter(last_alerted__lt=until).select_for_update())
                found = [(s, new_matches(s, s.last_alerted, until, per_page=DIGEST_LISTED))
                         for s in searches]
                found = [(s, r) for s, r in found if r.total]
                if found:
                    digest(user, found, until).send()
                    sent.emails += 1
                    sent.searches += len(found)
                    sent.matches += sum(r.total for _s, r in found)
                SavedSearch.objects.filter(pk__in=[s.pk for s in searches]).update(
                    last_alerted=until)
        except Exception as exc:  # noqa: BLE001 - one user's failure does not stop the rest
            log.exception("alerts for %s not sent", user.get_username())
            sent.failed.append(f"{user.get_username()}: {type(exc).__name__}: {exc}")
    return sent


def digest(user, found: list[tuple], until: datetime.datetime) -> EmailMessage:
    """The plain-text e-mail of one user's new matches (filing text never becomes markup
    here: the message is text/plain)."""
    site = settings.SITE_URL.rstrip("/")
    total = sum(r.total for _s, r in found)
    noun = "match" if total == 1 else "matches"
    subject = f"EDGAR search: {total:,} new {noun} for {len(found)} saved search" + (
        "es" if len(found) > 1 else "")
    lines = [f"New filings matching your saved searches, by when they were ingested "
             f"(up to {until:%Y-%m-%d %H:%M} UTC).", ""]
    for saved, results in found:
        unit = "filing" if results.request.grouped else "document"
        plural = "s" if results.total > 1 else ""
        lines.append(f"{saved.name}: {results.total:,} new {unit}{plural}")
        for item in results.items:
            hit = item.first if isinstance(item, sr.Group) else item
            names = "; ".join(p[1] for p in hit.parties) or "(no company named)"
            lines.append(f"  - {hit.form} {names}, filed {hit.filed or 'undated'}: "
                         f"{site}{hit.url}")
        if results.total > len(results.items):
            lines.append(f"  ... and {results.total - len(results.items):,} more")
        lines.append(f"  All of them: {site}{new_matches_url(saved, saved.last_alerted, until)}")
        lines.append("")
    lines.append(f"Your saved searches, and their alerts: {site}/searches/")
    return EmailMessage(subject, "\n".join(lines), to=[user.email])
