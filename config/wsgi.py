"""WSGI entry point (gunicorn config.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Open the search index while the worker starts, not on a user's first request (for the
# Whoosh engine: the searcher and its column caches, about a second at 25k documents).
# gunicorn imports this module in each worker (no --preload), so nothing opened here is
# shared between worker processes.
import logging  # noqa: E402

from search import backends  # noqa: E402 - needs the application loaded first

try:
    backends.get().warm()
except Exception:  # noqa: BLE001 - filing pages still work; searches will say what is wrong
    logging.getLogger(__name__).exception("could not open the search index at start-up")

# And what a worker's first request would otherwise load: the URL patterns (which import
# every view) and the search page's templates (about 200 ms of the first search).
from django.template.loader import get_template  # noqa: E402
from django.urls import get_resolver  # noqa: E402

WARM_TEMPLATES = ("base.html", "search/results.html", "search/_search_form.html",
                  "search/_company_box.html", "search/_result.html", "search/_pagination.html")

try:
    get_resolver().url_patterns  # noqa: B018 - loading them is the point
    for _name in WARM_TEMPLATES:
        get_template(_name)
except Exception:  # noqa: BLE001 - the pages say what is wrong when asked
    logging.getLogger(__name__).exception("could not load the pages at start-up")
