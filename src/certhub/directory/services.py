"""Every write to the directory: organisations, their constituencies and points of contact.

Permissions:
- hub administrators create organisations and change every field of any organisation;
- organisation administrators change their own organisation's profile and RFC 2350 fields, and
  its constituency;
- contacts are shareable records: whoever may edit them under the sharing rule (a writing role
  in the owner organisation, and the record visible to them) creates, changes and deletes them;
  a contact the user cannot see is NotFound, never PermissionDenied.

``user=None`` acts for the command-line operator (import, loaddemo). Every write runs in one
transaction together with its audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certhub.sharing import services as sharing
from certhub.sharing.rules import user_may_write
from certhub.sharing.tlp import TLP

from . import normalise
from .models import ConstituencyEntry, ConstituencyKind, Contact, Organisation

# Fields only hub administrators set: they decide what an organisation *is* on the platform.
HUB_FIELDS = ("short_name", "slug", "kind", "country", "membership", "coordinator")
# Fields an organisation administrator keeps up to date for their own team.
PROFILE_FIELDS = ("name", "website", "established", "parent_body", "require_mfa",
                  "constituency_description", "services", "hours", "time_zone", "languages",
                  "reporting_instructions", "address", "rfc2350_url", "pgp_key")
ORGANISATION_FIELDS = HUB_FIELDS + PROFILE_FIELDS
CONTACT_FIELDS = ("role", "name", "email", "phone", "pgp_key", "availability", "is_example")


def _is_hub_admin(user) -> bool:
    return sharing.is_hub_admin(user)


def _administers(user, organisation: Organisation) -> bool:
    return user is None or bool(getattr(user, "administers", None)
                                and user.administers(organisation))


def _require_authenticated_writer(user) -> None:
    if user is not None and not user_may_write(user):
        raise PermissionDenied(_("Your role cannot change the directory."))


def full_clean(instance, *, exclude: Iterable[str] = ()) -> None:
    """Model validation, turned into InvalidInput naming the first bad field."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            message = errors[0].messages[0]
            raise InvalidInput(f"{field}: {message}", field=field) from None
        raise InvalidInput(exc.messages[0]) from None


def _invalidate_lookup() -> None:
    """Tell the responsibility lookup that constituencies changed (after commit)."""
    try:
        from certhub.directory.lookup import invalidate
    except ImportError:  # the lookup is optional for the directory; it rebuilds on demand anyway
        return
    transaction.on_commit(invalidate)


# --- Organisations ---------------------------------------------------------------------------

def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _slug_for(short_name: str) -> str:
    return slugify(short_name.replace("/", "-").replace(".", "-"))[:60]


def _apply_organisation_fields(org: Organisation, fields: dict[str, Any]) -> dict[str, list]:
    changes = {}
    for name, value in fields.items():
        if name not in ORGANISATION_FIELDS:
            raise InvalidInput(_("Unknown organisation field %(name)s.") % {"name": name},
                               field=name)
        value = _clean_text(value)
        if name == "country" and value:
            value = normalise.country(value)
        if name == "coordinator" and value is not None and not isinstance(value, Organisation):
            raise InvalidInput(_("The coordinator must be an organisation."), field=name)
        if name == "coordinator" and value is not None and org.pk and value.pk == org.pk:
            raise InvalidInput(_("An organisation cannot coordinate itself."), field=name)
        old = getattr(org, name)
        if old != value:
            changes[name] = [str(old) if old is not None else None,
                             str(value) if value is not None else None]
            setattr(org, name, value)
    return changes


def create_organisation(user, *, request=None, **fields) -> Organisation:
    """A new organisation (hub administrators only). ``short_name``, ``name`` and ``kind`` are
    required; the slug follows the short name unless given."""
    if not _is_hub_admin(user):
        raise PermissionDenied(_("Only hub administrators add organisations."))
    short_name = _clean_text(fields.get("short_name") or "")
    if not short_name:
        raise InvalidInput(_("An organisation needs a short name."), field="short_name")
    fields.setdefault("slug", _slug_for(short_name))
    with transaction.atomic():
        if Organisation.objects.filter(short_name__iexact=short_name).exists():
            raise Conflict(_("An organisation with the short name %(name)s exists.")
                           % {"name": short_name}, field="short_name")
        if Organisation.objects.filter(slug=fields["slug"]).exists():
            raise Conflict(_("An organisation with this URL name exists."), field="slug")
        org = Organisation()
        _apply_organisation_fields(org, fields)
        full_clean(org)
        try:
            org.save()
        except IntegrityError:
            raise Conflict(_("An organisation with this short name exists."),
                           field="short_name") from None
        record(Action.CREATE, user=user, request=request, obj=org,
               details={"kind": org.kind, "country": org.country})
    return org


