"""A small real corpus, ingested once for this package through the real pipeline, for the
search tests that only read, indexed by every search engine the database allows. Tests
that change filings use their own (per-test) index. Tests that search take the
`search_backend` fixture (through `corpus` or `api`): they run once per engine, the
PostgreSQL engine skipped where the database is not PostgreSQL."""
import pytest
from django.db import connection
from django.test import override_settings

from tests.conftest import corpus_file

# Real text of several eras and kinds: 1990s Apple 10-Qs with exhibits (plain text),
# an 8-K with an exhibit, a modern 8-K (inline XBRL + HTML exhibit + XBRL schemas and
# images that must not be indexed), Form 4 XML, a 13F, an HTML correspondence letter.
CORPUS_FILES = [
    "0000320193-97-000011.txt",
    "0000320193-97-000014.txt",
    "0000320193-99-000002.txt",
    "0000912057-00-002128.txt",
    "0000842517-24-000086.txt",
    "0000060086-01-500013.txt",
    "0000796343-23-000044.txt",
    "0000320193-24-000061.txt",
]
ACCESSIONS = [name.removesuffix(".txt") for name in CORPUS_FILES]
BACKENDS = ["whoosh", "postgres"]


def available_backends() -> list[str]:
    return [b for b in BACKENDS if b != "postgres" or connection.vendor == "postgresql"]


@pytest.fixture(params=BACKENDS)
def search_backend(request, settings):
    """Each search engine in turn (SEARCH_BACKEND)."""
    if request.param not in available_backends():
        pytest.skip("the postgres search backend needs PostgreSQL (set DATABASE_URL)")
    settings.SEARCH_BACKEND = request.param
    return request.param


def each_backend(names=None):
    """(name, engine) of every engine the database allows."""
    from search import backends

    for name in names or available_backends():
        with override_settings(SEARCH_BACKEND=name):
            yield name, backends.get()


# Package scope: the corpus is removed again when tests/search is done, so tests of other
# packages (pytest-django runs transactional ones last) never see these rows.
@pytest.fixture(scope="package")
def search_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("search-corpus")
    return {"MEDIA_ROOT": root / "files", "SEARCH_INDEX_DIR": root / "index"}


@pytest.fixture(scope="package")
def django_db_setup(django_db_setup, django_db_blocker, search_dirs):
    from filings.ingest import ingest
    from filings.models import Company, Filing
    from filings.sources import read_sources

    paths = []
    for name in CORPUS_FILES:
        try:
            paths.append(str(corpus_file(name)))
        except pytest.skip.Exception:
            pass
    with django_db_blocker.unblock(), override_settings(**search_dirs):
        summary = ingest(read_sources(paths))
        assert summary.failed == 0, [str(o) for o in summary.outcomes]
        # The ingest indexed with the configured engine; every other one catches up.
        for _name, engine in each_backend():
            engine.update_filings(ACCESSIONS)
    yield
    with django_db_blocker.unblock():
        Filing.objects.all().delete()
        Company.objects.all().delete()
        for _name, engine in each_backend([b for b in available_backends() if b != "whoosh"]):
            engine.remove_filings(ACCESSIONS)


@pytest.fixture
def corpus(db, settings, search_dirs, search_backend):
    """The session corpus and its index (read-only), searched with each engine."""
    from filings.models import Filing

    for name, value in search_dirs.items():
        setattr(settings, name, value)
    if not Filing.objects.filter(accession_number__in=ACCESSIONS).exists():
        pytest.skip("the corpus is absent")
    return ACCESSIONS


@pytest.fixture
def api(client, corpus):
    """GET /api/search with parameters; returns the JSON (asserting 200)."""

    def get(**params):
        params.setdefault("per_page", 100)
        response = client.get("/api/search", params)
        assert response.status_code == 200, response.content[:500]
        return response.json()

    return get


def doc_keys(data):
    """(accession, sequence) of every document result of an API answer."""
    keys = set()
    for r in data["results"]:
        for d in r.get("documents", [r]):
            keys.add((d["accession_number"], d["sequence"]))
    return keys
