"""Jobs in the background (filings.tasks): a real worker runs them, a job whose worker
stopped is found and run again, and running a job twice changes nothing."""
import csv
import gzip
import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from filings import tasks
from filings.ingest import ingest
from filings.models import Filing, Ingestion, Job
from filings.sources import open_upload
from tests.builders import zip_bytes
from tests.conftest import FIXTURES, corpus_file, run_worker

ROOT = Path(__file__).resolve().parents[2]
TXT = "0000320193-99-000010.txt"  # 8-K, Apple Computer, 1999
TXT_ACCESSION = "0000320193-99-000010"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE


@pytest.fixture
def user(db):
    return User.objects.create_superuser("editor", password="pw")


def queue_upload(user, name=TXT, data=None):
    data = corpus_file(TXT).read_bytes() if data is None else data
    return tasks.start_uploads([SimpleUploadedFile(name, data)], user)




def dead_pid():
    """The pid of a process of this host that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def left_running(job, worker, heartbeat_at=None, attempt=1):
    """The job as a worker leaves it when it stops mid-task: the row running, the task
    result running."""
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING,
        attempt=attempt,
        worker=worker,
        started_at=heartbeat_at or timezone.now(),
        heartbeat_at=heartbeat_at or timezone.now(),
    )
    DBTaskResult.objects.filter(id=job.task_id).update(
        status="RUNNING", started_at=timezone.now()
    )
    job.refresh_from_db()
    return job


# --- A real worker --------------------------------------------------------------------------


def test_the_upload_request_queues_and_the_worker_ingests(database_tasks, user):
    job = queue_upload(user)
    job.refresh_from_db()
    assert (job.state, Filing.objects.count()) == (Job.State.QUEUED, 0)
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    stored = Path(job.upload.path)
    assert stored.exists() and stored.name != TXT

    run_worker()

    job.refresh_from_db()
    assert (job.state, job.status, job.counts, job.attempt) == ("done", "new", {"new": 1}, 1)
    assert Filing.objects.get().ingestions.get().uploaded_by == user
    assert not stored.exists()  # the filing keeps its own copy of the original
    assert job.upload.name == ""


def test_running_a_job_twice_changes_nothing(database_tasks, user):
    job = queue_upload(user)
    run_worker()
    done = Job.objects.get(pk=job.pk)
    again = tasks.run_job.enqueue(job.pk)
    run_worker()
    again.refresh()
    assert again.return_value.startswith("skipped")
    after = Job.objects.get(pk=job.pk)
    assert (after.state, after.attempt, after.counts, after.finished_at) == (
        done.state, done.attempt, done.counts, done.finished_at
    )
    assert Ingestion.objects.count() == 1


# --- Stopped workers ----------------------------------------------------------------------


def test_a_job_whose_worker_process_is_gone_is_run_again(database_tasks, user):
    job = left_running(queue_upload(user), f"{socket.gethostname()}:{dead_pid()}")
    stopped_task = job.task_id

    assert tasks.recover_stalled() == 1

    job.refresh_from_db()
    assert job.state == Job.State.QUEUED
    assert "the worker stopped while running it" in job.error
    assert job.task_id != stopped_task
    assert DBTaskResult.objects.get(id=stopped_task).status == "FAILED"
    assert DBTaskResult.objects.get(id=job.task_id).status == "READY"
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.counts, job.attempt) == ("done", {"new": 1}, 2)


def test_a_running_job_with_a_live_worker_is_left_alone(database_tasks, user):
    alive = f"{socket.gethostname()}:{os.getppid()}"
    job = left_running(queue_upload(user), alive)
    assert tasks.recover_stalled() == 0
    job.refresh_from_db()
    assert (job.state, job.worker) == (Job.State.RUNNING, alive)


def test_a_job_on_another_host_is_run_again_only_once_not_heard_from(database_tasks, user,
                                                                     settings):
    settings.JOB_STALE_SECONDS = 60
    job = left_running(queue_upload(user), "elsewhere:4242")
    assert tasks.recover_stalled() == 0  # its heartbeat is fresh

    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=61))
    assert tasks.recover_stalled() == 1
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED


def test_recovery_takes_a_job_back_once_however_many_workers_look(database_tasks, user):
    job = left_running(queue_upload(user), f"{socket.gethostname()}:{dead_pid()}")
    assert [tasks.recover_stalled() for _ in range(3)] == [1, 0, 0]
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert Job.objects.get(pk=job.pk).state == Job.State.QUEUED


def test_a_job_that_keeps_stopping_its_worker_fails_after_the_last_attempt(
    database_tasks, user, settings
):
    settings.JOB_MAX_ATTEMPTS = 3
    job = left_running(queue_upload(user), f"{socket.gethostname()}:{dead_pid()}", attempt=3)
    assert tasks.recover_stalled() == 1
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert job.error == "the worker stopped while running it; gave up after 3 attempts"
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_a_queued_job_whose_task_ended_without_it_is_queued_again(database_tasks, user,
                                                                  settings):
    settings.JOB_STALE_SECONDS = 60
    job = queue_upload(user)
    lost = job.task_id
    DBTaskResult.objects.filter(id=lost).update(status="SUCCESSFUL")
    assert tasks.recover_stalled() == 0  # just queued: give its task time

    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    assert tasks.recover_stalled() == 1
    job.refresh_from_db()
    assert job.task_id != lost
    run_worker()
    assert Job.objects.get(pk=job.pk).status == "new"


def test_a_rerun_reports_what_the_stopped_run_stored_as_new(database_tasks, user):
    job = queue_upload(user)
    # The first run stored the filing, then its worker died before recording the job.
    with open(corpus_file(TXT), "rb") as fh:
        ingest(open_upload(TXT, fh), user=user)
    left_running(job, f"{socket.gethostname()}:{dead_pid()}")
    tasks.recover_stalled()
    run_worker()
    job.refresh_from_db()
    assert (job.counts, [o["status"] for o in job.outcomes]) == ({"new": 1}, ["new"])
    assert Ingestion.objects.count() == 1


def test_bytes_stored_before_the_job_stay_unchanged_on_a_rerun(database_tasks, user):
    with open(corpus_file(TXT), "rb") as fh:
        ingest(open_upload(TXT, fh), user=user)
    job = left_running(queue_upload(user), f"{socket.gethostname()}:{dead_pid()}")
    Ingestion.objects.update(created_at=job.created_at - timedelta(seconds=1))
    tasks.recover_stalled()
    run_worker()
    assert Job.objects.get(pk=job.pk).counts == {"unchanged": 1}


def test_a_worker_stopped_on_purpose_puts_its_job_back(database_tasks, user, monkeypatch):
    real_ingest = tasks.ingest
    calls = []

    def stopped_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise SystemExit(1)  # what db_worker raises on a second Ctrl-C
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(tasks, "ingest", stopped_once)
    job = queue_upload(user)
    first_task = job.task_id
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.status, job.attempt) == ("done", "new", 2)
    assert DBTaskResult.objects.get(id=first_task).exception_class_path == "builtins.SystemExit"


def test_an_error_queues_the_job_again_until_the_last_attempt(user, settings, monkeypatch,
                                                                tmp_path):
    settings.TASKS = IMMEDIATE  # retries run at once
    settings.JOB_MAX_ATTEMPTS = 3
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(tasks, "ingest", broken)
    job = queue_upload(user)
    job.refresh_from_db()
    assert len(calls) == 3
    assert job.state == Job.State.FAILED
    assert job.error == "RuntimeError: disk on fire; gave up after 3 attempts"
    assert job.upload.name == ""
    assert not list((tmp_path / "files" / "uploads").iterdir())


def test_a_run_that_lost_the_job_to_another_writes_nothing(user, settings, monkeypatch):
    settings.TASKS = IMMEDIATE

    def taken_over(sources, on_outcome, **kwargs):
        # Meanwhile the job was taken as stopped and claimed by another run.
        Job.objects.update(attempt=F("attempt") + 1)
        return ingest(sources, on_outcome=on_outcome, **kwargs)

    monkeypatch.setattr(tasks, "ingest", taken_over)
    job = queue_upload(user)
    job.refresh_from_db()
    assert (job.state, job.counts, job.outcomes) == (Job.State.RUNNING, {}, [])
    assert job.upload and Path(job.upload.path).exists()  # still there for the other run


def test_a_delete_run_again_finds_its_filings_gone_and_is_done(user, settings, ingest_paths):
    settings.TASKS = IMMEDIATE
    ingest_paths(corpus_file(TXT))
    # The second accession stands for a filing the stopped first run already deleted.
    job = tasks.start_on_filings(Job.Kind.DELETE, [TXT_ACCESSION, "0000000000-00-000001"], user)
    job.refresh_from_db()
    assert (job.state, job.counts) == (Job.State.DONE, {"deleted": 2})
    assert not Filing.objects.exists()


# --- Summaries -------------------------------------------------------------------------------


def test_a_large_archive_keeps_counts_every_failure_and_a_capped_list(user, settings,
                                                                      monkeypatch):
    settings.TASKS = IMMEDIATE
    monkeypatch.setattr(tasks, "OTHERS_SHOWN", 2)
    monkeypatch.setattr(tasks, "FAILURES_SHOWN", 3)
    members = {f"junk-{i}.txt": b"not a filing\n" for i in range(5)}
    members.update({n: corpus_file(n).read_bytes() for n in (TXT, "0001127602-25-004598.nc",
                                                              "0000842517-24-000086.txt")})
    job = queue_upload(user, "batch.zip", zip_bytes(members))
    job.refresh_from_db()
    assert job.counts == {"new": 3, "failed": 5}
    assert [o["status"] for o in job.outcomes].count("failed") == 3
    assert [o["status"] for o in job.outcomes].count("new") == 2
    rows = list(csv.DictReader(io.StringIO(gzip.decompress(job.outcomes_csv).decode())))
    assert len(rows) == 8
    assert {r["source"] for r in rows} == {f"batch.zip!{n}" for n in members}


def test_the_csv_will_not_run_a_file_name_as_a_formula(user, settings):
    settings.TASKS = IMMEDIATE
    job = queue_upload(user, '=HYPERLINK("evil")', b"junk\n")
    job.refresh_from_db()
    [row] = csv.DictReader(io.StringIO(gzip.decompress(job.outcomes_csv).decode()))
    assert row["source"] == "'=HYPERLINK(\"evil\")"


# --- The kill test ------------------------------------------------------------------------

UPLOAD_SCRIPT = """
import django
django.setup()
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
import sys

