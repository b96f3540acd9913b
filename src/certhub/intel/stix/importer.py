"""STIX 2.1 bundle -> ImportPlan: validated object by object, nothing stored here.

One bundle becomes one certhub Report (the unit of sharing: owner, TLP and audience are the
importer's choice; the TLP is raised to the strictest TLP marking found in the bundle). If the
bundle holds exactly one STIX ``report`` object, the Report takes its id, name, description,
published, labels and confidence; otherwise it gets a new report id. A title given by the caller
wins. Every object, the ``report`` included, is stored as a versioned StixObject; observables
are indexed from the newest non-revoked version of each indicator (pattern) and SCO.

Each object is checked by stix2-validator's rules (the OASIS validator: schemas, vocabularies,
patterns) and the stix2 library's (strict: custom properties and objects are refused unless
``allow_custom``); ``validation`` applies them fast to the common shapes. A bad object rejects
the whole bundle; the error names its index and id.
"""

from __future__ import annotations

import json
import uuid

from certhub.core.errors import InvalidInput

from ..plan import (
    ImportPlan,
    PlannedObject,
    PlannedObservable,
    PlannedSighting,
    dumps,
    parse_timestamp,
)
from . import patterns, validation
from .markings import TLP_BY_MARKING_ID
from .validation import Checked

MAX_ERRORS_SHOWN = 10
STREAM_CHUNK = 2000  # objects handed to a sink at once


def load(data: bytes | str | dict) -> dict:
    """The bundle as a dict; InvalidInput if it is not JSON or not a STIX bundle."""
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"not JSON: {exc}", field="bundle") from None
    if not isinstance(data, dict) or data.get("type") != "bundle":
        raise InvalidInput('not a STIX bundle (expected an object with "type": "bundle")',
                           field="bundle")
    objects = data.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InvalidInput("the bundle holds no objects", field="bundle.objects")
    return data


def _object_errors(index: int, obj, allow_custom: bool) -> tuple[list[str], Checked | None]:
    label = f"object {index}"
    if not isinstance(obj, dict):
        return [f"{label}: not a JSON object"], None
    if not isinstance(obj.get("type"), str) or not isinstance(obj.get("id"), str):
        return [f"{label}: needs a type and an id"], None
    try:
        return [], validation.check(obj, allow_custom=allow_custom)
    except InvalidInput as exc:
        return [f"{label} ({obj['id']}): {exc.message}"], None


def validate(objects: list, *, allow_custom: bool = False) -> list[Checked]:
    """What each object's check found; InvalidInput naming each bad object (index and id), the
    first few in full."""
    errors: list[str] = []
    bad: list[int] = []
    checked: list[Checked] = []
    seen: dict[tuple[str, str | None], int] = {}
    for index, obj in enumerate(objects):
        found, result = _object_errors(index, obj, allow_custom)
        if not found:
            key = (obj["id"], obj.get("modified"))
            if key in seen and objects[seen[key]] != obj:
                found = [f"object {index} ({obj['id']}): a different object {seen[key]} has the "
                         "same id and modified time"]
            seen.setdefault(key, index)
        if found:
            bad.append(index)
            errors.extend(found)
        checked.append(result)
    if errors:
        _reject(errors, bad)
    return checked


def _reject(errors: list[str], bad: list[int]):
    shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
    more = len(errors) - MAX_ERRORS_SHOWN
    message = (f"{len(bad)} invalid object(s), nothing imported: {shown}"
               + (f" (and {more} more)" if more > 0 else ""))
    raise InvalidInput(message, field=f"objects[{bad[0]}]", code="invalid_stix")


def _validated(raw: list, allow_custom: bool, sink) -> tuple[list[dict], list[Checked],
                                                              list[PlannedObject]]:
    """``validate`` and de-duplication in one pass: the distinct objects (exact duplicates,
    same id, modified and content, kept once), their checks and PlannedObjects. While no
    object has failed, PlannedObjects are handed to ``sink`` in chunks as they are made, so
    the caller can store them while the rest is checked; any failure still raises the same
    InvalidInput, naming every bad object, once all are checked."""
    errors: list[str] = []
    bad: list[int] = []
    seen: dict[tuple[str, str | None], int] = {}
    objects: list[dict] = []
    checks: list[Checked] = []
    planned: list[PlannedObject] = []
    pending: list[PlannedObject] = []
    for index, obj in enumerate(raw):
        found, result = _object_errors(index, obj, allow_custom)
        if not found:
            key = (obj["id"], obj.get("modified"))
            first = seen.get(key)
            if first is None:
                seen[key] = index
            elif raw[first] == obj:
                continue  # an exact duplicate: stored once
            else:
                found = [f"object {index} ({obj['id']}): a different object {first} has the "
                         "same id and modified time"]
        if found:
            bad.append(index)
            errors.extend(found)
            continue
        objects.append(obj)
        checks.append(result)
        planned.append(_planned(obj, result))
        if sink is not None and not errors:
            pending.append(planned[-1])
            if len(pending) >= STREAM_CHUNK:
                sink(pending)
                pending = []
    if errors:
        _reject(errors, bad)
    if pending:
        sink(pending)
    return objects, checks, planned


