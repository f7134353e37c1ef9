"""Rebuild the search index from the database into a fresh directory, then swap it in."""
import sys

from django.core.management.base import BaseCommand

from search import index


class Command(BaseCommand):
    help = (
        "Index every stored filing into a fresh index directory and swap it in atomically; "
        "searches keep answering from the old index until the swap."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers", type=int, default=1,
            help="Indexing processes (Whoosh writes one segment per process). Default 1.",
        )
        parser.add_argument(
            "--batch", type=int, default=200,
            help="Filings read from the database at a time. Default 200.",
        )

    def handle(self, *args, workers, batch, verbosity, **options):
        from filings.models import Filing

        bar = None
        if verbosity >= 1 and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=Filing.objects.count(), unit="filing", file=sys.stderr)
        try:
            stats = index.rebuild(workers=max(1, workers), batch=max(1, batch),
                                  progress=bar.update if bar else None)
        finally:
            if bar:
                bar.close()
        if verbosity >= 1:
            mb = stats["bytes"] / 1e6
            seconds = stats["seconds"] or 1e-9
            self.stdout.write(
                f"{stats['filings']} filings, {stats['documents']} documents, "
                f"{mb:.1f} MB of text in {stats['seconds']:.1f} s ({mb / seconds:.2f} MB/s)"
            )
