"""Work that outlives a request: ingest an uploaded file, re-derive or delete filings, run
as tasks (Django's tasks API; `manage.py db_worker` runs them) with a `Job` row each.

A job is safe to run twice and survives its worker: a worker claims the row by bumping
its attempt, writes a heartbeat while it runs, and writes only while the row still holds
its attempt. A job whose worker stopped (its process on this host is gone, or it was not
heard from for JOB_STALE_SECONDS) is found by `recover_stalled()`, which every worker runs
when it starts and then periodically, and is queued again: ingest is idempotent (bytes
already stored are "unchanged") and a delete of a filing already gone is done.
"""
from __future__ import annotations

import gzip
import io
import logging
import os
import socket
import threading
import time
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.exceptions import TaskResultDoesNotExist

from filings import spreadsheet
from filings.ingest import FAILED, UNCHANGED, Outcome, delete_filing, ingest, rederive
from filings.models import Filing, Ingestion, Job
from filings.sources import open_upload

log = logging.getLogger(__name__)

DELETED = "deleted"
# What a job keeps on its row besides the counts: every failure up to FAILURES_SHOWN and
# the first OTHERS_SHOWN other outcomes. The rest is in the CSV.
FAILURES_SHOWN = 200
OTHERS_SHOWN = 50
PROGRESS_EVERY = 1.0  # seconds between progress writes while a job runs
CSV_COLUMNS = ["status", "source", "accession_number", "form_type", "documents", "error"]


class Superseded(Exception):
    """This run lost its claim on the job (it was taken as stopped and queued again)."""


# --- Starting jobs (from the admin) ----------------------------------------------------------


def start_uploads(files, user) -> Job:
    """Store each uploaded file under a generated name, make a job for it and queue the
    job; returns the first job (its batch is the upload). Nothing is kept if this fails."""
    jobs = []
    try:
        for uploaded in files:
            job = Job(kind=Job.Kind.UPLOAD, user=user, source_name=uploaded.name[:500],
                      size=uploaded.size)
            if jobs:
                job.batch = jobs[0].batch
            job.upload.save(uploaded.name, uploaded, save=False)
            jobs.append(job)
        with transaction.atomic():
            for job in jobs:
                job.save()
                _enqueue(job)
    except BaseException:
        for job in jobs:
            job.upload.delete(save=False)
        raise
    return jobs[0]


def start_on_filings(kind: str, accessions: list[str], user) -> Job:
    """Queue a re-derive or delete of these filings as one job."""
    first = accessions[0] if accessions else ""
    name = first if len(accessions) == 1 else f"{len(accessions):,} filings ({first}, …)"
    with transaction.atomic():
        job = Job.objects.create(kind=kind, user=user, accessions=accessions, source_name=name)
        _enqueue(job)
    return job


def _enqueue(job: Job, delay: float = 0):
    """Queue a task for a job already QUEUED, in the caller's transaction: with the
    database backend the job and its task commit together."""
    runner = run_job
    if delay and runner.get_backend().supports_defer:
        runner = runner.using(run_after=timezone.now() + timedelta(seconds=delay))
    result = runner.enqueue(job.pk)
    # An immediate backend has run the job already (and recorded its task id).
    if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(task_id=result.id):
        job.task_id = result.id


# --- Running a job -------------------------------------------------------------------------


@task(takes_context=True)
def run_job(context, job_id: int) -> str:
    """Run one job to its end; returns its final status."""
    job = _claim(job_id, context.task_result.id)
    if job is None:
        return "skipped: not queued (already running, done or gone)"
    heartbeat = None
    # Run in a request (tests), nothing else can take the job over: no heartbeat needed.
    if not isinstance(run_job.get_backend(), ImmediateBackend):
        heartbeat = _Heartbeat(job)
        heartbeat.start()
    recorder = _Recorder(job, heartbeat)
    try:
        RUNNERS[job.kind](job, recorder)
    except Superseded:
        return "superseded: another run took the job over"
    except (KeyboardInterrupt, SystemExit):
        # The worker was told to stop now: the job goes back to the queue for the next
        # worker, and the stop goes on.
        _requeue(job, "the worker was stopped while running it")
        raise
    except Exception as exc:
        _requeue(job, f"{type(exc).__name__}: {exc}", delay=10 * job.attempt)
        raise  # so the task result keeps the traceback
    finally:
        if heartbeat:
            heartbeat.stop()
    return recorder.finish()


