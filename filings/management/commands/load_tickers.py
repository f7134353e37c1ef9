"""`python manage.py load_tickers FILE`: load SEC's ticker symbols into the companies."""
from django.core.management.base import BaseCommand, CommandError

from filings.tickers import TickerFileError, load, parse

SHOWN_SKIPS = 10  # skipped entries named one by one; the rest are counted


class Command(BaseCommand):
    help = (
        "Load ticker symbols from SEC's company_tickers.json or "
        "company_tickers_exchange.json (https://www.sec.gov/files/company_tickers.json). "
        "Each CIK the file lists gets exactly the file's tickers; other CIKs keep theirs "
        "unless --prune. Tickers of companies not ingested yet are kept for when they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="company_tickers.json or company_tickers_exchange.json")
        parser.add_argument(
            "--prune", action="store_true",
            help="Also remove the tickers of CIKs the file does not list.",
        )

    def handle(self, *args, file, prune, verbosity, **options):
        try:
            with open(file, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror or exc})") from None
        try:
            parsed = parse(data)
        except TickerFileError as exc:
            raise CommandError(f"{file}: not a ticker file: {exc}") from None
        for reason in parsed.skipped[:SHOWN_SKIPS]:
            self.stderr.write(f"{file}: skipped {reason}")
        if len(parsed.skipped) > SHOWN_SKIPS:
            self.stderr.write(f"{file}: ... and {len(parsed.skipped) - SHOWN_SKIPS:,} more "
                              f"skipped")
        loaded = load(parsed, prune=prune)
        if verbosity >= 1:
            self.stdout.write(
                f"{file}: {loaded.tickers:,} tickers for {loaded.ciks:,} CIKs "
                f"({loaded.known:,} of them companies here), {loaded.removed:,} removed, "
                f"{len(parsed.skipped):,} entries skipped"
            )