def update_organisation(user, organisation: Organisation, *, request=None,
                        **fields) -> Organisation:
    """Change an organisation. Its administrators change the profile; hub administrators
    everything."""
    if not _administers(user, organisation):
        raise PermissionDenied(_("Only the organisation's administrators and hub administrators "
                                 "change this organisation."))
    restricted = [name for name in fields if name in HUB_FIELDS]
    if restricted and not _is_hub_admin(user):
        raise PermissionDenied(_("Only hub administrators change %(fields)s.")
                               % {"fields": ", ".join(restricted)}, field=restricted[0])
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=organisation.pk)
        new_short = _clean_text(fields.get("short_name"))
        if new_short and Organisation.objects.filter(short_name__iexact=new_short) \
                .exclude(pk=org.pk).exists():
            raise Conflict(_("An organisation with the short name %(name)s exists.")
                           % {"name": new_short}, field="short_name")
        changes = _apply_organisation_fields(org, fields)
        if changes:
            full_clean(org)
            org.save()
            record(Action.CHANGE, user=user, request=request, obj=org,
                   details={name: ("changed" if name == "pgp_key" else change)
                            for name, change in changes.items()})
    return org


# --- Constituency ----------------------------------------------------------------------------

def _constituency_kind(kind: str) -> str:
    kind = (kind or "").strip().lower()
    if kind not in ConstituencyKind.values:
        raise InvalidInput(_("Unknown constituency kind %(kind)s; use one of %(kinds)s.")
                           % {"kind": kind, "kinds": ", ".join(ConstituencyKind.values)},
                           field="kind")
    return kind


def add_constituency(user, organisation: Organisation, kind: str, value: str, *,
                     note: str = "", request=None) -> ConstituencyEntry:
    """Register something ``organisation`` is responsible for. The value is normalised
    (AS4788 → 4788, Example.CO.TH. → example.co.th); an existing entry is a Conflict."""
    if not _administers(user, organisation):
        raise PermissionDenied(_("Only the organisation's administrators and hub administrators "
                                 "change its constituency."))
    kind = _constituency_kind(kind)
    canonical = normalise.constituency_value(kind, str(value or ""))
    with transaction.atomic():
        if ConstituencyEntry.objects.filter(organisation=organisation, kind=kind,
                                            value=canonical).exists():
            raise Conflict(_("%(value)s is already in this constituency.")
                           % {"value": canonical}, field="value")
        entry = ConstituencyEntry(organisation=organisation, kind=kind, value=canonical,
                                  note=(note or "").strip())
        full_clean(entry)
        entry.save()
        record(Action.CREATE, user=user, request=request, obj=entry,
               details={"organisation": organisation.short_name, "kind": kind,
                        "value": canonical})
        _invalidate_lookup()
    return entry


def remove_constituency(user, organisation: Organisation, entry_id: int, *,
                        request=None) -> None:
    if not _administers(user, organisation):
        raise PermissionDenied(_("Only the organisation's administrators and hub administrators "
                                 "change its constituency."))
    with transaction.atomic():
        entry = ConstituencyEntry.objects.filter(organisation=organisation, pk=entry_id).first()
        if entry is None:
            raise NotFound()
        record(Action.DELETE, user=user, request=request, obj=entry,
               details={"organisation": organisation.short_name, "kind": entry.kind,
                        "value": entry.value})
        entry.delete()
        _invalidate_lookup()


# --- Points of contact -----------------------------------------------------------------------

def clean_phone(value: str) -> str:
    """Accept the usual separators ('+66 2 123-4567', '+66 (2) 1234567') and store E.164."""
    value = (value or "").strip()
    for separator in (" ", "-", ".", "(", ")", "\u00a0"):
        value = value.replace(separator, "")
    return value


