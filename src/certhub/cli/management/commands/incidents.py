"""certhub incidents import-eml FILE... | fetch-mail | escalate

import-eml  turn email messages (.eml files) into incidents in the hub's triage queue, with the
            indicators found in them; a Message-ID already imported is skipped
fetch-mail  the same for new messages in the mailbox of CERTHUB_MAILIN_URL (IMAP or POP3)
escalate    escalate coordination requests past their targets, once each (beat does this every
            minute; run it by hand or from cron when there is no beat)
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError
from certhub.incidents import mailin, services


class Command(BaseCommand):
    help = "Incidents: import email, fetch the report mailbox, escalate overdue requests."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        eml = sub.add_parser("import-eml", help="Import .eml files into the triage queue.")
        eml.add_argument("files", nargs="+", metavar="FILE")
        sub.add_parser("fetch-mail", help="Import new messages from CERTHUB_MAILIN_URL.")
        sub.add_parser("escalate", help="Escalate overdue coordination requests.")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except CerthubError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            raise CommandError(str(exc)) from None

    def _import_eml(self, files: list[str], **options):
        failed = 0
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(_("%(file)s is not a readable file.") % {"file": name})
            if path.stat().st_size > mailin.MAX_MESSAGE_BYTES:
                raise CommandError(_("%(file)s is larger than the %(mb)d MB a message may be.")
                                   % {"file": name,
                                      "mb": mailin.MAX_MESSAGE_BYTES // (1024 * 1024)})
            try:
                incident, created = services.import_email(path.read_bytes())
            except CerthubError as exc:
                failed += 1
                self.stderr.write(f"{name}: {exc.message}")
                continue
            indicators = incident.indicators(manager="unrestricted").count()
            if created:
                self.stdout.write(_("%(file)s: incident %(ref)s in triage, %(n)d indicators")
                                  % {"file": name, "ref": incident.reference, "n": indicators})
            else:
                self.stdout.write(_("%(file)s: already imported as %(ref)s")
                                  % {"file": name, "ref": incident.reference})
        if failed:
            raise CommandError(_("%(n)d of %(total)d messages could not be imported.")
                               % {"n": failed, "total": len(files)})

    def _fetch_mail(self, **options):
        if mailin.configured_mailbox() is None:
            self.stdout.write(_("CERTHUB_MAILIN_URL is not set: nothing to fetch."))
            return
        incidents = services.fetch_mail()
        self.stdout.write(_("%(n)d new incidents from the mailbox.") % {"n": len(incidents)})
        for incident in incidents:
            self.stdout.write(f"  {incident.reference} {incident.title}")

    def _escalate(self, **options):
        escalated = services.escalate_overdue()
        self.stdout.write(_("%(n)d escalations sent.") % {"n": len(escalated)})
        for req, which in escalated:
            self.stdout.write(f"  request {req.pk} -> {req.to_org.short_name}: {which}")
