"""Shared fixtures: every test gets its own file storage and search index directory."""
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    yield
    # The PostgreSQL engine's facet helper keeps a connection to the test database,
    # which could not be dropped while it is open.
    from search.backends import postgres

    postgres.close_helper()


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


ROOT = Path(__file__).resolve().parents[1]


class Instance:
    """A separate instance of the app for `manage.py` subprocesses that commit for real:
    its own DATA_DIR and, when the suite runs on PostgreSQL, a scratch database of its
    own on the same server (SQLite in DATA_DIR otherwise). `env` runs processes there."""

    def __init__(self, data: Path, env: dict, database: str | None):
        self.data, self.env, self.database = data, env, database

    def query(self, sql: str) -> list[tuple]:
        if self.database is None:
            db = sqlite3.connect(self.data / "db.sqlite3")
            try:
                return db.execute(sql).fetchall()
            finally:
                db.close()
        import psycopg

        with psycopg.connect(**_server(), dbname=self.database) as db:
            return db.execute(sql).fetchall()

    def manage(self, *args, check=True, timeout=300):
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result


@contextmanager
def separate_instance(data: Path, **environ):
    """A migrated Instance in `data` (created), dropped with its database after."""
    from django.db import connection

    data.mkdir(parents=True, exist_ok=True)
    env = {
        k: v for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SEARCH_INDEX_DIR", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="config.settings",
               ALLOWED_HOSTS="testserver", LOG_LEVEL="ERROR", PYTHONPATH=str(ROOT), **environ)
    database = None
    if connection.vendor == "postgresql":
        # Named after the test database, so runs side by side do not collide.
        database = re.sub(r"\W", "_", f"{connection.settings_dict['NAME']}_{uuid.uuid4().hex[:8]}")
        _admin(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = _database_url(database)
    instance = Instance(data, env, database)
    try:
        instance.manage("migrate", "--noinput", "-v", "0")
        yield instance
    finally:
        if database is not None:
            _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _server() -> dict:
    """How to reach the PostgreSQL server the suite runs on."""
    from django.db import connection

    s = connection.settings_dict
    return {k: v for k, v in {"host": s["HOST"], "port": s["PORT"], "user": s["USER"],
                              "password": s["PASSWORD"]}.items() if v}


def _admin(sql: str):
    import psycopg

    with psycopg.connect(**_server(), dbname="postgres", autocommit=True) as db:
        db.execute(sql)


def _database_url(name: str) -> str:
    from django.db import connection

    s = connection.settings_dict
    credentials = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{credentials}@{s['HOST'] or 'localhost'}{port}/{name}"
