"""Directory import and export, as JSON (everything) or CSV (organisations and constituencies).

JSON format (UTF-8)::

    {
      "format": "certhub-directory/1",                  optional on import
      "organisations": [
        {
          "short_name": "ThaiCERT",                      required; the matching key on import
          "name": "Thailand Computer Emergency Response Team",
          "kind": "national_cert",                       regional_hub | national_cert |
                                                         government | partner_cert |
                                                         private_sector | academia |
                                                         international
          "country": "TH",                               ISO 3166-1 alpha-2, or ""
          "membership": "member",                        member | dialogue_partner | observer
          "coordinator": "ThaiCERT",                     short name of the coordinating CERT
          "website": "https://...", "established": "2019", "parent_body": "...",
          "require_mfa": false,
          RFC 2350 fields: "constituency_description", "services", "hours", "time_zone",
            "languages", "reporting_instructions", "address", "rfc2350_url", "pgp_key",
          "pgp_fingerprint": "...",                      written on export, ignored on import
          "constituency": {
            "countries": ["TH"], "asns": [4788, "AS7470"], "prefixes": ["192.0.2.0/24"],
            "domains": ["th"]                            each item a value, or
          },                                             {"value": ..., "note": ...}
          "contacts": [
            {"role": "incident_reports",                 emergency_24x7 | incident_reports |
                                                         policy | technical | cybercrime_24x7
             "name": "Incident reports",                 a function or a person
             "email": "...", "phone": "+6621234567",     E.164
             "pgp_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----...",
             "tlp": "clear",                             clear | green | amber | amber+strict | red
             "audience_groups": ["asean-national-certs"],  sharing group slugs
             "audience_orgs": ["MyCERT"],                short names
             "audience_users": ["someone@example.org"],  emails, TLP:RED only
             "availability": "24/7", "is_example": true}
          ]
        }
      ],
      "sharing_groups": [                                optional
        {"slug": "asean-national-certs", "name": "ASEAN national CERTs", "description": "...",
         "managed_by": "ASEAN Regional CERT", "members": ["BruCERT", "..."]}
      ]
    }

CSV format: one row per organisation, a header row naming the columns of ``CSV_COLUMNS`` (any
subset that includes ``short_name``). The constituency is in four cells, ``countries``, ``asns``,
``prefixes`` and ``domains``, each a space-separated list (notes are not carried). Contacts are
not in the CSV: they carry TLP labels and audiences that a spreadsheet would flatten; move them
with the JSON format.

Import rules: organisations are matched by short name (case-insensitively) and created or
updated; constituency entries, sharing groups and contacts (matched by role and name within
their organisation) are added or updated; nothing is ever deleted, so importing the same file
twice changes nothing the second time. The whole import is one transaction: the first bad row
stops it with an error naming the row (the organisation's position, counting from 1; for CSV
the data row, and the file line) and the field, and nothing is stored. Only hub administrators
and the command-line operator import.

Export writes what the caller can see: every organisation and constituency (public), the
contacts visible to the caller under the sharing rule and, for signed-in callers, the sharing
groups.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import CerthubError, InvalidInput, PermissionDenied
from certhub.sharing import queries as sharing_queries
from certhub.sharing import services as sharing
from certhub.sharing.models import SharingGroup

from . import normalise, queries, services
from .models import ConstituencyEntry, ConstituencyKind, Contact, Organisation

FORMAT_NAME = "certhub-directory/1"
ORG_FIELDS = ("short_name", "name", "kind", "country", "membership", "coordinator", "website",
              "established", "parent_body", "require_mfa", "constituency_description",
              "services", "hours", "time_zone", "languages", "reporting_instructions",
              "address", "rfc2350_url", "pgp_key")
# JSON list name → constituency kind.
CONSTITUENCY_LISTS = {"countries": ConstituencyKind.COUNTRY, "asns": ConstituencyKind.ASN,
                      "prefixes": ConstituencyKind.PREFIX, "domains": ConstituencyKind.DOMAIN}
CONTACT_FIELDS = ("role", "name", "email", "phone", "pgp_key", "tlp", "availability",
                  "is_example")
CSV_COLUMNS = (*ORG_FIELDS, *CONSTITUENCY_LISTS)
# Keys an organisation object may have; the fingerprints are derived, written for readers.
ORG_KEYS = frozenset((*ORG_FIELDS, "pgp_fingerprint", "constituency", "contacts"))
CONTACT_KEYS = frozenset((*CONTACT_FIELDS, "pgp_fingerprint", "audience_groups",
                          "audience_orgs", "audience_users"))
FORMATS = ("json", "csv")


class ImportRowError(InvalidInput):
    """A bad row: says which one and which field, so the file can be fixed."""

    def __init__(self, where: str, field: str | None, reason: str):
        self.where, self.reason = where, reason
        label = _("field")  # outside the f-string, where makemessages can find it
        text = f"{where}, {label} {field}: {reason}" if field else f"{where}: {reason}"
        super().__init__(text, field=field)


# --- Export -----------------------------------------------------------------------------------

def _constituency_json(entries) -> dict[str, list]:
    lists: dict[str, list] = {name: [] for name in CONSTITUENCY_LISTS}
    by_kind = {kind: name for name, kind in CONSTITUENCY_LISTS.items()}
    for entry in entries:
        value: Any = int(entry.value) if entry.kind == ConstituencyKind.ASN else entry.value
        lists[by_kind[entry.kind]].append({"value": value, "note": entry.note} if entry.note
                                          else value)
    return lists


def _contact_json(contact: Contact) -> dict[str, Any]:
    data = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    data["pgp_fingerprint"] = contact.pgp_fingerprint
    data["audience_groups"] = sorted(g.slug for g in contact.audience_groups.all())
    data["audience_orgs"] = sorted(o.short_name for o in contact.audience_orgs.all())
    data["audience_users"] = sorted(u.email for u in contact.audience_users.all())
    return data


def export_data(user) -> dict[str, Any]:
    """The directory as ``user`` may see it, in the JSON import format."""
    orgs = list(queries.organisations(user).prefetch_related("constituency"))
    contacts_by_owner = defaultdict(list)
    for contact in queries.contacts(user).prefetch_related("audience_groups", "audience_orgs",
                                                            "audience_users"):
        contacts_by_owner[contact.owner_id].append(contact)
    organisations = []
    for org in orgs:
        data = {name: getattr(org, name) for name in ORG_FIELDS if name != "coordinator"}
        data["coordinator"] = org.coordinator.short_name if org.coordinator else ""
        data["pgp_fingerprint"] = org.pgp_fingerprint
        data["constituency"] = _constituency_json(
            sorted(org.constituency.all(), key=lambda e: (e.kind, e.value)))
        data["contacts"] = [_contact_json(c) for c in sorted(
            contacts_by_owner[org.pk], key=lambda c: (c.role, c.name, c.pk))]
        organisations.append(data)
    groups = [{"slug": g.slug, "name": g.name, "description": g.description,
               "managed_by": g.managed_by.short_name,
               "members": [o.short_name for o in g.members.all()]}
              for g in sharing_queries.groups(user)]
    return {"format": FORMAT_NAME, "organisations": organisations, "sharing_groups": groups}


def _csv_cell(items: list) -> str:
    return " ".join(str(item["value"] if isinstance(item, dict) else item) for item in items)


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for org in data["organisations"]:
        row = {name: org.get(name, "") for name in ORG_FIELDS}
        row["require_mfa"] = "yes" if org.get("require_mfa") else "no"
        for name in CONSTITUENCY_LISTS:
            row[name] = _csv_cell(org["constituency"][name])
        writer.writerow(row)
    return out.getvalue()


def export_directory(user, *, fmt: str = "json", request=None) -> tuple[str, str, str]:
    """(content, content type, file name) of an export, recorded in the audit log."""
    if fmt not in FORMATS:
        raise InvalidInput(_("Unknown export format %(format)s; use json or csv.")
                           % {"format": fmt}, field="format")
    data = export_data(user)
    record(Action.EXPORT, user=user, request=request, object_type="directory.directory",
           object_repr="directory export",
           details={"format": fmt, "organisations": len(data["organisations"]),
                    "contacts": sum(len(o["contacts"]) for o in data["organisations"])})
    if fmt == "csv":
        return to_csv(data), "text/csv; charset=utf-8", "certhub-directory.csv"
    content = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return content, "application/json", "certhub-directory.json"


# --- Parsing ----------------------------------------------------------------------------------

@dataclass
class ImportRow:
    where: str            # "row 3 (ThaiCERT)" – how errors name it
    data: dict[str, Any]  # one organisation in the JSON shape
    fields: tuple[str, ...]  # the organisation fields the row sets


def _csv_list(cell: str) -> list[str]:
    return [item for item in (cell or "").replace(",", " ").split() if item]


def _csv_bool(value: str, where: str) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "no", "false", "0", "n"):
        return False
    if text in ("yes", "true", "1", "y"):
        return True
    raise ImportRowError(where, "require_mfa", _("write yes or no"))


def parse(content: str | bytes, fmt: str | None = None) -> tuple[list[ImportRow], list[dict]]:
    """The organisation rows and sharing groups of an import file. ``fmt`` None guesses from
    the first character."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_("The file is not UTF-8 text.")) from None
    if fmt is None:
        fmt = "json" if content.lstrip().startswith(("{", "[")) else "csv"
    if fmt == "json":
        return _parse_json(content)
    if fmt == "csv":
        return _parse_csv(content), []
    raise InvalidInput(_("Unknown import format %(format)s; use json or csv.") % {"format": fmt},
                       field="format")


