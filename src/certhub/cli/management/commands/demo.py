"""`certhub demo`: migrate, load the ASEAN demo directory, print the logins, serve locally."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Set up the demo database and serve it on 127.0.0.1 (nothing else needed)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true",
                            help="Only prepare the database and print the logins.")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("loaddemo", stdout=self.stdout, stderr=self.stderr)
        if not options["no_serve"]:
            call_command("serve", host="127.0.0.1", port=options["port"], workers=2)
