"""Feed findings as a TAXII collection: each finding a STIX 2.1 indicator, built when served.

Findings are read only through ``certhub.feeds.queries.visible_findings`` (their one rule), then
narrowed to one organisation: the collection's, or the reader's own. A finding's id is an
indicator id that carries the finding's number, so ``match[id]`` and the object endpoints find
it again; its date added is when the finding was received.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils.translation import gettext as _

from certhub.core.errors import NotFound
from certhub.feeds.queries import visible_findings
from certhub.intel.plan import parse_timestamp, stix_timestamp
from certhub.sharing.tlp import STIX_MARKING_IDS, TLP

_ID_PREFIX = "indicator--f1d1c0de-0000-4000-8000-"
_HASHES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_SIMPLE = {"ipv4": "ipv4-addr", "ipv6": "ipv6-addr", "url": "url", "domain": "domain-name",
           "email": "email-addr"}
_MS = timedelta(milliseconds=1)


def stix_id(pk: int) -> str:
    return f"{_ID_PREFIX}{pk:012x}"


def finding_pk(object_id: str) -> int | None:
    if not object_id.startswith(_ID_PREFIX) or len(object_id) != len(_ID_PREFIX) + 12:
        return None
    try:
        return int(object_id[len(_ID_PREFIX):], 16)
    except ValueError:
        return None


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(value_type: str, value: str) -> str | None:
    if value_type in _SIMPLE:
        return f"[{_SIMPLE[value_type]}:value = {_quoted(value)}]"
    if value_type == "prefix":
        kind = "ipv6-addr" if ":" in value else "ipv4-addr"
        return f"[{kind}:value = {_quoted(value)}]"
    if value_type in _HASHES:
        return f"[file:hashes.'{_HASHES[value_type]}' = {_quoted(value.lower())}]"
    if value_type == "asn":
        number = value.upper().removeprefix("AS")
        return f"[autonomous-system:number = {int(number)}]" if number.isdigit() else None
    return None


def to_stix(finding) -> str:
    """The finding as a STIX 2.1 indicator (JSON text)."""
    moment = stix_timestamp(finding.created)
    indicator = {
        "type": "indicator", "spec_version": "2.1", "id": stix_id(finding.pk),
        "created": moment, "modified": moment,
        "name": f"{finding.type}: {finding.value}"[:250],
        "indicator_types": ["malicious-activity"],
        "pattern": pattern(finding.value_type, finding.value)
        or f"[x-certhub-finding:value = {_quoted(finding.value)}]",
        "pattern_type": "stix", "valid_from": moment,
        "labels": [label for label in (finding.taxonomy, finding.type) if label],
    }
    if finding.expires_at and finding.expires_at > finding.created:
        indicator["valid_until"] = stix_timestamp(finding.expires_at)
    if finding.tlp in STIX_MARKING_IDS:
        indicator["object_marking_refs"] = [STIX_MARKING_IDS[TLP(finding.tlp)]]
    return json.dumps(indicator, ensure_ascii=False, separators=(",", ":"))


def _rows(user, collection):
    findings = visible_findings(user)
    return findings.filter(organisation_id=collection.organisation_id or user.organisation_id)


def _filtered(user, collection, filters, object_id=None):
    rows = _rows(user, collection)
    if object_id is not None:
        pk = finding_pk(object_id)
        rows = rows.filter(pk=pk) if pk is not None else rows.none()
        if not rows.exists():
            raise NotFound(_("No such object."))
    if filters.types and "indicator" not in filters.types:
        return rows.none()
    if filters.spec_versions and "2.1" not in filters.spec_versions:
        return rows.none()
    if filters.ids:
        rows = rows.filter(pk__in=[pk for pk in map(finding_pk, filters.ids) if pk is not None])
    if filters.added_after:
        rows = rows.filter(created__gt=filters.added_after)
    moments = [parse_timestamp(v) for v in filters.versions
               if v not in ("first", "last", "all")]
    if moments and not {"first", "last", "all"} & set(filters.versions):
        query = Q(pk__in=[])
        for moment in moments:  # versions are given to the millisecond
            query |= Q(created__gte=moment, created__lt=moment + _MS)
        rows = rows.filter(query)
    if filters.after:
        created, pk = filters.after
        rows = rows.filter(TupleGreaterThan(Tuple(F("created"), F("id")), (created, pk)),
                           created__gte=created)
    return rows.order_by("created", "id")


def objects(user, collection, filters, *, object_id=None, page):
    rows = list(_filtered(user, collection, filters, object_id)[:filters.limit + 1])
    result = page([(f.created, f.pk, f) for f in rows], filters, user)
    result.rows = [(created, pk, to_stix(f)) for created, pk, f in result.rows]
    return result


def manifest(user, collection, filters, *, page):
    rows = _filtered(user, collection, filters).values_list("created", "id")
    result = page(list(rows[:filters.limit + 1]), filters, user)
    result.rows = [(created, pk, stix_id(pk), parse_timestamp(stix_timestamp(created)))
                   for created, pk in result.rows]
    return result


def versions(user, collection, object_id, filters, *, page):
    rows = _filtered(user, collection, filters, object_id).values_list("created", "id")
    result = page(list(rows[:filters.limit + 1]), filters, user)
    result.rows = [(created, pk, parse_timestamp(stix_timestamp(created)))
                   for created, pk in result.rows]
    return result