def _where(index: int, data: Any, extra: str = "") -> str:
    name = data.get("short_name") if isinstance(data, dict) else None
    return f"row {index}{extra}" + (f" ({name})" if name else "")


def _parse_json(content: str) -> tuple[list[ImportRow], list[dict]]:
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise InvalidInput(_("Not valid JSON: %(reason)s (line %(line)s).")
                           % {"reason": exc.msg, "line": exc.lineno}) from None
    if not isinstance(document, dict) or not isinstance(document.get("organisations"), list):
        raise InvalidInput(_('Expected a JSON object with an "organisations" list.'))
    rows = []
    for index, data in enumerate(document["organisations"], start=1):
        if not isinstance(data, dict):
            raise ImportRowError(_where(index, data), None, _("expected an object"))
        unknown = [key for key in data if key not in ORG_KEYS]
        if unknown:
            raise ImportRowError(_where(index, data), unknown[0], _("unknown field"))
        fields = tuple(name for name in ORG_FIELDS if name in data)
        rows.append(ImportRow(_where(index, data), data, fields))
    groups = document.get("sharing_groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise InvalidInput(_('"sharing_groups" must be a list of objects.'),
                           field="sharing_groups")
    return rows, groups


def _parse_csv(content: str) -> list[ImportRow]:
    reader = csv.DictReader(io.StringIO(content))
    header = reader.fieldnames or []
    if "short_name" not in header:
        raise InvalidInput(_("The CSV header must name a short_name column; columns are: "
                             "%(columns)s.") % {"columns": ", ".join(CSV_COLUMNS)})
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(_("Unknown CSV column %(name)s.") % {"name": unknown[0]},
                           field=unknown[0])
    rows = []
    for index, raw in enumerate(reader, start=1):
        extra = f", line {reader.line_num}"
        if None in raw:
            raise ImportRowError(_where(index, raw, extra), None,
                                 _("more cells than the header has columns"))
        where = _where(index, raw, extra)
        data: dict[str, Any] = {name: (raw[name] or "") for name in ORG_FIELDS if name in raw}
        if "require_mfa" in data:
            data["require_mfa"] = _csv_bool(data["require_mfa"], where)
        data["constituency"] = {name: _csv_list(raw.get(name, "")) for name in CONSTITUENCY_LISTS}
        rows.append(ImportRow(where, data, tuple(name for name in ORG_FIELDS if name in raw)))
    return rows


