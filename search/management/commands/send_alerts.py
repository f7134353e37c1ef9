"""`manage.py send_alerts`: e-mail each user the new matches of their saved searches with
alerts on (one digest per user), then move their watermarks (search.alerts)."""
from django.core.management.base import BaseCommand, CommandError

from search import alerts, tasks


class Command(BaseCommand):
    help = ("E-mail each user the matches of their saved searches (alerts on) ingested since "
            "the last digest: one e-mail per user. Running it again sends nothing new.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--schedule", action="store_true",
            help="Instead of sending now, queue the periodic task that sends digests every "
                 "ALERTS_EVERY_SECONDS from the worker (manage.py db_worker), unless it is "
                 "queued already.")

    def handle(self, *args, **options):
        if options["schedule"]:
            when = tasks.schedule()
            if options["verbosity"]:
                self.stdout.write(f"Alerts are sent by the worker; next run "
                                  f"{when:%Y-%m-%d %H:%M:%S} UTC.")
            return
        sent = alerts.send_alerts()
        if options["verbosity"]:
            self.stdout.write(tasks.summary(sent))
        for failure in sent.failed:
            self.stderr.write(f"not sent: {failure}")
        if sent.failed:
            raise CommandError(f"{len(sent.failed)} digest(s) could not be sent")
