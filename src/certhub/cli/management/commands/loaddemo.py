"""certhub loaddemo: the ASEAN demo directory, sharing groups and demo logins (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from certhub.cli import demo_samples
from certhub.core.errors import CerthubError
from certhub.directory import demo


class Command(BaseCommand):
    help = ("Load the demo: the eleven ASEAN member states' CERTs, a regional hub, a "
            "dialogue-partner CERT, a bank, a university, sharing groups and demo logins. "
            "Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")
        parser.add_argument("--no-samples", action="store_true",
                            help="Only the directory and logins: no sample reports, feed runs "
                                 "or incident.")

    def handle(self, *args, quiet=False, no_samples=False, **options):
        try:
            with tqdm(desc="demo directory", unit="org", disable=quiet or None,
                      file=self.stderr._out) as bar:
                result = demo.load_demo(progress=bar.update)
        except CerthubError as exc:
            raise CommandError(exc.message) from None
        counts = result.directory
        self.stdout.write(
            f"Demo loaded: {counts.organisations_created} organisations added, "
            f"{counts.organisations_updated} updated, {counts.contacts_created} contacts added, "
            f"{counts.groups_created} sharing groups added, {result.users_created} users added.")
        if not no_samples:
            try:
                samples = demo_samples.load_samples()
            except CerthubError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(
                f"Samples loaded: {samples.reports} reports, {samples.feed_runs} feed runs "
                f"({samples.findings} findings routed), {samples.incidents} incidents"
                + (f"; already there: {', '.join(samples.skipped)}." if samples.skipped else "."))
        if not quiet:
            self.stdout.write(self.logins_table(result.logins))

    @staticmethod
    def logins_table(logins) -> str:
        headers = ("email", "role", "organisation", "password", "two-factor")
        rows = [(login.email, login.role, login.organisation, login.password,
                 f"run: certhub demo-code {login.email}" if login.two_factor else "-")
                for login in logins]
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

        def line(cells):
            return "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths,
                                                                            strict=True)).rstrip()

        return "\n".join(["", "Demo logins:", line(headers),
                          line("-" * width for width in widths), *map(line, rows), ""])
