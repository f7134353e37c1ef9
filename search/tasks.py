"""Saved-search digests as a periodic task of the worker (`manage.py db_worker`): the task
sends what `search.alerts.send_alerts` finds, then queues itself again to run
ALERTS_EVERY_SECONDS later. `manage.py send_alerts --schedule` starts the chain (`make
run` does); no other service (cron, a scheduler) is needed. A cron line running
`manage.py send_alerts` does the same where a worker is not wanted."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from search import alerts


@task()
def send_alerts_task() -> str:
    try:
        sent = alerts.send_alerts()
    finally:
        # Whatever happened, the next run is queued: one failure does not end the chain.
        schedule(settings.ALERTS_EVERY_SECONDS)
    return summary(sent)


def summary(sent: alerts.Sent) -> str:
    text = (f"{sent.emails} e-mail(s): {sent.matches} new match(es) in {sent.searches} "
            f"saved search(es)")
    if sent.no_address:
        text += f"; no e-mail address: {', '.join(sent.no_address)}"
    if sent.failed:
        text += f"; failed: {'; '.join(sent.failed)}"
    return text


def scheduled():
    """The next queued run of the task, if any (a result of the database backend)."""
    from django_tasks_db.models import DBTaskResult

    return (DBTaskResult.objects.filter(task_path=send_alerts_task.module_path,
                                        status=TaskResultStatus.READY)
            .order_by("run_after").first())


def schedule(delay: float = 0):
    """Queue the task to run in `delay` seconds, unless a run is queued already; returns
    the queued run's time."""
    with transaction.atomic():
        queued = scheduled()
        if queued is not None:
            return queued.run_after
        run_after = timezone.now() + timedelta(seconds=delay)
        send_alerts_task.using(run_after=run_after).enqueue()
        return run_after
