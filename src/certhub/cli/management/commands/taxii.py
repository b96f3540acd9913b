"""certhub taxii pull [NAME] | list | runs [NAME]

pull   pull one remote TAXII 2.1 collection now (all enabled ones without NAME; with --due only
       those whose schedule is due), with a progress bar; exit code 1 if a pull failed
list   the remote collections, their owner, TLP, schedule and resume point
runs   recent pulls with their counts (fetched, stored, skipped as already known, failed)
"""

from __future__ import annotations

import contextlib

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError
from certhub.taxii.client import services
from certhub.taxii.client.models import PullRun, RemoteCollection, RunStatus


@contextlib.contextmanager
def progress_bar(*, disable: bool = False):
    """A tqdm bar counting fetched objects; yields the pull's progress callback."""
    from tqdm import tqdm

    with tqdm(unit=" objects", unit_scale=True, disable=disable, mininterval=0.5) as bar:
        def update(run, fetched):
            bar.update(fetched)
            bar.set_postfix(stored=run.stored, skipped=run.skipped, failed=run.failed,
                            refresh=False)
        yield update


def print_run(stdout, run: PullRun) -> None:
    stdout.write(_("%(remote)s run %(id)d %(status)s: fetched %(fetched)d, stored %(stored)d, "
                   "skipped (already known) %(skipped)d, failed %(failed)d")
                 % {"remote": run.remote.name, "id": run.pk, "status": run.status,
                    "fetched": run.fetched, "stored": run.stored, "skipped": run.skipped,
                    "failed": run.failed}
                 + (f" — {run.error}" if run.error else ""))
    for problem in run.problems[:10]:
        stdout.write(f"  {problem.get('id') or '?'}: {problem.get('reason')}")


class Command(BaseCommand):
    help = "Pull remote TAXII 2.1 collections into intel reports."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pull = sub.add_parser("pull", help="Pull a remote collection now (all enabled ones "
                                           "without NAME).")
        pull.add_argument("name", nargs="?")
        pull.add_argument("--due", action="store_true",
                          help="Only the collections whose schedule is due.")
        pull.add_argument("--no-progress", action="store_true")
        sub.add_parser("list", help="List the remote collections.")
        runs = sub.add_parser("runs", help="Recent pulls and their counts.")
        runs.add_argument("name", nargs="?")
        runs.add_argument("--limit", type=int, default=20)

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from None

    def _pull(self, name: str | None, due: bool, no_progress: bool, **options):
        if name:
            remote = RemoteCollection.objects.filter(name=name).first()
            if remote is None:
                raise CommandError(_("There is no remote TAXII collection %(name)s.")
                                   % {"name": name})
            remotes = [remote]
        elif due:
            remotes = services.due_remotes()
        else:
            remotes = list(RemoteCollection.objects.filter(enabled=True))
        failed = []
        for remote in remotes:
            with progress_bar(disable=no_progress) as bar:
                run = services.pull(remote, trigger="cli", progress=bar)
            print_run(self.stdout, run)
            if run.status == RunStatus.FAILED:
                failed.append(remote.name)
        if not remotes:
            self.stdout.write(_("Nothing to pull."))
        if failed:
            raise CommandError(_("The pull of %(names)s failed.") % {"names": ", ".join(failed)})

    def _list(self, **options):
        for remote in RemoteCollection.objects.select_related("owner"):
            self.stdout.write("  ".join([
                remote.name, remote.collection_url, remote.owner.short_name, remote.tlp,
                remote.schedule or "-", _("enabled") if remote.enabled else _("disabled"),
                remote.added_after or _("from the start")]))

    def _runs(self, name: str | None, limit: int, **options):
        runs = PullRun.objects.select_related("remote")
        if name:
            runs = runs.filter(remote__name=name)
        for run in runs[:limit]:
            print_run(self.stdout, run)
