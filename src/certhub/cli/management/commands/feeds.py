"""certhub feeds load FILE.yaml | list | run NAME | runs [NAME] | errors RUN

load   create or update feeds from a YAML file (a list of definitions, or {feeds: [...]})
list   the feeds, their source, parser, schedule and last run
run    resume the feed's unfinished run or collect and process it now (progress bar);
       --workers N splits a large input into parts that N worker processes take
runs   recent runs with their counts
errors the refused lines of a run, with line numbers and reasons
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError
from certhub.feeds import services
from certhub.feeds.models import Feed, FeedRun, RunError


@contextlib.contextmanager
def progress_bar(path: Path | None, *, disable: bool = False):
    """A tqdm bar counting input lines; yields the pipeline's progress callback."""
    from tqdm import tqdm

    with tqdm(unit=" lines", unit_scale=True, disable=disable, mininterval=0.5) as bar:
        def update(run, read):
            bar.update(read)
            bar.set_postfix(dup=run.duplicates, failed=run.failed, routed=run.routed,
                            refresh=False)
        yield update


def workers_count(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


def add_workers_argument(parser) -> None:
    parser.add_argument("--workers", type=workers_count, default=1, metavar="N",
                        help="Worker processes sharing a large input (of a parser that "
                             "allows it), as parts; 1: one pass in this process.")


def print_run(stdout, run: FeedRun) -> None:
    per_org = ", ".join(f"{name}={count}" for name, count in _org_names(run).items()) or "-"
    stdout.write(_("run %(id)d %(status)s: read %(read)d, failed %(failed)d, duplicates "
                   "%(dup)d, routed %(routed)d, without responsible %(unrouted)d; per "
                   "organisation: %(per_org)s")
                 % {"id": run.pk, "status": run.status, "read": run.read, "failed": run.failed,
                    "dup": run.duplicates, "routed": run.routed, "unrouted": run.unrouted,
                    "per_org": per_org} + (_(" (source not modified)") if run.not_modified
                                           else ""))


def _org_names(run: FeedRun) -> dict[str, int]:
    from certhub.directory.models import Organisation

    ids = [int(key) for key in run.routed_per_org or {}]
    names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "short_name"))
    return {names.get(int(key), key): count for key, count in run.routed_per_org.items()}


class Command(BaseCommand):
    help = "Manage and run security feeds."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Create or update feeds from a YAML file.")
        load.add_argument("file")
        sub.add_parser("list", help="List the feeds.")
        run = sub.add_parser("run", help="Run a feed now.")
        run.add_argument("name")
        run.add_argument("--batch-size", type=int, default=10_000)
        run.add_argument("--no-progress", action="store_true")
        add_workers_argument(run)
        runs = sub.add_parser("runs", help="Recent runs and their counts.")
        runs.add_argument("name", nargs="?")
        runs.add_argument("--limit", type=int, default=20)
        errors = sub.add_parser("errors", help="Refused lines of a run.")
        errors.add_argument("run", type=int)

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from None

    def _load(self, file: str, **options):
        import yaml

        try:
            with open(file, encoding="utf-8") as handle:
                document = yaml.safe_load(handle)
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(reason)s")
                               % {"path": file, "reason": exc.strerror}) from None
        except yaml.YAMLError as exc:
            raise CommandError(_("%(path)s is not valid YAML: %(reason)s")
                               % {"path": file, "reason": exc}) from None
        if isinstance(document, dict) and "feeds" in document:
            document = document["feeds"]
        if not isinstance(document, list):
            raise CommandError(_("%(path)s must hold a list of feed definitions.")
                               % {"path": file})
        created, updated = services.load_feeds(document)
        self.stdout.write(_("%(created)d feeds created, %(updated)d updated.")
                          % {"created": len(created), "updated": len(updated)})

    def _list(self, **options):
        from certhub.feeds.validation import default_classification

        for feed in Feed.objects.all():
            last = feed.runs.first()
            taxonomy, kind = default_classification(feed)
            self.stdout.write("  ".join([
                feed.name, feed.source_kind, feed.parser, feed.schedule or "-",
                f"{taxonomy}/{kind}", feed.tlp,
                _("enabled") if feed.enabled else _("disabled"),
                f"{last.status} {last.created:%Y-%m-%d %H:%M}" if last else _("never run")]))

    def _run(self, name: str, batch_size: int, no_progress: bool, workers: int, **options):
        feed = Feed.objects.filter(name=name).first()
        if feed is None:
            raise CommandError(_("There is no feed %(name)s.") % {"name": name})
        try:
            with progress_bar(None, disable=no_progress) as bar:
                runs = services.run_feed(feed, trigger="cli", progress=bar,
                                         batch_size=batch_size, workers=workers)
        except CerthubError:
            raise
        except Exception as exc:
            raise CommandError(_("The run failed: %(reason)s") % {"reason": exc}) from None
        for run in runs:
            print_run(self.stdout, run)

    def _runs(self, name: str | None, limit: int, **options):
        runs = FeedRun.objects.select_related("feed")
        if name:
            runs = runs.filter(feed__name=name)
        for run in runs[:limit]:
            print_run(self.stdout, run)

    def _errors(self, run: int, **options):
        errors = RunError.objects.filter(run_id=run)
        if not FeedRun.objects.filter(pk=run).exists():
            raise CommandError(_("There is no run %(run)d.") % {"run": run})
        for error in errors:
            self.stdout.write(f"{error.line}: {error.reason}  {error.raw[:120]}")
