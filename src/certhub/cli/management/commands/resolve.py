"""certhub resolve VALUE... [--file F] [--json]: who is responsible for each value.

Prints one row per value (value, kind, country, AS number, responsible organisations, rule).
Malformed values are reported on standard error and make the exit code 1; the others are still
printed. ``--file -`` reads values from standard input, one per line (blank lines and lines
starting with # are skipped).
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certhub.directory.lookup import Resolution, resolve_many


class Command(BaseCommand):
    help = ("Show which organisation is responsible for IP addresses, prefixes, domains, URLs, "
            "email addresses, AS numbers or country codes, and by which rule.")

    def add_arguments(self, parser):
        parser.add_argument("values", nargs="*", metavar="VALUE",
                            help="An IP address or prefix, domain, host name, URL, email "
                                 "address, AS number (AS4788 or 4788) or country code.")
        parser.add_argument("--file", "-f", metavar="F",
                            help="Read values from a file, one per line ('-' for standard "
                                 "input).")
        parser.add_argument("--json", dest="as_json", action="store_true",
                            help="Print the full results as JSON (malformed values included, "
                                 "with their error).")

    def handle(self, *args, values, file, as_json: bool, **options):
        values = list(values)
        if file:
            values += _read_values(file)
        if not values:
            raise CommandError(_("Give at least one value, or --file."))
        results = resolve_many(values)
        failed = [result for result in results if result.error]
        if as_json:
            self.stdout.write(json.dumps([result.to_dict() for result in results],
                                         ensure_ascii=False, indent=2))
        else:
            self._table([result for result in results if not result.error])
        for result in failed:
            self.stderr.write(result.error)
        if failed:
            raise CommandError(_("%(failed)d of %(total)d values are malformed.")
                               % {"failed": len(failed), "total": len(results)})

    def _table(self, results: list[Resolution]) -> None:
        if not results:
            return
        header = (_("VALUE"), _("KIND"), _("COUNTRY"), _("ASN"), _("RESPONSIBLE"), _("RULE"))
        rows = [(result.input, result.kind or "", result.country or "-",
                 f"AS{result.asn}" if result.asn else "-",
                 ", ".join(match.short_name for match in result.matches) or "-",
                 result.rule or "-") for result in results]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width
                                        in zip(row, widths, strict=True)).rstrip())


def _read_values(path: str) -> list[str]:
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(_("Cannot read %(path)s: %(reason)s")
                           % {"path": path, "reason": getattr(exc, "strerror", None) or exc}
                           ) from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
