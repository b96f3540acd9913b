"""MISP event JSON -> ImportPlan.

Design: MISP attributes are converted on the way in. An attribute flagged ``to_ids`` becomes a
STIX 2.1 indicator (id ``indicator--<attribute uuid>``, pattern built from its values), so STIX
and TAXII readers see MISP imports like any bundle; every attribute of an indexable type becomes
observables carrying its MISP type, category, uuid and object, so a MISP export gives the same
attributes back. What has no STIX or observable form (text and comment attributes, object
templates, galaxies, threat level, analysis) is kept in ``Report.misp``. Tags and galaxy
clusters become the report's labels; a ``tlp:*`` tag sets the report's TLP. Sightings of type 0
("seen") become one Sighting per attribute; false-positive and expiration sightings are not
sightings in STIX and are dropped.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput
from certhub.sharing.tlp import RESTRICTIVENESS, TLP, parse_tlp

from ..normalise import ObservableType, normalise_typed
from ..plan import ImportPlan, PlannedObject, PlannedObservable, PlannedSighting, dumps
from ..stix.patterns import pattern_for
from . import types

_SIGHTING_NAMESPACE = uuid.UUID("8d0f5a8e-61a4-4b8e-9a4b-3f0a2c7d5e19")


def _json(data):
    if isinstance(data, (bytes, str)):
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"not JSON: {exc}", field="event") from None
    return data


def events(data) -> list[dict]:
    """The event dicts of a single event document, a list of them, or a feed given as
    {file name: content} with ``manifest.json`` naming the event files."""
    data = _json(data)
    if isinstance(data, dict) and "Event" in data:
        return [data["Event"]]
    if isinstance(data, list):
        return [item["Event"] if isinstance(item, dict) and "Event" in item else item
                for item in data]
    if isinstance(data, dict) and "manifest.json" in data:
        manifest = _json(data["manifest.json"])
        if not isinstance(manifest, dict):
            raise InvalidInput("manifest.json is not a JSON object", field="manifest.json")
        found = []
        for event_uuid in manifest:
            name = f"{event_uuid}.json"
            if name not in data:
                raise InvalidInput(f"the feed's manifest names {name}, which is missing",
                                   field=name)
            document = _json(data[name])
            if not isinstance(document, dict) or "Event" not in document:
                raise InvalidInput(f'{name} is not a MISP event (no "Event")', field=name)
            found.append(document["Event"])
        return found
    raise InvalidInput('not a MISP event: expected {"Event": {...}} or a feed with '
                       "manifest.json", field="event")


MAX_FEED_BYTES = 500 * 1024 * 1024  # uncompressed; a zip that says more is refused unread


def feed_from_zip(data: bytes) -> dict[str, bytes]:
    """A MISP feed folder sent as a zip file -> {file name: content} for ``events``.

    ``manifest.json`` and the ``<uuid>.json`` event files may sit at the top of the archive or
    in one folder (as when zipping the feed directory); ``hashes.csv`` is not needed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InvalidInput(_("Not a zip file."), field="file") from None
    members = [info for info in archive.infolist()
               if not info.is_dir() and info.filename.lower().endswith(".json")]
    if sum(info.file_size for info in members) > MAX_FEED_BYTES:
        raise InvalidInput(_("The feed is too large once unpacked."), field="file")
    files = {}
    for info in members:
        name = info.filename.rsplit("/", 1)[-1]
        if name in files:
            raise InvalidInput(_("The zip holds %(name)s twice.") % {"name": name}, field=name)
        files[name] = archive.read(info)
    if "manifest.json" not in files:
        raise InvalidInput(_("The zip holds no manifest.json: not a MISP feed."), field="file")
    return files


