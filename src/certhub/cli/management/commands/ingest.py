"""certhub ingest FILE --parser P [--feed NAME] [--param k=v ...] [--workers N]: run one local
file through the feed pipeline (parse, enrich, classify, deduplicate, route, store) with a
progress bar. With --workers N a large file is split into parts that N processes take.

Without --feed the findings belong to the feed "ingest-<parser>" (created on first use). Exit
code 1 with the reason when the input or a parameter is bad, or when the run fails.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError
from certhub.feeds import services
from certhub.feeds.connectors import parsers
from certhub.feeds.connectors.params import parse_assignments

from .feeds import add_workers_argument, print_run, progress_bar


class Command(BaseCommand):
    help = "Run a local file through the feed pipeline into the findings inboxes."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file (or, for misp-feed, the folder) to read.")
        parser.add_argument("--parser", "-p", required=True, choices=parsers.names())
        parser.add_argument("--feed", help="Feed the findings belong to (default: "
                                           "ingest-<parser>, created when missing).")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help="A parser parameter (repeatable).")
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument("--no-progress", action="store_true")
        add_workers_argument(parser)

    def handle(self, *args, file: str, parser: str, feed: str | None, param: list[str],
               batch_size: int, no_progress: bool, workers: int, **options):
        path = Path(file)
        if not path.exists():
            raise CommandError(_("%(path)s does not exist.") % {"path": file})
        try:
            params = parse_assignments(param)
            target = services.ingest_feed(feed or f"ingest-{parser}", path.resolve(), parser,
                                          params)
            with progress_bar(path, disable=no_progress) as bar:
                runs = services.run_feed(target, trigger="cli ingest", input_path=path.resolve(),
                                         progress=bar, batch_size=batch_size,
                                         workers=workers)
        except CerthubError as exc:
            raise CommandError(exc.message) from None
        except Exception as exc:
            raise CommandError(_("The run failed: %(reason)s") % {"reason": exc}) from None
        for run in runs:
            print_run(self.stdout, run)
