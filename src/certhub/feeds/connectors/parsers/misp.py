"""MISP feeds: a folder holding ``manifest.json`` and one ``<event uuid>.json`` per event.

This is the layout MISP's "feed" export writes and MISP instances fetch (CIRCL OSINT feed,
botvrij.eu). Events are read one file at a time, in manifest order (timestamp, then uuid).
Every attribute with an IDS flag and a routable type becomes a finding, attributes inside
MISP objects included. The position of a finding is its attribute number across the feed, so
a resumed run skips whole events cheaply. An event tagged with an RSIT machine tag
(``rsit:fraud="phishing"``) classifies its findings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..events import ASN, DOMAIN, EMAIL, IPV4, IPV6, MD5, PREFIX, SHA1, SHA256, SHA512, URL, Event
from ..params import Param
from .base import Item, Parser, asn_or_none, bad, clip, parse_time, port_or_none

_TYPES = {"ip-src": IPV4, "ip-dst": IPV4, "domain": DOMAIN, "hostname": DOMAIN, "url": URL,
          "uri": URL, "link": None, "email-src": EMAIL, "email-dst": EMAIL, "md5": MD5,
          "sha1": SHA1, "sha256": SHA256, "sha512": SHA512, "AS": ASN}
_PAIRS = {"ip-src|port": IPV4, "ip-dst|port": IPV4, "domain|ip": DOMAIN,
          "hostname|port": DOMAIN, "filename|md5": MD5, "filename|sha1": SHA1,
          "filename|sha256": SHA256, "filename|sha512": SHA512}
_RSIT_TAG = re.compile(r'\Arsit:(?P<taxonomy>[a-z-]+)="(?P<type>[a-z-]+)"\Z')


class MispFeed(Parser):
    name = "misp-feed"
    label = gettext_lazy("MISP feed (manifest.json and event files)")
    input_kind = "folder"
    classification = ("other", "undetermined")
    params = (Param("ids_only", bool, True,
                    help=gettext_lazy("Only attributes flagged for detection (to_ids).")),)

    def items(self, path: Path, start: int = 0) -> Iterator[Item]:
        manifest_path = path / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            yield bad(1, "", _("cannot read manifest.json: %(reason)s") % {"reason": exc})
            return
        if not isinstance(manifest, dict):
            yield bad(1, "", _("manifest.json is not a JSON object"))
            return
        order = sorted(manifest, key=lambda uuid: (str((manifest[uuid] or {}).get(
            "timestamp", "")), uuid))
        counted = {uuid: int((manifest[uuid] or {}).get("attribute_count") or 0) or None
                   for uuid in order}
        position = 0
        for uuid in order:
            # Skip whole events before the resume point when the manifest tells their size.
            if counted[uuid] is not None and position + counted[uuid] <= start:
                position += counted[uuid]
                continue
            if not re.fullmatch(r"[0-9a-fA-F-]{36}", uuid):
                position += 1
                if position > start:
                    yield bad(position, uuid, _("manifest entry %(uuid)s is not an event uuid")
                              % {"uuid": uuid})
                continue
            try:
                document = json.loads((path / f"{uuid}.json").read_text(encoding="utf-8"))
                event = document["Event"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                position += counted[uuid] or 1
                if position > start:
                    yield bad(position, uuid, _("cannot read event %(uuid)s: %(reason)s")
                              % {"uuid": uuid, "reason": exc})
                continue
            attributes = list(event.get("Attribute") or [])
            for misp_object in event.get("Object") or []:
                attributes += misp_object.get("Attribute") or []
            taxonomy, kind = _rsit(event.get("Tag") or [])
            base = {"misp_event": uuid, "event_info": str(event.get("info", ""))[:200]}
            for attribute in attributes:
                position += 1
                if position <= start:
                    continue
                item = self._finding(position, attribute, base, taxonomy, kind)
                if item is not None:
                    yield item
            # Keep positions in step with the manifest's count when it is larger.
            if counted[uuid] is not None and counted[uuid] > len(attributes):
                position += counted[uuid] - len(attributes)

    def _finding(self, position: int, attribute: dict, base: dict, taxonomy: str, kind: str
                 ) -> Item | None:
        if not isinstance(attribute, dict):
            return bad(position, "", _("an attribute is not a JSON object"))
        if attribute.get("deleted") or (self.options["ids_only"] and not attribute.get("to_ids")):
            return None
        misp_type = attribute.get("type", "")
        raw = clip(json.dumps(attribute, ensure_ascii=False))
        value = str(attribute.get("value", "")).strip()
        port = None
        if misp_type in _PAIRS:
            value_type = _PAIRS[misp_type]
            left, _bar, right = value.partition("|")
            try:
                if misp_type.endswith("|port"):
                    value, port = left, port_or_none(right)
                elif misp_type == "domain|ip":
                    value = left
                else:
                    value = right
            except ValueError:
                return bad(position, raw, _("%(value)r is not a value|port pair")
                           % {"value": value})
        elif _TYPES.get(misp_type):
            value_type = _TYPES[misp_type]
        else:
            return None  # text, comments, file names...: context, not findings
        if value_type == IPV4 and ":" in value:
            value_type = PREFIX if "/" in value else IPV6
        elif value_type == IPV4 and "/" in value:
            value_type = PREFIX
        if value_type == ASN:
            try:
                value = f"AS{asn_or_none(value)}"
            except ValueError:
                return bad(position, raw, _("%(value)r is not an AS number") % {"value": value})
        try:
            observed = parse_time(str(attribute.get("timestamp") or ""))
        except ValueError:
            observed = None
        extra = dict(base, misp_type=misp_type, category=attribute.get("category", ""))
        if attribute.get("comment"):
            extra["comment"] = str(attribute["comment"])[:200]
        return Event(position, raw, value, value_type, port=port, observed=observed,
                     taxonomy=taxonomy, type=kind, extra=extra)


def _rsit(tags: list) -> tuple[str, str]:
    for tag in tags:
        name = tag.get("name", "") if isinstance(tag, dict) else ""
        found = _RSIT_TAG.match(name)
        if found:
            return found.group("taxonomy"), found.group("type")
    return "", ""