def _moment(epoch) -> datetime | None:
    if epoch in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _uuid(value, where: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{where}: {value!r} is not a uuid", field=where) from None


def _normalised_part(kind: str, part: str) -> tuple[str, str] | None:
    candidates = ([ObservableType.IPV4, ObservableType.IPV6] if kind == types.IP else [kind])
    for candidate in candidates:
        try:
            return normalise_typed(candidate, part)
        except InvalidInput:
            continue
    return None


class _EventPlanner:
    def __init__(self, event: dict) -> None:
        if not isinstance(event, dict):
            raise InvalidInput("an event is not a JSON object", field="Event")
        self.event = event
        event_uuid = _uuid(event.get("uuid"), "Event.uuid")
        info = str(event.get("info") or "").strip()
        if not info:
            raise InvalidInput(f"event {event_uuid}: no info (title)", field="Event.info")
        self.plan = ImportPlan(stix_id=f"report--{event_uuid}", title=info)
        self.event_uuid = event_uuid

    def build(self) -> ImportPlan:
        event, plan = self.event, self.plan
        published = str(event.get("published", "")).lower() in ("true", "1")
        if published:
            plan.published = _moment(event.get("publish_timestamp")) or _moment(
                event.get("timestamp"))
        plan.misp = {
            "event": {key: event[key] for key in ("date", "threat_level_id", "analysis",
                                                  "timestamp", "publish_timestamp", "Orgc")
                      if key in event},
            "galaxies": event.get("Galaxy") or [],
            "objects": {}, "attributes": [],
        }
        self._tags(event.get("Tag") or [])
        for galaxy in plan.misp["galaxies"]:
            for cluster in galaxy.get("GalaxyCluster") or []:
                tag = cluster.get("tag_name") or (
                    f'misp-galaxy:{cluster.get("type", galaxy.get("type", ""))}='
                    f'"{cluster.get("value", "")}"')
                if tag not in plan.labels:
                    plan.labels.append(tag)
        for index, attribute in enumerate(event.get("Attribute") or []):
            self._attribute(attribute, f"Attribute {index}")
        for number, obj in enumerate(event.get("Object") or []):
            where = f"Object {number}"
            object_uuid = _uuid(obj.get("uuid"), f"{where}.uuid")
            plan.misp["objects"][str(object_uuid)] = {
                key: obj[key] for key in ("name", "meta-category", "description",
                                          "template_uuid", "template_version", "comment",
                                          "timestamp") if key in obj}
            for index, attribute in enumerate(obj.get("Attribute") or []):
                self._attribute(attribute, f"{where} Attribute {index}", object_uuid)
        return plan

    def _tags(self, tags: list) -> None:
        for tag in tags:
            name = str(tag.get("name", "") if isinstance(tag, dict) else tag).strip()
            if not name:
                continue
            if name.lower().startswith("tlp:"):
                try:
                    found = parse_tlp(name).value
                except ValueError:
                    continue
                current = self.plan.misp.get("tlp")
                if current is None or RESTRICTIVENESS[TLP(found)] > RESTRICTIVENESS[TLP(current)]:
                    self.plan.misp["tlp"] = found
            elif name not in self.plan.labels:
                self.plan.labels.append(name)

    def _attribute(self, attribute: dict, where: str, object_uuid: uuid.UUID | None = None):
        if not isinstance(attribute, dict) or not attribute.get("type") or "value" not in attribute:
            raise InvalidInput(f"event {self.event_uuid}, {where}: needs a type and a value",
                               field=where)
        misp_type, value = str(attribute["type"]), str(attribute["value"])
        attribute_uuid = _uuid(attribute.get("uuid") or uuid.uuid4(), f"{where}.uuid")
        parts = []
        for kind, part in types.split(misp_type, value):
            if kind is None:
                continue
            found = _normalised_part(kind, part)
            if found is None:
                parts = []
                break
            parts.append(found)
        if not parts:
            kept = {key: val for key, val in attribute.items() if key != "Sighting"}
            if object_uuid:
                kept["object_uuid"] = str(object_uuid)
            self.plan.misp["attributes"].append(kept)
            return
        to_ids = str(attribute.get("to_ids", "")).lower() in ("true", "1")
        moment = _moment(attribute.get("timestamp"))
        first_seen = _parse_iso(attribute.get("first_seen")) or moment
        last_seen = _parse_iso(attribute.get("last_seen")) or moment
        object_index = self._indicator(attribute_uuid, misp_type, value, parts, moment,
                                       attribute.get("comment", "")) if to_ids else None
        for position, (kind, canonical) in enumerate(parts):
            self.plan.observables.append(PlannedObservable(
                type=kind, value=canonical, object_index=object_index, to_ids=to_ids,
                first_seen=first_seen, last_seen=last_seen,
                comment=str(attribute.get("comment", "")), misp_type=misp_type,
                misp_value=value if value != canonical else "",
                misp_category=str(attribute.get("category", "")), misp_uuid=attribute_uuid,
                misp_part=position, misp_object_uuid=object_uuid,
                misp_object_relation=str(attribute.get("object_relation") or "")))
        self._sightings(attribute, attribute_uuid, parts[0])

    def _indicator(self, attribute_uuid, misp_type, value, parts, moment, comment) -> int | None:
        expressions = [pattern_for(kind, canonical) for kind, canonical in parts]
        expressions = [text for text in expressions if text]
        if not expressions:
            return None
        stamp = (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        indicator = {"type": "indicator", "spec_version": "2.1",
                     "id": f"indicator--{attribute_uuid}", "created": stamp, "modified": stamp,
                     "name": f"{misp_type}: {value}"[:500], "pattern": " AND ".join(expressions),
                     "pattern_type": "stix", "valid_from": stamp,
                     "indicator_types": ["malicious-activity"]}
        if comment:
            indicator["description"] = str(comment)
        created = datetime.fromisoformat(stamp)
        self.plan.objects.append(PlannedObject(
            stix_id=indicator["id"], type="indicator", json=dumps(indicator), created=created,
            modified=created, name=indicator["name"], pattern=indicator["pattern"],
            valid_from=created))
        return len(self.plan.objects) - 1

    def _sightings(self, attribute: dict, attribute_uuid: uuid.UUID, part) -> None:
        seen = [s for s in attribute.get("Sighting") or []
                if str(s.get("type", "0")) == "0" and _moment(s.get("date_sighting"))]
        if not seen:
            return
        moments = [_moment(s["date_sighting"]) for s in seen]
        sources = sorted({str(s.get("source") or (s.get("Organisation") or {}).get("name", ""))
                          for s in seen} - {""})
        self.plan.sightings.append(PlannedSighting(
            stix_id="sighting--" + str(uuid.uuid5(_SIGHTING_NAMESPACE,
                                                  f"{self.event_uuid}|{attribute_uuid}")),
            first_seen=min(moments), last_seen=max(moments), count=len(seen),
            observable_type=part[0], value=part[1],
            indicator_stix_id=f"indicator--{attribute_uuid}", source=", ".join(sources)))


def _parse_iso(text) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan(event: dict) -> ImportPlan:
    """One MISP event (the dict inside ``{"Event": ...}``) as an ImportPlan."""
    return _EventPlanner(event).build()