# --- Import -----------------------------------------------------------------------------------

@dataclass
class ImportResult:
    organisations_created: int = 0
    organisations_updated: int = 0
    constituency_added: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    groups_created: int = 0
    groups_updated: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def import_directory(content: str | bytes, *, user=None, fmt: str | None = None, request=None,
                     progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import a JSON or CSV file (see the module docstring). All or nothing."""
    if not sharing.is_hub_admin(user):
        raise PermissionDenied(_("Only hub administrators import the directory."))
    rows, groups = parse(content, fmt)
    result = ImportResult()
    with transaction.atomic():
        organisations = _import_organisations(rows, result, progress)
        _import_coordinators(rows, organisations)
        _import_groups(groups, result, user)
        for row in rows:
            org = organisations[row.data["short_name"].strip().lower()]
            _import_constituency(row, org, result)
            _import_contacts(row, org, user, result)
        if any(result.as_dict().values()):  # re-importing the same file writes nothing
            record(Action.CREATE, user=user, request=request, object_type="directory.import",
                   object_repr="directory import", details=result.as_dict())
        if result.constituency_added:
            services._invalidate_lookup()
    return result


def _row_error(row: ImportRow, exc: CerthubError, prefix: str = "") -> ImportRowError:
    field = f"{prefix}{exc.field}" if exc.field else (prefix.rstrip(".") or None)
    reason = exc.message
    if exc.field and reason.startswith(f"{exc.field}: "):
        reason = reason[len(exc.field) + 2:]
    return ImportRowError(row.where, field, reason)


def _import_organisations(rows, result, progress) -> dict[str, Organisation]:
    seen: dict[str, Organisation] = {}
    for row in rows:
        short_name = str(row.data.get("short_name") or "").strip()
        if not short_name:
            raise ImportRowError(row.where, "short_name", _("a short name is required"))
        if short_name.lower() in seen:
            raise ImportRowError(row.where, "short_name",
                                 _("%(name)s appears twice in the file") % {"name": short_name})
        fields = {name: _text_or_bool(row.data[name]) for name in row.fields
                  if name not in ("short_name", "coordinator")}
        org = Organisation.objects.filter(short_name__iexact=short_name).first()
        try:
            if org is None:
                org = Organisation(short_name=short_name, slug=_free_slug(short_name))
                changes = services._apply_organisation_fields(org, fields)
                services.full_clean(org, exclude=["coordinator"])
                org.save()
                result.organisations_created += 1
            else:
                changes = services._apply_organisation_fields(org, fields)
                if changes:
                    services.full_clean(org, exclude=["coordinator"])
                    org.save()
                    result.organisations_updated += 1
        except CerthubError as exc:
            raise _row_error(row, exc) from None
        seen[short_name.lower()] = org
        if progress:
            progress(1)
    return seen


def _text_or_bool(value: Any) -> Any:
    if value is None:
        return ""
    return value if isinstance(value, bool) else str(value)


def _free_slug(short_name: str) -> str:
    base = services._slug_for(short_name) or "organisation"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base[:55]}-{n}", n + 1
    return slug


def _import_coordinators(rows, organisations) -> None:
    for row in rows:
        if "coordinator" not in row.fields:
            continue
        org = organisations[row.data["short_name"].strip().lower()]
        name = str(row.data.get("coordinator") or "").strip()
        coordinator = None
        if name:
            coordinator = organisations.get(name.lower()) or Organisation.objects.filter(
                short_name__iexact=name).first()
            if coordinator is None:
                raise ImportRowError(row.where, "coordinator",
                                     _("unknown organisation %(name)s") % {"name": name})
            if coordinator.pk == org.pk:
                raise ImportRowError(row.where, "coordinator",
                                     _("an organisation cannot coordinate itself"))
        if org.coordinator_id != (coordinator.pk if coordinator else None):
            org.coordinator = coordinator
            org.save(update_fields=["coordinator", "modified"])


def _import_groups(groups: list[dict], result: ImportResult, user) -> None:
    for index, data in enumerate(groups, start=1):
        where = f"sharing group {index}" + (f" ({data.get('name')})" if data.get("name") else "")
        try:
            managed_by = sharing.organisations_by_short_name([data.get("managed_by") or ""],
                                                             field="managed_by")
            if not managed_by:
                raise InvalidInput(_("name the managing organisation"), field="managed_by")
            members = sharing.organisations_by_short_name(data.get("members") or [])
            slug = str(data.get("slug") or "").strip()
            group = SharingGroup.objects.filter(slug=slug).first() if slug else None
            if group is None:
                sharing.create_group(user, name=str(data.get("name") or ""), slug=slug,
                                     description=str(data.get("description") or ""),
                                     managed_by=managed_by[0], members=members)
                result.groups_created += 1
                continue
            changed = (group.name != data.get("name", group.name)
                       or group.description != data.get("description", group.description)
                       or group.managed_by_id != managed_by[0].pk
                       or {o.pk for o in group.members.all()} != {o.pk for o in members})
            if changed:
                sharing.update_group(user, group, name=data.get("name"),
                                     description=data.get("description"),
                                     managed_by=managed_by[0])
                sharing.set_members(user, group, members)
                result.groups_updated += 1
        except CerthubError as exc:
            raise ImportRowError(where, exc.field, exc.message) from None


def _constituency_items(row: ImportRow):
    lists = row.data.get("constituency") or {}
    if not isinstance(lists, dict):
        raise ImportRowError(row.where, "constituency", _("expected an object of lists"))
    for name, items in lists.items():
        if name not in CONSTITUENCY_LISTS:
            raise ImportRowError(row.where, f"constituency.{name}",
                                 _("unknown list; use countries, asns, prefixes or domains"))
        if not isinstance(items, list):
            raise ImportRowError(row.where, f"constituency.{name}", _("expected a list"))
        for position, item in enumerate(items, start=1):
            value, note = (item.get("value"), item.get("note") or "") if isinstance(item, dict) \
                else (item, "")
            yield f"constituency.{name}[{position}]", CONSTITUENCY_LISTS[name], str(value), note


def _import_constituency(row: ImportRow, org: Organisation, result: ImportResult) -> None:
    for field, kind, value, note in _constituency_items(row):
        try:
            canonical = normalise.constituency_value(kind, value)
        except CerthubError as exc:
            raise ImportRowError(row.where, field, exc.message) from None
        entry, created = ConstituencyEntry.objects.get_or_create(
            organisation=org, kind=kind, value=canonical, defaults={"note": str(note)[:255]})
        if created:
            result.constituency_added += 1
        elif note and entry.note != note:
            entry.note = str(note)[:255]
            entry.save(update_fields=["note", "modified"])


def _import_contacts(row: ImportRow, org: Organisation, user, result: ImportResult) -> None:
    contacts = row.data.get("contacts") or []
    if not isinstance(contacts, list):
        raise ImportRowError(row.where, "contacts", _("expected a list"))
    existing = {(c.role, c.name.strip().lower()): c
                for c in sharing.rows_owned_by(Contact, org)}
    for position, data in enumerate(contacts, start=1):
        prefix = f"contacts[{position}]."
        if not isinstance(data, dict):
            raise ImportRowError(row.where, prefix.rstrip("."), _("expected an object"))
        try:
            _import_contact(data, org, user, existing, result)
        except CerthubError as exc:
            raise _row_error(row, exc, prefix) from None


def _import_contact(data, org, user, existing, result) -> None:
    unknown = [key for key in data if key not in CONTACT_KEYS]
    if unknown:
        raise InvalidInput(_("unknown field"), field=unknown[0])
    fields = {name: _text_or_bool(data[name]) for name in CONTACT_FIELDS
              if name in data and name != "tlp"}
    tlp = sharing.clean_tlp(data.get("tlp") or "amber")
    groups = sharing.groups_by_slug(data.get("audience_groups") or [])
    orgs = sharing.organisations_by_short_name(data.get("audience_orgs") or [],
                                               field="audience_orgs")
    users = services.users_by_email(data.get("audience_users") or [])
    sharing.validate_audience(tlp, groups=groups, orgs=orgs, users=users)
    key = (str(fields.get("role", "")).strip(), str(fields.get("name", "")).strip().lower())
    contact = existing.get(key)
    if contact is None:
        contact = Contact(owner=org, tlp=tlp, created_by=user)
        services._apply_contact_fields(contact, fields)
        services.full_clean(contact, exclude=["created_by"])
        contact.save()
        sharing.set_audience(contact, tlp=tlp, groups=groups, orgs=orgs, users=users)
        existing[key] = contact
        result.contacts_created += 1
        return
    if user is not None and not Contact.objects.editable_by(user).filter(pk=contact.pk).exists():
        # An import through the API acts as its user: another organisation's contact stays as
        # its owner set it (no relabelling a RED contact CLEAR by import). Only the command-line
        # operator (user=None) updates every organisation's contacts.
        return
    changes = services._apply_contact_fields(contact, fields)
    audience_changed = (
        {g.pk for g in contact.audience_groups.all()} != {g.pk for g in groups}
        or {o.pk for o in contact.audience_orgs.all()} != {o.pk for o in orgs}
        or {u.pk for u in contact.audience_users.all()} != {u.pk for u in users})
    if changes or contact.tlp != tlp or audience_changed:
        contact.tlp = tlp
        services.full_clean(contact, exclude=["created_by"])
        contact.save()
        sharing.set_audience(contact, tlp=tlp, groups=groups, orgs=orgs, users=users)
        result.contacts_updated += 1