def _claim(job_id: int, task_id: str) -> Job | None:
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        attempt=F("attempt") + 1,
        worker=_worker_name(),
        task_id=task_id,
        heartbeat_at=now,
        started_at=now,
    )
    return Job.objects.get(pk=job_id) if claimed else None


def _mine(job: Job):
    """The job's row, while this run still holds it."""
    return Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, attempt=job.attempt)


def _run_upload(job: Job, recorder: _Recorder):
    try:
        fh = job.upload.open("rb")
    except OSError as exc:
        recorder.add(Outcome(job.source_name, FAILED, error=f"the uploaded file is gone ({exc})"))
        return
    with fh:
        sources = open_upload(
            job.source_name, fh, settings.MAX_EXPANDED_BYTES, settings.MAX_SUBMISSION_BYTES
        )
        summary = ingest(
            sources, user=job.user, on_outcome=recorder.add, on_source=recorder.check
        )
    # The filings are stored even when the index could not follow (it catches up later).
    recorder.warning = getattr(summary, "index_error", "")


def _run_rederive(job: Job, recorder: _Recorder):
    for accession in job.accessions:
        recorder.check()
        filing = Filing.objects.filter(accession_number=accession).first()
        if filing is None:
            recorder.add(Outcome(accession, FAILED, accession, error="no longer stored"))
            continue
        outcomes = rederive(filing)
        if not outcomes:
            outcomes = [Outcome(accession, FAILED, accession, filing.form_type,
                                error="the stored original holds no such filing")]
        for outcome in outcomes:
            recorder.add(outcome)


def _run_delete(job: Job, recorder: _Recorder):
    for accession in job.accessions:
        recorder.check()
        filing = Filing.objects.filter(accession_number=accession).first()
        form_type = ""
        if filing is not None:  # else deleted already, by an earlier run of this job
            form_type = filing.form_type
            delete_filing(filing)
        recorder.add(Outcome(accession, DELETED, accession, form_type))


RUNNERS = {
    Job.Kind.UPLOAD: _run_upload,
    Job.Kind.REDERIVE: _run_rederive,
    Job.Kind.DELETE: _run_delete,
}


class _Recorder:
    """Collects a job's outcomes: counts, the capped list kept on the row, and every
    outcome as gzip'd CSV; writes progress now and then, and the result at the end."""

    def __init__(self, job: Job, heartbeat: _Heartbeat | None):
        self.job = job
        self.heartbeat = heartbeat
        self.counts = Counter()
        self.shown = []
        self.failures_shown = self.others_shown = 0
        self.warning = ""
        self.buffer = io.BytesIO()
        self.gzip = gzip.GzipFile(fileobj=self.buffer, mode="wb")
        self.text = io.TextIOWrapper(self.gzip, encoding="utf-8", newline="")
        self.csv = spreadsheet.writer(self.text)
        self.csv.writerow(CSV_COLUMNS)
        self.saved_at = time.monotonic()

    def add(self, outcome: Outcome):
        status = outcome.status
        if status == UNCHANGED and self.job.attempt > 1:
            status = self._earlier_status(outcome)
        self.counts[status] += 1
        row = {
            "status": status,
            "source": outcome.source,
            "accession_number": outcome.accession_number,
            "form_type": outcome.form_type,
            "documents": outcome.documents,
            "error": outcome.error,
        }
        self.csv.writerow([row[c] for c in CSV_COLUMNS])
        if status == FAILED and self.failures_shown < FAILURES_SHOWN:
            self.failures_shown += 1
            self.shown.append(row)
        elif status != FAILED and self.others_shown < OTHERS_SHOWN:
            self.others_shown += 1
            self.shown.append(row)
        self.check()

    def _earlier_status(self, outcome: Outcome) -> str:
        """An "unchanged" filing on a second run that the first run stored before its
        worker stopped: report what this job did to it (new or updated)."""
        earlier = (
            Ingestion.objects.filter(
                filing__accession_number=outcome.accession_number,
                source_name=outcome.source[:500],
                uploaded_by=self.job.user,
                created_at__gte=self.job.created_at,
            )
            .values_list("outcome", flat=True)
            .first()
        )
        return earlier or UNCHANGED

    def check(self, source=None):
        """Between two pieces of work: stop if the job was taken over, and write the
        progress so far at most every PROGRESS_EVERY seconds."""
        if self.heartbeat and self.heartbeat.lost:
            raise Superseded
        if time.monotonic() - self.saved_at >= PROGRESS_EVERY:
            self.saved_at = time.monotonic()
            if not _mine(self.job).update(counts=dict(self.counts)):
                raise Superseded

    def finish(self) -> str:
        self.text.close()  # flushes the CSV through gzip into the buffer
        done = _mine(self.job).update(
            state=Job.State.DONE,
            counts=dict(self.counts),
            outcomes=self.shown,
            outcomes_csv=self.buffer.getvalue(),
            warning=self.warning,
            error="",
            upload="",
            worker="",
            finished_at=timezone.now(),
        )
        if not done:
            return "superseded: another run took the job over"
        if self.job.upload:  # the filings keep their own copy of what they were made from
            self.job.upload.delete(save=False)
        self.job.refresh_from_db(fields=["state", "counts"])
        return self.job.status