def _planned(obj: dict, checked: Checked) -> PlannedObject:
    moments = checked.moments
    if moments is None:  # the full validator does not hand back its parse
        moments = {key: parse_timestamp(obj.get(key))
                   for key in ("created", "modified", "valid_from", "valid_until")}
    return PlannedObject(
        stix_id=obj["id"], type=obj["type"], json=dumps(obj),
        created=moments.get("created"), modified=moments.get("modified"),
        revoked=bool(obj.get("revoked", False)), name=str(obj.get("name", "")),
        pattern=obj.get("pattern", "") if obj.get("pattern_type", "stix") == "stix" else "",
        valid_from=moments.get("valid_from"), valid_until=moments.get("valid_until"),
    )


def _latest_versions(objects: list[dict]) -> dict[str, int]:
    """id -> index of its newest version in the bundle."""
    latest: dict[str, int] = {}
    for index, obj in enumerate(objects):
        current = latest.get(obj["id"])
        if current is None or obj.get("modified", "") >= objects[current].get("modified", ""):
            latest[obj["id"]] = index
    return latest


def plan(bundle: dict, *, title: str = "", allow_custom: bool = False,
         sink=None) -> ImportPlan:
    """Validate ``bundle`` (from ``load``) and turn it into an ImportPlan.

    ``sink``, if given, receives the plan's objects (``ImportPlan.objects``, in order) in
    chunks while later ones are still being checked; see ``plan.object_stream``."""
    objects, checks, planned = _validated(bundle["objects"], allow_custom, sink)

    reports = [obj for obj in objects if obj["type"] == "report"]
    head = reports[0] if len(reports) == 1 else None
    result = ImportPlan(
        stix_id=head["id"] if head else f"report--{uuid.uuid4()}",
        title=(head or {}).get("name") or title or f"STIX bundle {bundle.get('id', '')}".strip(),
        description=(head or {}).get("description", ""),
        published=parse_timestamp((head or {}).get("published")),
        labels=list((head or {}).get("labels", [])),
        confidence=(head or {}).get("confidence"),
    )
    if title:
        result.title = title
    result.objects = planned
    latest = _latest_versions(objects)
    indicator_values: dict[str, tuple[str, str]] = {}
    for index, obj in enumerate(objects):
        for marking in obj.get("object_marking_refs", ()):
            if marking in TLP_BY_MARKING_ID:
                result.tlp_found.add(TLP_BY_MARKING_ID[marking])
        if latest[obj["id"]] != index or obj.get("revoked"):
            continue
        _plan_observables(result, index, obj, checks[index], indicator_values)
    names = {obj["id"]: obj.get("name", "") for obj in objects if obj["type"] == "identity"}
    for index, obj in enumerate(objects):
        if obj["type"] == "sighting" and latest[obj["id"]] == index:
            result.sightings.append(_sighting(obj, indicator_values, names))
    return result


def _plan_observables(result: ImportPlan, index: int, obj: dict, checked: Checked,
                      indicator_values: dict[str, tuple[str, str]]) -> None:
    if obj["type"] == "indicator" and obj.get("pattern_type") == "stix":
        if checked.values is not None:  # the check parsed the pattern already
            found, rejected = checked.values, checked.rejected or []
        else:
            rejected = []
            found = list(patterns.values_in_pattern(obj["pattern"], rejected))
        result.skipped_values += len(rejected)
        first_seen = parse_timestamp(obj.get("valid_from"))
        last_seen = parse_timestamp(obj.get("valid_until"))
        to_ids = True
    else:
        found = list(patterns.values_in_object(obj))
        first_seen = last_seen = None
        to_ids = False
    seen: set[tuple[str, str]] = set()
    for kind, value in found:
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        result.observables.append(PlannedObservable(
            type=kind, value=value, object_index=index, to_ids=to_ids,
            first_seen=first_seen, last_seen=last_seen))
    if found and obj["type"] == "indicator":
        indicator_values[obj["id"]] = found[0]


def _sighting(obj: dict, indicator_values: dict[str, tuple[str, str]],
              identity_names: dict[str, str]) -> PlannedSighting:
    """Sightings of an indicator also record its first value, so value lookups count them."""
    kind, value = indicator_values.get(obj["sighting_of_ref"], ("", ""))
    where = [identity_names.get(ref) or ref for ref in obj.get("where_sighted_refs", ())]
    first = parse_timestamp(obj.get("first_seen")) or parse_timestamp(obj["created"])
    last = parse_timestamp(obj.get("last_seen")) or first
    return PlannedSighting(stix_id=obj["id"], first_seen=first, last_seen=last,
                           count=int(obj.get("count", 1)), observable_type=kind, value=value,
                           indicator_stix_id=obj["sighting_of_ref"], source=", ".join(where))
