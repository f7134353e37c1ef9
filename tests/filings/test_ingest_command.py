"""`manage.py ingest` as a user meets it: on a terminal, into a new DATA_DIR, with limits,
bad files and --verbosity."""
import bz2
import fcntl
import io
import os
import select
import sqlite3
import struct
import subprocess
import sys
import tarfile
import termios
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, get_commands, load_command_class

from filings.models import Filing
from tests.builders import tar_bytes
from tests.conftest import corpus_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = "0000320193-99-000010.txt"
ACCESSION = "0000320193-99-000010"
OTHER = "0001127602-25-004598.nc"
MB = 1024 * 1024


def _env(data_dir):
    """The environment of a user with a new DATA_DIR (index and files default inside)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "SEARCH_BACKEND", "SEARCH_INDEX_DIR", "MAX_SUBMISSION_MB")
    }
    env["DATA_DIR"] = str(data_dir)
    return env


def _manage(*args):
    return [sys.executable, str(ROOT / "manage.py"), *args]


def _stored_accessions(data_dir):
    with sqlite3.connect(data_dir / "db.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT accession_number FROM filings_filing")]


def _run_on_a_terminal(command, env, timeout=300):
    """Run `command` with stdin, stdout and stderr on a pseudo-terminal, as in an
    interactive shell; returns (exit status, everything it wrote)."""
    master, slave = os.openpty()
    # A terminal of 80 columns: a new pty has none, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        proc = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
            close_fds=True,
        )
    finally:
        os.close(slave)
    output = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                proc.kill()
                pytest.fail(f"no output for {timeout} s: {bytes(output)!r}")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer to the terminal has closed it
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
    return proc.wait(timeout=timeout), output.decode("utf-8", "replace")


def test_on_a_terminal_it_shows_a_progress_bar_and_loads_the_filing(tmp_path):
    data_dir = tmp_path / "data"
    status, output = _run_on_a_terminal(
        _manage("ingest", str(corpus_file(FIXTURE))), _env(data_dir)
    )
    assert status == 0, output
    assert "Traceback" not in output
    assert "ingest: " in output  # the bar was drawn (tqdm's description)
    assert "1 files, filings: 1 new, 0 updated, 0 unchanged, 0 failed" in output
    assert _stored_accessions(data_dir) == [ACCESSION]


def test_a_new_data_dir_is_set_up_and_loaded_in_one_run(tmp_path):
    data_dir = tmp_path / "never-migrated"
    command = _manage("ingest", str(corpus_file(FIXTURE)))
    first = subprocess.run(
        command, env=_env(data_dir), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    assert lines[0].startswith(f"Setting up the database in {data_dir / 'db.sqlite3'} (")
    assert lines[1].startswith("1 files, filings: 1 new")
    assert len(lines) == 2
    assert _stored_accessions(data_dir) == [ACCESSION]
    assert (data_dir / "index").is_dir()  # the search index went inside DATA_DIR too

    again = subprocess.run(
        command, env=_env(data_dir), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [again.stdout.strip()]  # set up once only
    assert "0 new, 0 updated, 1 unchanged" in again.stdout


# --- In this process -----------------------------------------------------------------------


def _ingest(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest", *map(str, args), stdout=out, stderr=err, **options)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_submission_larger_than_the_setting_is_refused_by_name_and_the_rest_go_on(
    tmp_path, settings
):
    settings.MAX_SUBMISSION_BYTES = 1024 * 1024
    small = corpus_file(FIXTURE).read_bytes()
    big = small + b" " * (2 * MB)
    archive = tmp_path / "batch.tar.gz"
    archive.write_bytes(tar_bytes({"big.txt": big, "small.txt": small}, mode="w:gz"))
    status, out, err = _ingest(archive)
    assert status == 1
    assert err.splitlines()[0] == (
        f"{tmp_path / 'batch.tar'}!big.txt: is {len(big) / MB:.1f} MB, larger than the largest "
        "submission stored (1 MB, MAX_SUBMISSION_MB)"
    )
    assert "2 files, filings: 1 new, 0 updated, 0 unchanged, 1 failed" in out
    assert list(Filing.objects.values_list("accession_number", flat=True)) == [ACCESSION]


@pytest.mark.django_db
def test_an_archive_bomb_is_refused_by_name_with_the_expansion_setting(tmp_path, settings):
    settings.MAX_EXPANDED_BYTES = 2 * MB
    bomb = tmp_path / "bomb.tar.bz2"
    info = tarfile.TarInfo("zeros.txt")
    info.size = 64 * MB
    bomb.write_bytes(bz2.compress(info.tobuf() + bytes(64 * MB)))
    assert bomb.stat().st_size < 1024  # the 149-byte kind of bz2 tar
    status, out, err = _ingest(bomb)
    assert status == 1
    assert f"{bomb}: expands past the limit of 2 MB (refused as a possible archive bomb)" in err
    assert not Filing.objects.exists()


@pytest.mark.django_db
def test_verbosity_0_prints_only_failures_and_2_prints_every_submission(tmp_path):
    good, other = corpus_file(FIXTURE), corpus_file(OTHER)
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    status, out, err = _ingest(good, bad, verbosity=0)
    assert status == 1
    assert out == ""
    assert err.startswith(f"{bad}: ")
    status, out, err = _ingest(good, other, verbosity=2)
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"{FIXTURE}: unchanged {ACCESSION} (")
    assert lines[1].startswith(f"{OTHER}: new ")
    assert lines[2].startswith("2 files, filings: 1 new, 0 updated, 1 unchanged, 0 failed")


@pytest.mark.django_db
def test_workers_keep_the_summary_and_the_exit_status(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello")
    status, out, err = _ingest(corpus_file(FIXTURE), corpus_file(OTHER), bad, workers=2)
    assert status == 1
    assert "3 files, filings: 2 new, 0 updated, 0 unchanged, 1 failed" in out
    assert f"{bad}: " in err
    assert Filing.objects.count() == 2
    with pytest.raises(CommandError, match="--workers must be at least 1"):
        call_command("ingest", str(bad), workers=0)


def test_every_option_has_help():
    command = load_command_class(get_commands()["ingest"], "ingest")
    parser = command.create_parser("manage.py", "ingest")
    ours = [a for a in parser._actions if a.dest in ("paths", "workers", "no_progress")]
    assert len(ours) == 3
    assert all(action.help for action in parser._actions)


@pytest.mark.django_db
def test_inside_a_transaction_it_says_to_migrate_instead_of_migrating(monkeypatch):
    # SQLite cannot migrate inside a transaction: the command must not try.
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets, clean_start=False: [("pending", False)],
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", str(corpus_file(FIXTURE)), stdout=io.StringIO())
    assert str(excinfo.value) == "the database lacks 1 migrations: run `manage.py migrate` first"
    assert not Filing.objects.exists()
