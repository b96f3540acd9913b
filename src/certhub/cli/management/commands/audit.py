"""certhub audit verify|list: check the audit log's hash chain, read its latest entries.

``audit verify`` exits 0 and prints "N entries, chain intact" when every entry still hashes to
what was written and links to the one before; otherwise it names each broken entry on standard
error and exits 1, so it can run from cron or a monitoring check.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from certhub.audit.models import AuditEntry
from certhub.audit.services import verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or list its latest entries."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser("verify", help="Check every entry's hash and link; exit 1 on a problem.")
        listing = sub.add_parser("list", help="Show the latest entries, newest first.")
        listing.add_argument("--limit", type=int, default=50, metavar="N",
                             help="How many entries (default 50).")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _verify(self, **_):
        result = verify()
        if result.ok:
            self.stdout.write(f"{result.checked} entries, chain intact")
            return
        for problem in result.problems:
            self.stderr.write(problem)
        raise CommandError(f"audit log verification failed: {len(result.problems)} "
                           f"problem(s) in {result.checked} entries")

    def _list(self, *, limit, **_):
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        # The command line runs as the operator of the installation: no user filter applies.
        for entry in AuditEntry.objects.order_by("-seq")[:limit]:
            where = f" from {entry.address}" if entry.address else ""
            record = f" {entry.object_type}#{entry.object_id} {entry.object_repr}".rstrip() \
                if entry.object_type else ""
            self.stdout.write(f"#{entry.seq} {entry.at:%Y-%m-%d %H:%M:%S} UTC "
                              f"{entry.actor or '-'} ({entry.organisation or '-'}){where} "
                              f"{entry.action}{record}")
