"""A report -> MISP event JSON (``{"Event": ...}``) that PyMISP's MISPEvent loads.

Observables imported from MISP give back their attribute (type, category, original value,
uuid, object); others get the usual MISP type for their kind. Attributes MISP had that index
no observable, object templates and galaxies come back from ``Report.misp``. The report's TLP
becomes the event's ``tlp:*`` tag. The caller has checked visibility.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

from certhub.sharing.tlp import TLP

from ..models import Observable, Report
from . import types

_ORG_NAMESPACE = uuid.UUID("0b7d3c52-1c6e-4f55-9a57-5d7f4b0f2a61")
_ATTRIBUTE_NAMESPACE = uuid.UUID("3e1b8f2c-7d4a-4c59-8e61-0a9b5c3d2f47")


def organisation_uuid(organisation) -> str:
    return str(uuid.uuid5(_ORG_NAMESPACE, f"organisation:{organisation.slug}"))


def _epoch(moment) -> str:
    return str(int(moment.timestamp()))


def _attribute(report: Report, rows: list[Observable]) -> dict:
    first = rows[0]
    misp_type, category = first.misp_type, first.misp_category
    if not misp_type:
        misp_type, category = types.DEFAULT_ATTRIBUTE[first.type]
    value = first.misp_value or first.value
    key = f"{report.stix_id}|{first.type}|{first.value}"
    attribute = {
        "uuid": str(first.misp_uuid or uuid.uuid5(_ATTRIBUTE_NAMESPACE, key)),
        "type": misp_type, "category": category or types.DEFAULT_ATTRIBUTE[first.type][1],
        "value": value, "to_ids": first.to_ids, "comment": first.comment,
        "timestamp": _epoch(first.first_seen or report.modified), "distribution": "5",
        "disable_correlation": False,
    }
    if first.misp_object_relation:
        attribute["object_relation"] = first.misp_object_relation
    return attribute


def event(report: Report) -> dict:
    """The report as ``{"Event": {...}}``."""
    misp = report.misp or {}
    stored_event = misp.get("event", {})
    owner = report.owner
    groups: OrderedDict[object, list[Observable]] = OrderedDict()
    for row in Observable.objects.of_visible(report).order_by("id"):
        groups.setdefault(row.misp_uuid or ("observable", row.pk), []).append(row)
    attributes, objects = [], OrderedDict()
    for rows in groups.values():
        attribute = _attribute(report, sorted(rows, key=lambda r: r.misp_part))
        object_uuid = rows[0].misp_object_uuid
        if object_uuid:
            objects.setdefault(str(object_uuid), []).append(attribute)
        else:
            attributes.append(attribute)
    for kept in misp.get("attributes", []):
        kept = dict(kept)
        object_uuid = kept.pop("object_uuid", None)
        if object_uuid:
            objects.setdefault(object_uuid, []).append(kept)
        else:
            attributes.append(kept)
    event_uuid = report.stix_id.split("--", 1)[1]
    tags = [{"name": f"tlp:{TLP(report.tlp).value}"}]
    galaxy_tags = {cluster.get("tag_name") for galaxy in misp.get("galaxies", [])
                   for cluster in galaxy.get("GalaxyCluster") or []}
    tags += [{"name": label} for label in report.labels if label not in galaxy_tags]
    document = {
        "uuid": event_uuid, "info": report.title,
        "date": stored_event.get("date") or report.created.date().isoformat(),
        "threat_level_id": str(stored_event.get("threat_level_id", "4")),
        "analysis": str(stored_event.get("analysis", "0")),
        "published": report.published is not None,
        "timestamp": _epoch(report.modified), "distribution": "0",
        "Orgc": {"name": owner.name, "uuid": organisation_uuid(owner)},
        "Tag": tags,
        "Galaxy": misp.get("galaxies", []),
        "Attribute": attributes,
        "Object": [
            {**misp.get("objects", {}).get(object_uuid, {"name": "certhub-object",
                                                         "meta-category": "misc"}),
             "uuid": object_uuid, "distribution": "5", "Attribute": object_attributes}
            for object_uuid, object_attributes in objects.items()
        ],
    }
    if report.published is not None:
        document["publish_timestamp"] = _epoch(report.published)
    if report.description:
        document["Attribute"].append({
            "uuid": str(uuid.uuid5(_ATTRIBUTE_NAMESPACE, f"{report.stix_id}|description")),
            "type": "text", "category": "Internal reference", "value": report.description,
            "to_ids": False, "comment": "certhub report description",
            "timestamp": _epoch(report.modified), "distribution": "5"})
    return {"Event": document}
