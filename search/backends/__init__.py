"""Search backends: one small interface (`base.SearchBackend`), one module per engine,
and the `SEARCH_BACKEND` setting that names the engine ("whoosh", the embedded
default, or "postgres"). Callers use `get()` and never import an engine module.
"""
from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from search.backends.base import SearchBackend

ENGINES = {
    "whoosh": "search.backends.whoosh.WhooshBackend",
    "postgres": "search.backends.postgres.PostgresBackend",
}

_lock = threading.Lock()
_backends: dict[str, SearchBackend] = {}


def get() -> SearchBackend:
    """The configured backend, made once per process (per setting value, so tests that
    override SEARCH_BACKEND get the engine they asked for)."""
    name = getattr(settings, "SEARCH_BACKEND", "whoosh")
    backend = _backends.get(name)
    if backend is None:
        with _lock:
            backend = _backends.get(name)
            if backend is None:
                if name not in ENGINES:
                    raise ImproperlyConfigured(
                        f"SEARCH_BACKEND={name!r}: choose one of {', '.join(sorted(ENGINES))}"
                    )
                backend = _backends[name] = import_string(ENGINES[name])()
    return backend


__all__ = ["ENGINES", "SearchBackend", "get"]
