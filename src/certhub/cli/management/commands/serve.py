"""`certhub serve`: the production server (gunicorn), never Django's development server."""

from __future__ import annotations

import ipaddress
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Command(BaseCommand):
    help = "Serve certhub with gunicorn (static files by WhiteNoise); collects static files first."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=min(4, (os.cpu_count() or 1) * 2))
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--timeout", type=int, default=120,
                            help="Seconds before a stuck request's worker is restarted.")

    def handle(self, *args, **options):
        host, port = options["host"], options["port"]
        if settings.DEBUG and not _is_loopback(host):
            raise CommandError("CERTHUB_DEBUG is on: refusing to serve on a non-loopback address "
                               f"({host}). Turn debug off for anything others can reach.")
        if not 0 < port < 65536:
            raise CommandError(f"--port must be 1 to 65535, not {port}")
        call_command("collectstatic", interactive=False, verbosity=0)
        from gunicorn.app.base import BaseApplication

        from certhub.config.wsgi import application

        bind = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        config = {
            "bind": bind,
            "workers": options["workers"],
            "threads": options["threads"],
            "timeout": options["timeout"],
            "accesslog": "-",
            # No query strings in the access log: tokens and search terms stay out of logs.
            "access_log_format": '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms',
            "forwarded_allow_ips": "*" if settings.BEHIND_PROXY else "127.0.0.1",
        }

        class CerthubServer(BaseApplication):
            def load_config(self):
                for key, value in config.items():
                    self.cfg.set(key, value)

            def load(self):
                return application

        self.stdout.write(f"certhub serving on http://{bind}/ (Ctrl+C to stop)")
        CerthubServer().run()
