"""certhub directory export|import: the member directory as JSON or CSV files.

The file formats are described in certhub.directory.importexport.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from certhub.core.errors import CerthubError
from certhub.directory import importexport


class Command(BaseCommand):
    help = "Export or import the member directory (JSON or CSV)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        export = sub.add_parser(
            "export", help="Write the directory as a user sees it (anonymous: TLP:CLEAR "
                           "contacts only).")
        export.add_argument("--format", choices=importexport.FORMATS, default="json")
        export.add_argument("--out", metavar="FILE", help="Write here instead of stdout.")
        export.add_argument("--as", dest="as_user", metavar="EMAIL",
                            help="Export what this user may see (contacts follow the sharing "
                                 "rule). Without it, only public (TLP:CLEAR) contacts.")

        load = sub.add_parser("import", help="Add or update organisations, constituencies, "
                                             "contacts and sharing groups from a file; all "
                                             "or nothing.")
        load.add_argument("file", metavar="FILE", help="A .json or .csv file; - for stdin.")
        load.add_argument("--format", choices=importexport.FORMATS,
                          help="Default: from the file name, else from its content.")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from None

    def _export(self, *, format, out, as_user, **_):
        user = None
        if as_user:
            user = get_user_model().objects.filter(email__iexact=as_user.strip()).first()
            if user is None:
                raise CommandError(f"no user with the email {as_user!r}")
        content, _type, _name = importexport.export_directory(user, fmt=format)
        if out:
            Path(out).write_text(content, encoding="utf-8")
            self.stderr.write(f"Wrote {out}.")
        else:
            self.stdout.write(content, ending="")

    def _import(self, *, file, format, **_):
        if file == "-":
            content = sys.stdin.buffer.read()
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"no such file: {file}")
            content = path.read_bytes()
            if format is None and path.suffix.lower() in (".json", ".csv"):
                format = path.suffix.lower()[1:]
        with tqdm(desc="importing", unit="org", file=self.stderr._out) as bar:
            result = importexport.import_directory(content, user=None, fmt=format,
                                                   progress=bar.update)
        self.stdout.write(", ".join(f"{name.replace('_', ' ')}: {count}"
                                    for name, count in result.as_dict().items()))