client = Client()
client.force_login(User.objects.create_superuser("editor", password="pw"))
with open(sys.argv[1], "rb") as fh:
    upload = SimpleUploadedFile("batch.zip", fh.read())
response = client.post("/admin/filings/filing/upload/", {"files": [upload]})
assert response.status_code == 302, response.status_code
print(response["Location"])
"""


def _env(data):
    env = {
        k: v for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SEARCH_BACKEND", "SEARCH_INDEX_DIR", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATA_DIR=str(data),
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
        JOB_HEARTBEAT_SECONDS="0.5",
        # Long: the second worker must find the job by its dead worker, not by age.
        JOB_STALE_SECONDS="600",
    )
    return env


def _manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True, timeout=300,
    )


def _worker(env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
         "--interval", "0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _query(data, sql):
    db = sqlite3.connect(data / "db.sqlite3", timeout=30)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _wait_for(what, condition, timeout=240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_upload_loses_nothing(tmp_path):
    """SIGKILL the worker while it ingests an archive; a new worker finds the job its
    dead predecessor held, runs it again, and the upload completes: every filing stored
    once, reported as new, and in the search index."""
    data = tmp_path / "data"
    data.mkdir()
    env = _env(data)
    _manage(env, "migrate", "--noinput")
    # Small filings first, so some are stored well before the job can end.
    files = sorted((FIXTURES / "submissions").iterdir(), key=lambda p: p.stat().st_size)
    archive = tmp_path / "batch.zip"
    archive.write_bytes(zip_bytes({p.name: p.read_bytes() for p in files}))
    script = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(UPLOAD_SCRIPT), str(archive)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=300,
    )
    assert "/admin/filings/job/batch/" in script.stdout

    def job():
        return _query(data, "SELECT state, attempt, counts, task_id FROM filings_job")[0]

    def stored():
        return _query(data, "SELECT count(*) FROM filings_ingestion")[0][0]

    first = _worker(env)
    try:
        _wait_for("the first filings", lambda: job()[0] == "running" and stored() >= 2)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    state, attempt, _, killed_task = job()
    assert (state, attempt) == ("running", 1), "the job ended before the kill"
    assert 2 <= stored() < len(files)

    second = _worker(env)
    try:
        _wait_for("the job to finish", lambda: job()[0] in ("done", "failed"))
    finally:
        second.terminate()
        second.wait(timeout=60)

    state, attempt, counts, _ = job()
    assert (state, attempt) == ("done", 2)
    assert json.loads(counts) == {"new": len(files)}
    assert stored() == len(files)
    assert _query(data, "SELECT count(DISTINCT accession_number) FROM filings_filing")[0][0] == (
        len(files)
    )
    killed = _query(data, f"SELECT status FROM django_tasks_database_dbtaskresult "
                          f"WHERE replace(id, '-', '') = '{killed_task.replace('-', '')}'")
    assert killed == [("FAILED",)]
    assert not list((data / "files" / "uploads").iterdir())
    # The database and the search index agree (check_index exits 1 on any difference).
    _manage(env, "check_index")
