"""The shared steps of every incident write: permission checks inside the transaction,
timeline entries, text and choice cleaning, admitting an organisation to the audience, who is
told, attachments on disk. Used by services, coordination and intake; not called from outside
the app.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput, PermissionDenied
from certhub.directory.models import Organisation, OrganisationKind
from certhub.directory.normalise import country as normalise_country
from certhub.feeds import classification
from certhub.intel import normalise as intel_normalise
from certhub.sharing.rules import user_may_write
from certhub.sharing.tlp import TLP

from . import queries, storage
from .models import (
    Attachment,
    Incident,
    Indicator,
    TimelineEntry,
    TimelineKind,
)

MAX_TITLE = 300
MAX_DESCRIPTION = 50_000
MAX_COMMENT = 20_000
MAX_INDICATORS = 2_000


# --- helpers ---------------------------------------------------------------------------------

def _require_writer(user) -> None:
    if not user_may_write(user):
        raise PermissionDenied(_("Your role cannot change incidents."))


def _editable(user, incident_id: int) -> Incident:
    """The incident, locked, if the user may change it; 404 if invisible, 403 if only visible."""
    found = Incident.objects.editable_by(user).select_for_update().filter(pk=incident_id).first()
    if found is None:
        queries.incident(user, incident_id)  # NotFound when not even visible
        raise PermissionDenied(_("Only the owner organisation's writers can change this "
                                 "incident."))
    return found


def _label(incident: Incident) -> str:
    return f"incident #{incident.pk} ({incident.get_tlp_display()})"


def _timeline(incident: Incident, kind: str, *, user=None, actor_label: str = "", text: str = "",
              details: dict | None = None, at: dt.datetime | None = None) -> TimelineEntry:
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return TimelineEntry.unrestricted.create(
        incident=incident, kind=kind, at=at or timezone.now(),
        actor=user if authenticated else None,
        actor_label=actor_label or (str(user) if authenticated else ""),
        text=text, details=details or {})


def _clean_text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field=field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": limit}, field=field)
    if "\x00" in value:
        raise InvalidInput(_("The text contains a NUL character."), field=field)
    return value


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise InvalidInput(_("An incident needs a title."), field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(_("The title is longer than %(n)d characters.") % {"n": MAX_TITLE},
                           field="title")
    return title


def _clean_choice(value: str, choices, field: str) -> str:
    value = (value or "").strip().lower()
    if value not in choices.values:
        raise InvalidInput(_("%(value)s is not one of: %(choices)s.")
                           % {"value": value or "''", "choices": ", ".join(choices.values)},
                           field=field)
    return value


def _clean_countries(codes: Iterable[str]) -> list[str]:
    cleaned = []
    for code in codes or ():
        if not str(code).strip():
            continue
        try:
            value = normalise_country(str(code))
        except InvalidInput:
            raise InvalidInput(_("%(code)s is not an ISO 3166-1 alpha-2 country code.")
                               % {"code": code}, field="countries") from None
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def _clean_classification(taxonomy: str, kind: str) -> tuple[str, str]:
    return classification.normalise(taxonomy or None, kind or None)


def _clean_indicators(pairs: Iterable) -> list[tuple[str, str]]:
    """(type, value) pairs, or bare values whose type is detected; normalised like intel."""
    found: list[tuple[str, str]] = []
    for index, pair in enumerate(pairs or ()):
        kind, value = pair if isinstance(pair, tuple | list) else ("", pair)
        try:
            result = (intel_normalise.normalise_typed(kind, str(value)) if kind
                      else intel_normalise.detect(str(value)))
        except InvalidInput as exc:
            raise InvalidInput(f"indicator {index + 1}: {exc.message}",
                               field=f"indicators[{index}]") from None
        if result not in found:
            found.append(result)
    if len(found) > MAX_INDICATORS:
        raise InvalidInput(_("At most %(n)d indicators at once.") % {"n": MAX_INDICATORS},
                           field="indicators")
    return found


def _store_indicators(incident: Incident, pairs: list[tuple[str, str]],
                      observable_ids: dict | None = None) -> list[Indicator]:
    existing = set(Indicator.unrestricted.filter(incident=incident)
                   .values_list("type", "value"))
    new = [Indicator(incident=incident, type=kind, value=value,
                     observable_id=(observable_ids or {}).get((kind, value)))
           for kind, value in pairs if (kind, value) not in existing]
    Indicator.unrestricted.bulk_create(new)
    return new


def hub_organisation() -> Organisation:
    """The regional hub, which owns reports waiting in triage."""
    hub = Organisation.objects.filter(kind=OrganisationKind.REGIONAL_HUB).order_by("pk").first()
    if hub is None:
        raise InvalidInput(_("No regional hub organisation is registered to receive reports."),
                           field="organisation")
    return hub


def _admit(incident: Incident, organisation: Organisation) -> bool:
    """Make sure ``organisation``'s users may see ``incident``: add it to the audience where
    the label has an organisation audience. Returns whether the audience changed.

    - TLP:CLEAR, and TLP:GREEN with no named audience, already reach every member: nothing to
      add (adding would *narrow* a GREEN record to the named audience).
    - TLP:GREEN with a named audience, AMBER and AMBER+STRICT: the organisation joins
      ``audience_orgs``.
    - TLP:RED goes to named people only: one of the organisation's users must already be a
      named recipient, otherwise InvalidInput asks the owner to name one.
    """
    if organisation.pk == incident.owner_id:
        return False
    if incident.tlp == TLP.CLEAR:
        return False
    if incident.tlp == TLP.RED:
        if not incident.audience_users.filter(organisation=organisation).exists():
            raise InvalidInput(_("This incident is TLP:RED: first name a person of %(org)s as a "
                                 "recipient, or choose TLP:AMBER+STRICT.")
                               % {"org": organisation.short_name}, field="audience_users")
        return False
    if incident.tlp == TLP.GREEN and not (incident.audience_orgs.exists()
                                          or incident.audience_groups.exists()):
        return False
    if incident.audience_orgs.filter(pk=organisation.pk).exists():
        return False
    incident.audience_orgs.add(organisation)
    return True


def _url(incident: Incident) -> str:
    return f"/incidents/{incident.pk}/"



def _recipients(incident: Incident, organisations) -> dict:
    """notify() recipients for content about ``incident``: the organisations that may see it
    now (being involved once is not enough: the owner may since have narrowed the audience or
    the label), or, for TLP:RED, only the named recipients among them."""
    organisations = [org for org in organisations if org is not None]
    if incident.tlp == TLP.RED:
        ids = {org.pk for org in organisations}
        return {"users": [u for u in incident.audience_users.all()
                          if u.organisation_id in ids and u.is_active]}
    return {"organisations": [org for org in organisations if _organisation_sees(incident, org)]}


def _organisation_sees(incident: Incident, organisation: Organisation) -> bool:
    """Below RED the sharing rule reaches whole organisations, so one active member answers
    for all of them (asked through the rule, never decided here)."""
    member = organisation.users.filter(is_active=True).order_by("pk").first()
    return member is not None and \
        Incident.objects.visible_to(member).filter(pk=incident.pk).exists()



def _add_involved(incident: Incident, organisation: Organisation, *, user) -> bool:
    if incident.involved_orgs.filter(pk=organisation.pk).exists():
        return False
    _admit(incident, organisation)
    incident.involved_orgs.add(organisation)
    _timeline(incident, TimelineKind.CHANGE, user=user,
              details={"involved_added": organisation.short_name})
    return True



# --- attachments ------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]+@]", re.UNICODE)


def _clean_filename(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    name = _UNSAFE_NAME.sub("_", name)[:200]
    return name or "attachment.bin"


def _attach(incident: Incident, *, filename: str, content, content_type: str, user=None,
            actor_label: str = "") -> Attachment:
    sha, size = storage.store(content)
    filename = _clean_filename(filename)
    content_type = (content_type or mimetypes.guess_type(filename)[0]
                    or "application/octet-stream")[:100]
    attachment = Attachment.unrestricted.create(
        incident=incident, filename=filename, content_type=content_type, size=size, sha256=sha,
        uploaded_by=user if getattr(user, "is_authenticated", False) else None)
    _timeline(incident, TimelineKind.ATTACHMENT, user=user, actor_label=actor_label,
              text=filename, details={"attachment": attachment.pk, "size": size, "sha256": sha})
    return attachment


