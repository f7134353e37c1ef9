"""`manage.py db_worker`: django-tasks-db's worker, which runs uploads, re-derives and
deletes, plus what it lacks: jobs whose worker stopped mid-task are queued again, when
the worker starts and then every JOB_HEARTBEAT_SECONDS (see `filings.tasks`).

It replaces django_tasks_db's command of the same name because `filings` comes first in
INSTALLED_APPS; every option is the original's.
"""
import os
import threading

from django.conf import settings
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from filings.ingest import statements_unlogged
from filings.tasks import recover_stalled, watch_stalled


class Command(db_worker.Command):
    help = (
        "Run a background worker for uploads, re-derives and deletes; jobs left by a "
        "stopped worker are queued again."
    )

    def handle(self, *args, **options):
        reloading_parent = options["reload"] and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if reloading_parent:  # it only restarts the child that runs tasks
            return super().handle(*args, **options)
        recovered = recover_stalled()
        if recovered and options["verbosity"]:
            self.stdout.write(f"Queued again {recovered} job(s) left by a stopped worker.")
        if not options["batch"]:  # a batch run ends when the queue is empty
            threading.Thread(
                target=watch_stalled,
                args=(settings.JOB_HEARTBEAT_SECONDS,),
                name="stalled-jobs",
                daemon=True,
            ).start()
        with statements_unlogged():
            return super().handle(*args, **options)