def _apply_contact_fields(contact: Contact, fields: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for name, value in fields.items():
        if name not in CONTACT_FIELDS:
            raise InvalidInput(_("Unknown contact field %(name)s.") % {"name": name}, field=name)
        value = _clean_text(value)
        if name == "phone":
            value = clean_phone(value)
        if name in ("pgp_key", "email", "availability") and value is None:
            value = ""
        if getattr(contact, name) != value:
            # Field names only: hub administrators read the log but not others' contacts.
            changes[name] = "changed"
            setattr(contact, name, value)
    return changes


def users_by_email(emails: Iterable[str], *, field: str = "audience_users") -> list:
    """Named recipients by email; InvalidInput naming an unknown one."""
    wanted = [str(e).strip().lower() for e in emails if str(e).strip()]
    found = {u.email.lower(): u for u in
             get_user_model().objects.filter(email__in=wanted, is_active=True)}
    missing = [e for e in wanted if e not in found]
    if missing:
        raise InvalidInput(_("No user with the email %(email)s.") % {"email": missing[0]},
                           field=field)
    return list({found[e].pk: found[e] for e in wanted}.values())


def audience_from_names(*, groups: Iterable[str] | None = None, orgs: Iterable[str] | None = None,
                        users: Iterable[str] | None = None) -> dict[str, list | None]:
    """Sharing group slugs, organisation short names and user emails as objects; None stays
    None (keep the stored audience)."""
    return {
        "audience_groups": None if groups is None else sharing.groups_by_slug(groups),
        "audience_orgs": None if orgs is None else sharing.organisations_by_short_name(
            orgs, field="audience_orgs"),
        "audience_users": None if users is None else users_by_email(users),
    }


def _names(objects) -> list[str]:
    return sorted(str(obj) for obj in objects)


def create_contact(user, organisation: Organisation, *, tlp: str, audience_groups: Iterable = (),
                   audience_orgs: Iterable = (), audience_users: Iterable = (), request=None,
                   **fields) -> Contact:
    """A new point of contact of ``organisation``, shared under ``tlp`` with the audience.

    Users write contacts of their own organisation (the sharing rule's owner); the
    command-line operator writes any.
    """
    _require_authenticated_writer(user)
    if user is not None and user.organisation_id != organisation.pk:
        raise PermissionDenied(_("You can add points of contact to your own organisation only."))
    tlp = sharing.clean_tlp(tlp)
    groups, orgs, users = list(audience_groups), list(audience_orgs), list(audience_users)
    sharing.validate_audience(tlp, groups=groups, orgs=orgs, users=users)
    with transaction.atomic():
        contact = Contact(owner=organisation, tlp=tlp, created_by=user)
        _apply_contact_fields(contact, fields)
        full_clean(contact, exclude=["created_by"])
        contact.save()  # computes the PGP fingerprint
        sharing.set_audience(contact, tlp=tlp, groups=groups, orgs=orgs, users=users)
        record(Action.CREATE, user=user, request=request, obj=contact,
               details={"organisation": organisation.short_name, "role": contact.role,
                        "tlp": tlp, "audience_groups": _names(groups),
                        "audience_orgs": _names(orgs), "audience_users": _names(users)})
    return contact


def _editable_contact(user, contact_id: int) -> Contact:
    """The contact, locked, if ``user`` may edit it; NotFound if they cannot see it."""
    if user is None:
        found = sharing.rows_for_operator(Contact).filter(pk=contact_id).select_for_update() \
            .first()
    else:
        found = Contact.objects.editable_by(user).filter(pk=contact_id).select_for_update() \
            .first()
        if found is None and Contact.objects.visible_to(user).filter(pk=contact_id).exists():
            raise PermissionDenied(_("You may read this point of contact but not change it."))
    if found is None:
        raise NotFound()
    return found


def update_contact(user, contact_id: int, *, tlp: str | None = None,
                   audience_groups: Iterable | None = None,
                   audience_orgs: Iterable | None = None,
                   audience_users: Iterable | None = None, request=None, **fields) -> Contact:
    """Change a contact; audience lists given replace the stored ones, None keeps them."""
    _require_authenticated_writer(user)
    with transaction.atomic():
        # editable_by is re-checked here, inside the transaction, with the row locked.
        contact = _editable_contact(user, contact_id)
        changes = _apply_contact_fields(contact, fields)
        new_tlp = sharing.clean_tlp(tlp) if tlp is not None else contact.tlp
        groups = list(contact.audience_groups.all()) if audience_groups is None \
            else list(audience_groups)
        orgs = list(contact.audience_orgs.all()) if audience_orgs is None else list(audience_orgs)
        users = list(contact.audience_users.all()) if audience_users is None \
            else list(audience_users)
        sharing.validate_audience(new_tlp, groups=groups, orgs=orgs, users=users)
        if new_tlp != contact.tlp:
            changes["tlp"] = [contact.tlp, new_tlp]
            contact.tlp = new_tlp
        full_clean(contact, exclude=["created_by"])
        contact.save()
        for name, given in (("audience_groups", audience_groups), ("audience_orgs", audience_orgs),
                            ("audience_users", audience_users)):
            if given is not None:
                before = set(getattr(contact, name).all())
                after = set(given)
                if before != after:
                    changes[name] = _names(after)
        sharing.set_audience(contact, tlp=new_tlp, groups=groups, orgs=orgs, users=users)
        if changes:
            record(Action.CHANGE, user=user, request=request, obj=contact, details=changes)
    return contact


def record_opened(user, contacts: Iterable[Contact], *, request=None) -> None:
    """Audit that ``user`` opened TLP:RED contacts (the log names who read RED records)."""
    red = [contact for contact in contacts if contact.tlp == TLP.RED]
    if not red:
        return
    with transaction.atomic():
        for contact in red:
            record(Action.VIEW_RED, user=user, request=request, obj=contact)


def delete_contact(user, contact_id: int, *, request=None) -> None:
    _require_authenticated_writer(user)
    with transaction.atomic():
        contact = _editable_contact(user, contact_id)
        record(Action.DELETE, user=user, request=request, obj=contact,
               details={"organisation": contact.owner.short_name, "role": contact.role,
                        "tlp": contact.tlp})
        contact.delete()
