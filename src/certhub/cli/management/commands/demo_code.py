"""certhub demo-code EMAIL: the current two-factor code of a demo administrator.

Only for the logins that ``certhub loaddemo`` created, whose authenticator secret is public by
design; every other account is refused (exit status 1).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from certhub.core.errors import CerthubError
from certhub.directory import demo


class Command(BaseCommand):
    help = "Print the current 6-digit two-factor code of a demo administrator (demo only)."

    def add_arguments(self, parser):
        parser.add_argument("email", metavar="EMAIL")

    def handle(self, *args, email, **options):
        try:
            self.stdout.write(demo.demo_code(email))
        except CerthubError as exc:
            raise CommandError(exc.message) from None
