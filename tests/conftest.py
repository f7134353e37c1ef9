"""Shared fixtures: every test gets its own file storage and search index directory."""
import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = Path(
    os.environ.get("EDGAR_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus")
)


def corpus_file(name: str) -> Path:
    """A file of the shared corpus, or a skip where the corpus is absent. A copy in
    tests/fixtures/ is preferred so the suite runs without ../shared."""
    local = FIXTURES / "submissions" / name
    if local.exists():
        return local
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{name} is not in tests/fixtures and the corpus is absent")
    return path


@pytest.fixture(autouse=True)
def isolated_data(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.SEARCH_INDEX_DIR = tmp_path / "index"
    yield tmp_path


@pytest.fixture
def ingest_paths(db):
    """Ingest files through the real pipeline; returns the Summary."""
    from filings.ingest import ingest
    from filings.sources import read_sources

    def run(*paths, workers=1, user=None):
        return ingest(read_sources([str(p) for p in paths]), workers=workers, user=user)

    return run


def run_worker():
    """A real task worker, in this process, until the queue is empty."""
    from unittest import mock

    from django.core.management import call_command

    # The worker closes "old" connections between tasks; inside a test's transaction
    # Django counts its own connection as one (autocommit is off) and PostgreSQL's would
    # be closed under the test. Out of tests the worker runs in autocommit, as it must.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0",
            verbosity=0,
        )
