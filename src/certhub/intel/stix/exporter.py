"""Reports -> one STIX 2.1 bundle that stix2-validator accepts with no errors.

The caller passes reports it obtained through ``visible_to``; this module only converts. Each
object is marked with its report's TLP 2.0 marking (any TLP marking it carried is replaced, so
what leaves says what certhub enforces); SDOs and SROs without a creator get the owner
organisation's identity. A report imported without a STIX ``report`` object gets one, and
observables entered outside STIX (MISP imports keep their indicators; hand-entered values may
not) become indicators with deterministic ids.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable

from certhub.sharing.tlp import RESTRICTIVENESS, STIX_MARKING_IDS, TLP, TLP2_EXTENSION_ID

from ..models import Observable, Report, StixObject
from ..plan import stix_timestamp
from . import markings, patterns

# SCOs and the meta objects carry no created_by_ref.
_NO_CREATOR = {"marking-definition", "extension-definition", "language-content", "artifact",
               "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
               "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic",
               "process", "software", "url", "user-account", "windows-registry-key",
               "x509-certificate"}
CHUNK = 1000
_INDICATOR_NAMESPACE = uuid.UUID("5a3d1f0e-8f1b-4a5b-9d0e-2c6b7e9a4f11")


def _mark(obj: dict, tlp: str, creator_id: str) -> dict:
    if obj["type"] in ("marking-definition", "extension-definition"):
        return obj
    kept = [ref for ref in obj.get("object_marking_refs", ())
            if ref not in markings.TLP_BY_MARKING_ID]
    obj["object_marking_refs"] = [STIX_MARKING_IDS[TLP(tlp)], *kept]
    if obj["type"] not in _NO_CREATOR and "created_by_ref" not in obj:
        obj["created_by_ref"] = creator_id
    return obj


def _report_object(report: Report, refs: list[str], creator_id: str) -> dict:
    created = stix_timestamp(report.created)
    obj = {"type": "report", "spec_version": "2.1", "id": report.stix_id, "created": created,
           "modified": stix_timestamp(report.modified), "name": report.title,
           "published": stix_timestamp(report.published or report.created),
           "report_types": ["threat-report"], "object_refs": refs or [creator_id],
           "created_by_ref": creator_id}
    if report.description:
        obj["description"] = report.description
    if report.labels:
        obj["labels"] = list(report.labels)
    if report.confidence is not None:
        obj["confidence"] = report.confidence
    return obj


def _indicator(report: Report, observable: Observable, creator_id: str) -> dict | None:
    pattern = patterns.pattern_for(observable.type, observable.value)
    if pattern is None:
        return None
    key = f"{report.stix_id}|{observable.type}|{observable.value}"
    moment = stix_timestamp(observable.first_seen or report.created)
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(_INDICATOR_NAMESPACE, key)}",
            "created": stix_timestamp(report.created), "modified": stix_timestamp(report.created),
            "name": f"{observable.get_type_display()}: {observable.value}",
            "indicator_types": ["malicious-activity"], "pattern": pattern,
            "pattern_type": "stix", "valid_from": moment, "created_by_ref": creator_id}


def report_objects(report: Report, stored_texts: list[str] | None = None,
                   loose: list[Observable] | None = None) -> list[dict]:
    """The report's STIX objects, marked, plus generated ones (report SDO, indicators).

    ``stored_texts`` and ``loose`` (its StixObject JSON, its detection observables outside
    STIX) may be passed in by a caller that fetched them for many reports at once.
    """
    creator_id = markings.organisation_identity_id(report.owner)
    if stored_texts is None:
        stored_texts = list(StixObject.objects.of_visible(report).order_by("added", "id")
                            .values_list("json", flat=True))
    if loose is None:
        loose = list(Observable.objects.of_visible(report)
                     .filter(stix_object__isnull=True, to_ids=True).order_by("id"))
    # TLP definitions are emitted once per bundle, from certhub's own copies.
    stored = [obj for obj in map(json.loads, stored_texts)
              if obj["id"] not in markings.TLP_BY_MARKING_ID and obj["id"] != TLP2_EXTENSION_ID]
    generated = {}
    for observable in loose:
        indicator = _indicator(report, observable, creator_id)
        if indicator:
            generated.setdefault(indicator["id"], indicator)
    objects = stored + list(generated.values())
    if not any(obj["type"] == "report" and obj["id"] == report.stix_id for obj in objects):
        refs = sorted({obj["id"] for obj in objects if obj["type"] != "marking-definition"})
        objects.append(_report_object(report, refs, creator_id))
    return [_mark(obj, report.tlp, creator_id) for obj in objects]


def _contents(reports: list[Report]) -> tuple[dict, dict]:
    """Stored JSON and loose detection observables of many reports, a few queries per chunk."""
    texts: dict[int, list[str]] = defaultdict(list)
    loose: dict[int, list[Observable]] = defaultdict(list)
    for start in range(0, len(reports), CHUNK):
        chunk = reports[start:start + CHUNK]
        rows = (StixObject.objects.of_visible_many(chunk).order_by("added", "id")
                .values_list("report_id", "json"))
        for report_id, text in rows.iterator(chunk_size=2000):
            texts[report_id].append(text)
        for observable in (Observable.objects.of_visible_many(chunk)
                           .filter(stix_object__isnull=True, to_ids=True).order_by("id")):
            loose[observable.report_id].append(observable)
    return texts, loose


def bundle(reports: Iterable[Report]) -> dict:
    """One bundle for ``reports`` (already filtered by visibility) with the TLP 2.0 definitions
    and the owners' identities. An object shared in two reports keeps the stricter marking."""
    chosen: dict[tuple[str, str | None], tuple[int, dict]] = {}
    tlps: set[str] = set()
    identities: dict[str, dict] = {}
    reports = list(reports)
    texts, loose = _contents(reports)
    for report in reports:
        rank = RESTRICTIVENESS[TLP(report.tlp)]
        tlps.add(report.tlp)
        identity = markings.organisation_identity(report.owner,
                                                  stix_timestamp(report.owner.created))
        identities.setdefault(identity["id"], identity)
        for obj in report_objects(report, texts[report.pk], loose[report.pk]):
            key = (obj["id"], obj.get("modified"))
            if key not in chosen or chosen[key][0] < rank:
                chosen[key] = (rank, obj)
    objects: list[dict] = [markings.tlp2_extension_definition()]
    objects += [markings.tlp2_marking_definition(tlp)
                for tlp in sorted(tlps, key=lambda label: RESTRICTIVENESS[TLP(label)])]
    present = {key[0] for key in chosen}
    objects += [identity for identity_id, identity in identities.items()
                if identity_id not in present]
    objects += [obj for _rank, obj in chosen.values()]
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
