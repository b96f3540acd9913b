"""Reports from outside the membership: the public report form and email-in. Both land in the
hub's triage queue (owned by the regional hub, TLP:AMBER, ``in_triage``), with the indicators
intel's extractor finds in them. ``services`` exposes these functions under the same names.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import Conflict, InvalidInput, NotFound
from certhub.intel import extract as intel_extract
from certhub.notify.services import notify
from certhub.sharing import services as sharing_services
from certhub.sharing.tlp import TLP

from . import challenge, mailin, messages, queries
from .models import Incident, Source, TimelineKind
from .writing import (
    MAX_DESCRIPTION,
    MAX_INDICATORS,
    _attach,
    _clean_countries,
    _clean_filename,
    _clean_text,
    _clean_title,
    _store_indicators,
    _timeline,
    _url,
    hub_organisation,
)

log = logging.getLogger(__name__)
MAX_PUBLIC_DESCRIPTION = 20_000

def _parse_rate(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([smhd])\s*", text or "")
    if not match:
        return 5, 3600
    return int(match.group(1)), {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _rate_limited(client_address: str) -> bool:
    """True when this address sent more public reports than CERTHUB_PUBLIC_REPORT_RATE allows
    (counted in the cache, per hashed address, in fixed windows)."""
    limit, window = _parse_rate(settings.PUBLIC_REPORT_RATE)
    digest = hashlib.sha256((client_address or "unknown").encode()).hexdigest()[:32]
    key = f"incidents:public-report:{digest}:{int(timezone.now().timestamp()) // window}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def _triage_incident(*, title: str, description: str, source: str, reporter_name: str,
                     reporter_email: str, countries=(), occurred_at=None,
                     message_id: str = "") -> Incident:
    hub = hub_organisation()
    incident = Incident(owner=hub, created_by=None, tlp=TLP.AMBER, title=title,
                        description=description, source=source, in_triage=True,
                        reporter_name=reporter_name, reporter_email=reporter_email,
                        countries=list(countries), occurred_at=occurred_at,
                        message_id=message_id)
    incident.save()
    return incident


def _extracted(text: str) -> list[tuple[str, str]]:
    try:
        return [(c.type, c.value) for c in intel_extract.extract(text)][:MAX_INDICATORS]
    except InvalidInput:
        return []


def _notify_triage(incident: Incident) -> None:
    subject, body = messages.triage_new(incident)
    notify("incidents.triage.new", subject=subject, body=body, url=_url(incident),
           organisations=[incident.owner],
           payload={"incident": incident.pk, "reference": incident.reference,
                    "source": incident.source})


def submit_public_report(*, title: str, description: str, challenge_token: str,
                         challenge_solution: str = "", challenge_answer: str = "",
                         reporter_name: str = "", reporter_email: str = "",
                         countries: Iterable[str] = (), client_address: str = "") -> Incident:
    """An anonymous report from the public form. Refused (InvalidInput with the field and a
    clear message, nothing stored) when rate-limited, malformed, oversized or when the
    challenge is not solved; otherwise it lands in the hub's triage queue."""
    if _rate_limited(client_address):
        raise InvalidInput(_("Too many reports from your address: please try again later or "
                             "write to the CERT by email."), field="rate", code="rate_limited")
    title = _clean_title(title)
    description = _clean_text(description, field="description", limit=MAX_PUBLIC_DESCRIPTION,
                              required=True)
    reporter_name = _clean_text(reporter_name, field="reporter_name", limit=200)
    reporter_email = (reporter_email or "").strip()
    if reporter_email:
        try:
            validate_email(reporter_email)
        except ValidationError:
            raise InvalidInput(_("%(email)s is not an email address.")
                               % {"email": reporter_email[:100]},
                               field="reporter_email") from None
        if len(reporter_email) > 254:
            raise InvalidInput(_("The email address is too long."), field="reporter_email")
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in title + description + reporter_name):
        raise InvalidInput(_("The text contains control characters."), field="description")
    countries = _clean_countries(list(countries)[:20])
    challenge.verify(challenge_token, solution=challenge_solution, answer=challenge_answer)
    pairs = _extracted(f"{title}\n{description}")
    with transaction.atomic():
        challenge.spend(challenge_token)
        incident = _triage_incident(title=title, description=description,
                                    source=Source.PUBLIC_FORM, reporter_name=reporter_name,
                                    reporter_email=reporter_email, countries=countries)
        _store_indicators(incident, pairs)
        _timeline(incident, TimelineKind.CREATED, actor_label=_("public report form"),
                  details={"source": Source.PUBLIC_FORM, "indicators": len(pairs)})
        record(Action.CREATE, obj=incident, details={"source": Source.PUBLIC_FORM,
                                                     "indicators": len(pairs)})
        _notify_triage(incident)
    return incident


def import_email(raw: bytes, *, user=None, request=None) -> tuple[Incident, bool]:
    """One email message (an ``.eml`` file, or fetched from the mailbox) becomes an incident in
    the triage queue, with the indicators intel's extractor finds in its subject and body and
    its attachments (those within the size limit). A Message-ID already imported returns that
    incident with ``created`` False."""
    parsed = mailin.parse(raw)
    if parsed.message_id:
        existing = sharing_services.rows_for_operator(Incident).filter(
            source=Source.EMAIL, message_id=parsed.message_id).first()
        if existing is not None:
            if user is not None:
                # Found as the operator; answered only with what this user may see now (the
                # member it was assigned to may have narrowed it since).
                try:
                    return queries.incident(user, existing.pk), False
                except NotFound:
                    raise Conflict(_("This message was imported already.")) from None
            return existing, False
    title = _clean_title(parsed.subject or _("(no subject) from %(sender)s")
                         % {"sender": parsed.sender_email or _("unknown sender")})
    description = parsed.body[:MAX_DESCRIPTION]
    pairs = _extracted(f"{parsed.subject}\n{parsed.body}")
    try:
        reporter_email = parsed.sender_email
        validate_email(reporter_email)
    except ValidationError:
        reporter_email = ""
    with transaction.atomic():
        incident = _triage_incident(title=title, description=description, source=Source.EMAIL,
                                    reporter_name=parsed.sender_name,
                                    reporter_email=reporter_email, occurred_at=None,
                                    message_id=parsed.message_id)
        _store_indicators(incident, pairs)
        skipped = []
        for filename, content_type, payload in parsed.attachments:
            try:
                _attach(incident, filename=filename, content=payload,
                        content_type=content_type, actor_label=_("email"))
            except InvalidInput:
                skipped.append(_clean_filename(filename))
        _timeline(incident, TimelineKind.CREATED, actor_label=_("email"),
                  at=parsed.date if parsed.date and parsed.date < timezone.now() else None,
                  details={"source": Source.EMAIL, "from": parsed.sender_email,
                           "message_id": parsed.message_id, "indicators": len(pairs),
                           "attachments_skipped": skipped})
        record(Action.CREATE, user=user, request=request, obj=incident,
               details={"source": Source.EMAIL, "indicators": len(pairs)})
        _notify_triage(incident)
    return incident, True


def fetch_mail() -> list[Incident]:
    """New incidents from the mailbox of CERTHUB_MAILIN_URL (empty list when unset)."""
    mailbox = mailin.configured_mailbox()
    if mailbox is None:
        return []
    created = []
    for incident, is_new in mailin.fetch(mailbox, _import_fetched):
        if incident is not None and is_new:
            created.append(incident)
    return created


def _import_fetched(raw: bytes):
    try:
        return import_email(raw)
    except InvalidInput as exc:
        log.warning("mail-in: message skipped: %s", exc.message)
        return None, False
