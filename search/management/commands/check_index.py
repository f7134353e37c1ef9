"""Compare the search index with the database; with --repair, re-index what differs."""
from django.core.management.base import BaseCommand, CommandError

from search import index

SHOWN = 20  # differing entries listed per kind; the rest are counted


class Command(BaseCommand):
    help = (
        "Compare the filings and documents the database holds with the entries of the "
        "search index, print what differs, and exit 1 if anything does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true",
            help="Re-index the filings that differ (and apply recorded index work), "
                 "then compare again.",
        )

    def handle(self, *args, repair, verbosity, **options):
        pending = index.pending()
        if repair and pending:
            index.drain()
        missing, extra = index.differences()
        if repair and (missing or extra):
            accessions = {entry.rsplit("/", 1)[0] for entry in missing | extra}
            index.update_filings(sorted(accessions))
            if verbosity >= 1:
                self.stdout.write(f"re-indexed {len(accessions)} filing(s)")
            missing, extra = index.differences()
        pending = index.pending()
        self._report("in the database but not in the index", missing, verbosity)
        self._report("in the index but not in the database", extra, verbosity)
        if pending and verbosity >= 1:
            self.stdout.write(f"{pending} recorded index change(s) not yet applied")
        if missing or extra or pending:
            raise CommandError(
                "the index differs from the database"
                + ("" if repair else " (run again with --repair)"),
                returncode=1,
            )
        if verbosity >= 1:
            self.stdout.write(
                f"the index matches the database: {index.document_count()} entries"
            )

    def _report(self, what, entries, verbosity):
        if not entries or verbosity < 1:
            return
        self.stdout.write(f"{len(entries)} entries {what}:")
        for entry in sorted(entries)[:SHOWN]:
            self.stdout.write(f"  {entry}")
        if len(entries) > SHOWN:
            self.stdout.write(f"  … and {len(entries) - SHOWN} more")
