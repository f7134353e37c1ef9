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
