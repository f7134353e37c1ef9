"""A process killed at any moment of ingest or rebuild leaves nothing the next run does not
mend: after a SIGKILL and one clean re-run, the database and the index are what a clean
run makes. Each run is a real `manage.py` process on its own DATA_DIR (and database)."""
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import separate_instance

ROOT = Path(__file__).resolve().parents[2]
KILLPOINT = ROOT / "tests" / "killpoint.py"
FIXTURES = ROOT / "tests" / "fixtures" / "submissions"
TIMEOUT = 300


def killed(env, point, n, *command):
    """Run the command, to be killed at the Nth `point`; assert that it was."""
    result = subprocess.run(
        [sys.executable, str(KILLPOINT), point, str(n), *command],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert result.returncode == -signal.SIGKILL, (
        f"expected a SIGKILL at {point} #{n}, got exit {result.returncode}:\n"
        f"{result.stderr[-3000:]}"
    )


def snapshot(env) -> dict:
    result = subprocess.run(
        [sys.executable, str(KILLPOINT), "snapshot"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=True,
    )
    return json.loads(result.stdout)


def ingest(instance, *paths, check=False):
    return instance.manage("ingest", "--no-progress", *map(str, paths), check=check)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """A handful of real filings of every dialect, header-only ones included."""
    folder = tmp_path_factory.mktemp("sources")
    names = [
        "0000320193-99-000010.txt", "0000912057-00-002128.txt", "0000842517-24-000086.txt",
        "0001127602-25-004598.nc", "0001062993-24-012217.hdr.sgml",
        "0001924152-24-000002-index-headers.html", "0001140361-25-045534.txt",
        "0000928385-00-003420.txt", "0001104659-23-069855.txt",
    ]
    for name in names:
        (folder / name).write_bytes((FIXTURES / name).read_bytes())
    return folder


@pytest.fixture(scope="module")
def clean(sources, tmp_path_factory):
    """What one uninterrupted run stores and indexes."""
    with separate_instance(tmp_path_factory.mktemp("clean")) as instance:
        first = ingest(instance, sources)
        state = snapshot(instance.env)
    assert state["filings"] and state["entries"]
    assert state["missing"] == state["extra"] == [] and state["pending"] == 0
    return first.returncode, state


def whoosh_only(point):
    engine = getattr(settings, "SEARCH_BACKEND", "whoosh")
    if point in {"commit", "applied", "fill", "swap"} and engine != "whoosh":
        pytest.skip("a moment of the Whoosh engine")


@pytest.mark.parametrize(
    "point, n",
    [
        ("store", 1),     # the first filing's transaction, before it commits
        ("store", 4),     # later: three filings committed, one half-written
        ("between", 1),   # filings committed, the index not yet told
        ("commit", 1),    # inside the index commit
        ("applied", 1),   # index written, its recorded work not yet cleared
    ],
)
def test_ingest_killed_then_rerun_matches_a_clean_run(point, n, sources, clean, tmp_path):
    whoosh_only(point)
    returncode, expected = clean
    with separate_instance(tmp_path / "instance") as instance:
        killed(instance.env, point, n, "ingest", "--no-progress", str(sources))
        rerun = ingest(instance, sources)
        state = snapshot(instance.env)
        check = instance.manage("check_index", check=False)
    assert rerun.returncode == returncode
    assert state == expected
    assert check.returncode == 0, check.stdout


def test_work_left_by_a_killed_run_is_reported_then_applied_by_the_next_run(
    sources, clean, tmp_path
):
    _, expected = clean
    with separate_instance(tmp_path / "instance") as instance:
        killed(instance.env, "between", 1, "ingest", "--no-progress", str(sources))
        state = snapshot(instance.env)
        if getattr(settings, "SEARCH_BACKEND", "whoosh") == "postgres":
            # An engine in the database applied each filing's work in its transaction.
            assert state == expected
            return
        assert state["pending"] > 0 and state["missing"]  # stored, not searchable yet
        check = instance.manage("check_index", check=False)
        assert check.returncode == 1
        assert "in the database but not in the index" in check.stdout
        warning = instance.manage("check", check=False)
        assert "search.W001" in warning.stderr + warning.stdout
        repaired = instance.manage("check_index", "--repair", check=False)
        assert repaired.returncode == 0, repaired.stdout + repaired.stderr
        assert snapshot(instance.env) == expected


@pytest.mark.parametrize("point, n", [("fill", 2), ("swap", 1)])
def test_rebuild_killed_leaves_the_old_index_and_its_leftovers_are_removed(
    point, n, sources, clean, tmp_path
):
    whoosh_only(point)
    _, expected = clean
    with separate_instance(tmp_path / "instance") as instance:
        ingest(instance, sources)
        killed(instance.env, point, n, "rebuild_index", "--batch", "2", "-v", "0")
        index_dir = instance.data / "index"
        current = (index_dir / "current").resolve()
        leftovers = [p for p in index_dir.glob("gen-*") if p != current]
        assert leftovers  # the killed rebuild's generation
        assert snapshot(instance.env) == expected  # searches still answer from the old index
        # The next write removes what the killed rebuild left.
        ingest(instance, FIXTURES / "0000320193-97-000014.txt", check=True)
        assert [p for p in index_dir.glob("gen-*") if p not in (current,)] == []
        instance.manage("rebuild_index", "-v", "0")
        state = snapshot(instance.env)
    assert state["missing"] == state["extra"] == [] and state["pending"] == 0
    assert set(expected["entries"]) < set(state["entries"])
