"""`python manage.py ingest PATH [PATH ...]`: bulk-load EDGAR submissions."""
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from filings.ingest import FAILED, ingest
from filings.sources import read_sources


class Command(BaseCommand):
    help = (
        "Ingest EDGAR submissions (.txt, .nc, .hdr.sgml, -index-headers.html) from files, "
        "directories (recursive), glob patterns and .gz/.zip/.tar/.tar.gz archives. "
        "Exits 1 if any file failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files, directories, globs or archives.")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="Parse in this many worker processes (default 1: in this process).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Never show a progress bar."
        )

    def handle(self, *args, paths, workers, no_progress, verbosity, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        bar = None
        if not no_progress and verbosity >= 1 and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(unit="file", desc="ingest", file=sys.stderr, leave=False)

        def on_outcome(outcome):
            if outcome.status == FAILED:
                message = f"{outcome.source}: {outcome.error}"
                if bar:
                    bar.write(self.style.ERROR(message), file=sys.stderr)
                else:
                    self.stderr.write(self.style.ERROR(message))
            elif verbosity >= 2:
                line = str(outcome)
                bar.write(line) if bar else self.stdout.write(line)

        def on_source(source):
            if bar:
                bar.update(1)

        sources = read_sources(paths, max_expanded=settings.MAX_EXPANDED_BYTES)
        try:
            summary = ingest(sources, workers=workers, on_outcome=on_outcome, on_source=on_source)
        finally:
            if bar:
                bar.close()
        self.stdout.write(summary.line())
        if summary.failed:
            raise CommandError(f"{summary.failed} failed (see above)", returncode=1)
