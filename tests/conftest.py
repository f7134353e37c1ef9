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
