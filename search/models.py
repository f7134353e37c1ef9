"""Saved searches: a signed-in user's search (its query string) kept under a name, with
what they have seen of it and what they were sent (issue 9, part 3; `search.alerts`
counts and sends the matches ingested since)."""
from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.http import QueryDict
from django.urls import reverse

from search.filters import SearchRequest, link_params

# What a saved search keeps of the results page's query string: the search itself and
# how it is shown; never the page, nor the ingest-time bounds that its "new" links add.
NOT_SAVED = ("page", "ingested_after", "ingested_to")


def new_token() -> str:
    """The secret of a saved search's feed address (feed readers do not sign in)."""
    return secrets.token_urlsafe(24)


def saved_query(params) -> str:
    """The query string a saved search keeps of these request parameters (bounded and
    normalised as the results page's links repeat them)."""
    kept = link_params(params)
    for name in NOT_SAVED:
        kept.pop(name, None)
    return kept.urlencode()


class SavedSearchQuerySet(models.QuerySet):
    def of_user(self, user):
        return self.filter(user=user)

    def with_alerts(self):
        return self.filter(alerts=True, user__is_active=True)


class SavedSearch(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_searches")
    name = models.CharField(max_length=100)
    # The results page's query string (`saved_query`): q, filters, sort, view.
    query = models.CharField(max_length=4000)
    created = models.DateTimeField(auto_now_add=True)
    # Ingest-time watermarks (`search.alerts.watermark`): matches ingested after
    # last_seen are new to the user; after last_alerted, not yet e-mailed.
    last_seen = models.DateTimeField()
    alerts = models.BooleanField("e-mail alerts", default=False)
    last_alerted = models.DateTimeField()
    feed_token = models.CharField(max_length=64, unique=True, default=new_token)

    objects = SavedSearchQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_search_unique_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("search:results") + (f"?{self.query}" if self.query else "")

    def get_feed_url(self):
        return reverse("search:saved-feed", kwargs={"token": self.feed_token})

    def params(self) -> QueryDict:
        return QueryDict(self.query)

    def request(self, **bounds) -> SearchRequest:
        """The saved search as a request, with ingest-time bounds (ISO text) added."""
        params = self.params().copy()
        for name, value in bounds.items():
            params[name] = value
        return SearchRequest.from_query(params)

    def results_url(self, **params) -> str:
        """The results page of the saved search with these parameters added."""
        query = "&".join(q for q in (self.query, urlencode(params)) if q)
        return reverse("search:results") + (f"?{query}" if query else "")