# --- Stopped workers -----------------------------------------------------------------------


class _Heartbeat(threading.Thread):
    """Writes the job's heartbeat every JOB_HEARTBEAT_SECONDS from its own thread (a
    long parse or a wait for the index lock sends no other sign of life), and notices
    when the job was taken over."""

    def __init__(self, job: Job):
        super().__init__(name=f"job-{job.pk}-heartbeat", daemon=True)
        self.job = job
        self.lost = False
        self._halt = threading.Event()

    def run(self):
        try:
            while not self._halt.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    if not _mine(self.job).update(heartbeat_at=timezone.now()):
                        self.lost = True
                        return
                except DatabaseError:  # a busy database: the next beat may get through
                    log.warning("job %s: could not write the heartbeat", self.job.pk)
        finally:
            connection.close()

    def stop(self):
        self._halt.set()
        self.join()


def _requeue(job: Job, reason: str, delay: float = 0) -> bool:
    """Queue a job this run (or a stopped worker) held again, or fail it for good after
    JOB_MAX_ATTEMPTS runs. False if the job was no longer held by that run."""
    if job.attempt >= settings.JOB_MAX_ATTEMPTS:
        failed = _mine(job).update(
            state=Job.State.FAILED,
            error=f"{reason}; gave up after {job.attempt} attempts",
            upload="",
            worker="",
            finished_at=timezone.now(),
        )
        if failed and job.upload:  # to try again, upload it again
            job.upload.delete(save=False)
        return bool(failed)
    with transaction.atomic():
        if not _mine(job).update(state=Job.State.QUEUED, error=reason, worker=""):
            return False
        _enqueue(job, delay)
    log.warning("job %s queued again (attempt %s ended: %s)", job.pk, job.attempt, reason)
    return True


def recover_stalled() -> int:
    """Queue again the jobs whose worker stopped, and those whose task ended before it
    took the job up; returns how many. Safe to run in every worker at once: each job is
    taken back by one conditional update."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    recovered = 0
    for job in Job.objects.filter(state=Job.State.RUNNING).without_details():
        last_seen = job.heartbeat_at or job.started_at or job.created_at
        if _worker_gone(job.worker) or last_seen < stale:
            stopped_task = job.task_id
            if _requeue(job, "the worker stopped while running it"):
                recovered += 1
                _close_task_result(stopped_task)
    for job in Job.objects.filter(state=Job.State.QUEUED, created_at__lt=stale).without_details():
        if _task_lost(job, stale):
            with transaction.atomic():
                if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED,
                                      task_id=job.task_id).exists():
                    _enqueue(job)
                    recovered += 1
    return recovered


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_gone(worker: str) -> bool:
    """True when the worker ran on this host and its process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's: perhaps a reused pid
        return False
    return False


def _task_lost(job: Job, stale) -> bool:
    """A queued job whose task will never run it: the task is gone, ended without
    claiming the job, or was taken by a worker that stopped before claiming it."""
    backend = run_job.get_backend()
    if not backend.supports_get_result:
        return False
    if not job.task_id:
        return True
    try:
        result = backend.get_result(job.task_id)
    except TaskResultDoesNotExist:
        return True
    if result.status == TaskResultStatus.READY:
        return False
    if result.status == TaskResultStatus.RUNNING:
        return (result.started_at or job.created_at) < stale
    return True


def _close_task_result(task_id: str):
    """Mark the task result a stopped worker left "running" as failed, so the task
    list tells the truth (the database backend does not notice dead workers)."""
    if not task_id:
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="filings.tasks.WorkerStopped",
        traceback="The worker stopped while running this task; its job was queued again.",
    )


def watch_stalled(every: float):
    """Run `recover_stalled()` every `every` seconds, for ever (a worker's daemon thread)."""
    while True:
        time.sleep(every)
        try:
            close_old_connections()
            if n := recover_stalled():
                log.warning("queued %s stalled job(s) again", n)
        except DatabaseError:
            log.exception("could not look for stalled jobs")
