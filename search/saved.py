"""Saved searches' pages: save a search from its results page, the /searches/ list with
each one's new matches (by ingest time, `search.alerts`), rename, alerts on or off,
delete, and each one's private Atom feed. A user only ever reaches their own searches
(another's is a 404); the feed is reached by its secret token, without signing in."""
from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import strip_tags
from django.views.decorators.http import require_GET, require_POST

from search import alerts
from search import results as sr
from search.filters import CATEGORY_BY_SLUG, FILTER_LABELS, RANGES, SORTS, VIEWS
from search.index import ingested_value
from search.models import SavedSearch, saved_query
from search.views import AtomFeed

FEED_SIZE = 50


class SaveForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)
    query = forms.CharField(max_length=20000, required=False)  # bounded again on saving


class EditForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True)
    alerts = forms.BooleanField(required=False)


def describe(saved: SavedSearch) -> list[tuple[str, str]]:
    """The saved search as people read it: (label, value) for the words and each filter."""
    req = saved.request()
    parts = [("Words", req.q)] if req.q else []
    for name, pairs in req.applied.items():
        values = [normal for _raw, normal in pairs]
        if not values:
            continue
        if name == "category":
            values = [CATEGORY_BY_SLUG[v].label for v in values]
        elif name == "range":
            values = [RANGES[v][0] for v in values]
        else:
            values = list(sr.value_labels(name, values).values())
        parts.append((FILTER_LABELS[name], ", ".join(values)))
    if req.view != "filings":
        parts.append(("Show", VIEWS[req.view]))
    return parts


@login_required
@require_POST
def save(request):
    """Save the search of a results page (its query string, posted) under a name."""
    form = SaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A saved search needs a name (at most 100 characters).")
        return redirect("search:saved")
    query = saved_query(QueryDict(form.cleaned_data["query"].lstrip("?")))
    if len(query) > SavedSearch._meta.get_field("query").max_length:
        messages.error(request, "This search is too long to save: use fewer filter values.")
        return redirect("search:saved")
    now = alerts.watermark()
    try:
        with transaction.atomic():
            saved = SavedSearch.objects.create(
                user=request.user, name=form.cleaned_data["name"], query=query,
                last_seen=now, last_alerted=now)
    except IntegrityError:
        messages.error(request, f"You already have a saved search named "
                                f"“{form.cleaned_data['name']}”: choose another name.")
        return redirect("search:saved")
    messages.success(request, f"Saved as “{saved.name}”. New matches will be counted here "
                              f"from now on.")
    return redirect("search:saved")


@login_required
@require_GET
def saved_list(request):
    """The user's saved searches, each with its matches ingested since they last looked
    (up to `alerts.watermark()`); those with the most recently ingested match first."""
    until = alerts.watermark()
    rows = []
    for saved in SavedSearch.objects.of_user(request.user):
        found = alerts.new_matches(saved, saved.last_seen, until) \
            if saved.last_seen < until else None
        latest = None
        if found is not None and found.items:
            item = found.items[0]
            hit = item.first if isinstance(item, sr.Group) else item
            latest = _moment(hit.fields.get("ingested", ""))
        rows.append({
            "saved": saved,
            "parts": describe(saved),
            "new": found.total if found is not None else 0,
            "unit": "filing" if saved.request().grouped else "document",
            "latest": latest,
            "messages": found.messages if found is not None else [],
            "form": EditForm(initial={"name": saved.name, "alerts": saved.alerts},
                             prefix=f"s{saved.pk}"),
        })
    far_past = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    rows.sort(key=lambda r: r["latest"] or far_past, reverse=True)  # stable: names
    return render(request, "search/saved_list.html", {
        "rows": rows, "until": until, "sorts": SORTS,
    })


@login_required
@require_POST
def new_matches(request, pk: int):
    """The matches ingested since the user last looked, on the results page (latest
    first); looking moves the watermark, so they are no longer counted as new. A POST
    (a button on /searches/, with Django's CSRF check): another site cannot mark a
    user's matches seen with a link or an image."""
    saved = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    until = alerts.watermark()
    after = saved.last_seen
    if after < until:
        SavedSearch.objects.filter(pk=saved.pk).update(last_seen=until)
    else:
        until = after
    return redirect(alerts.new_matches_url(saved, after, until))


@login_required
@require_POST
def edit(request, pk: int):
    """Rename a saved search, or turn its e-mail alerts on or off."""
    saved = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    form = EditForm(request.POST, prefix=f"s{saved.pk}")
    if not form.is_valid():
        messages.error(request, "A saved search needs a name (at most 100 characters).")
        return redirect("search:saved")
    alerts_on = form.cleaned_data["alerts"]
    if alerts_on and not saved.alerts:
        # Alerts start from now: the first digest is not every match ever ingested.
        saved.last_alerted = alerts.watermark()
    saved.name = form.cleaned_data["name"]
    saved.alerts = alerts_on
    try:
        with transaction.atomic():
            saved.save()
    except IntegrityError:
        messages.error(request, f"You already have a saved search named “{saved.name}”.")
        return redirect("search:saved")
    note = " E-mail alerts are on." if alerts_on else ""
    if alerts_on and not request.user.email:
        note = (" E-mail alerts are on, but your account has no e-mail address: ask an "
                "administrator to add one.")
    messages.success(request, f"Saved “{saved.name}”.{note}")
    return redirect("search:saved")


@login_required
@require_POST
def delete(request, pk: int):
    saved = get_object_or_404(SavedSearch, pk=pk, user=request.user)
    saved.delete()
    messages.success(request, f"Deleted the saved search “{saved.name}”.")
    return redirect("search:saved")


@require_GET
def feed(request, token: str):
    """A saved search's matches by ingest time, latest first: an Atom feed at a secret
    address (feed readers do not sign in). Up to the watermark, as the list counts."""
    saved = get_object_or_404(SavedSearch, feed_token=token, user__is_active=True)
    req = saved.request(ingested_to=ingested_value(alerts.watermark()))
    req.sort, req.page, req.per_page = "ingested", 1, FEED_SIZE
    found = sr.run(req, with_facets=False)
    site = request.build_absolute_uri("/")
    atom = AtomFeed(
        title=f"EDGAR saved search: {saved.name}",
        link=request.build_absolute_uri(saved.results_url(sort="ingested")),
        description=f"Filings matching {saved.name}, latest ingested first",
        feed_url=request.build_absolute_uri(),
        language="en",
    )
    q = req.q
    for item in found.items:
        hit = item.first if isinstance(item, sr.Group) else item
        names = ", ".join(p[1] for p in hit.parties)
        ingested = _moment(hit.fields.get("ingested", ""))
        link = hit.url + (f"?{_q(q)}" if q else "")
        atom.add_item(
            title=f"{hit.form} {names} ({hit.doc_type or 'document'} {hit.sequence}), "
                  f"filed {hit.filed or 'undated'}",
            link=request.build_absolute_uri(link),
            description=strip_tags(str(hit.snippet)),
            unique_id=f"{site}{hit.accession}/{hit.sequence}@{hit.fields.get('ingested', '')}",
            pubdate=ingested,
            updateddate=ingested,
        )
    response = HttpResponse(atom.writeString("utf-8"),
                            content_type="application/atom+xml; charset=utf-8")
    # The address is the secret: never sent on as a referrer, never indexed.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, max-age=300"
    return response


def _q(q: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": q})


def _moment(value: str) -> datetime.datetime | None:
    """An index's ingest time (search.index.ingested_value) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.UTC)
    except ValueError:
        return None

