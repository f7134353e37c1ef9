"""`python manage.py ingest PATH [PATH ...]`: bulk-load EDGAR submissions."""
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from filings.ingest import FAILED, ingest, statements_unlogged
from filings.sources import read_sources


class Command(BaseCommand):
    help = (
        "Ingest EDGAR submissions (.txt, .nc, .hdr.sgml, -index-headers.html) from files, "
        "directories (recursive), glob patterns and archives (.zip, .tar, .gz, .bz2, .xz, "
        ".tar.gz/.tgz, .tar.bz2, .tar.xz). Sets up a new database first. "
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
        self._migrate_if_needed(verbosity)
        bar = None
        if not no_progress and verbosity >= 1 and self.stderr.isatty():
            from tqdm import tqdm

            # The bar draws on the terminal itself; messages go through self.stdout and
            # self.stderr with the bar lifted out of the way (`say`).
            bar = tqdm(unit=" files", desc="ingest", file=sys.stderr, leave=False)

        def say(stream, message):
            if bar is None:
                stream.write(message)
            else:
                with bar.external_write_mode():
                    stream.write(message)

        def on_outcome(outcome):
            if outcome.status == FAILED:
                say(self.stderr, f"{outcome.source}: {outcome.error}")
            elif verbosity >= 2:
                say(self.stdout, str(outcome))

        def on_source(source):
            if bar is not None:
                bar.update(1)

        sources = read_sources(
            paths,
            max_expanded=settings.MAX_EXPANDED_BYTES,
            max_member=settings.MAX_SUBMISSION_BYTES,
        )
        try:
            with statements_unlogged():
                summary = ingest(sources, workers=workers, on_outcome=on_outcome,
                                 on_source=on_source)
        finally:
            if bar is not None:
                bar.close()
        if verbosity >= 1:
            self.stdout.write(summary.line())
        if summary.failed:
            raise CommandError(f"{summary.failed} failed (see above)", returncode=1)

    def _migrate_if_needed(self, verbosity):
        """A new DATA_DIR has an empty database: set it up rather than fail on the
        first query, and say so in one line."""
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise CommandError(f"cannot open the database: {exc}") from exc
        if not plan:
            return
        if connection.in_atomic_block:
            # Called from code holding a transaction (a test): migrating inside it
            # would fail on SQLite, so say what to run instead.
            raise CommandError(
                f"the database lacks {len(plan)} migrations: run `manage.py migrate` first"
            )
        if verbosity >= 1:
            where = connection.settings_dict["NAME"]
            self.stdout.write(f"Setting up the database in {where} ({len(plan)} migrations).")
        call_command("migrate", interactive=False, verbosity=0)
