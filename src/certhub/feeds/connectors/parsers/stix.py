"""STIX 2.1 bundles: each indicator with a STIX pattern becomes one finding per simple value.

Comparisons ``=`` and ``IN`` on ipv4-addr/ipv6-addr/domain-name/url/email-addr values and on
file hashes become findings (parsed with the OASIS ``stix2-patterns`` grammar, never with
regular expressions). An indicator yielding nothing routable is reported as an error with its
position, not dropped. Positions are object numbers in the bundle (1-based); other object types
are not findings and are passed over. A bundle is one JSON document, read whole: TAXII pages
and MISP-exported bundles are small; large streams come as many bundles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..events import DOMAIN, EMAIL, IPV4, IPV6, MD5, PREFIX, SHA1, SHA256, SHA512, URL, Event
from .base import Item, Parser, bad, clip, parse_time

_OBJECTS = {"ipv4-addr": IPV4, "ipv6-addr": IPV6, "domain-name": DOMAIN, "url": URL,
            "email-addr": EMAIL}
_HASHES = {"MD5": MD5, "SHA-1": SHA1, "SHA1": SHA1, "SHA-256": SHA256, "SHA256": SHA256,
           "SHA-512": SHA512, "SHA512": SHA512}


def pattern_values(pattern: str) -> list[tuple[str, str]]:
    """(value type, value) of every simple comparison in a STIX pattern; ValueError if the
    pattern is not valid STIX 2.1."""
    from stix2patterns.pattern import ParseException, Pattern

    try:
        comparisons = Pattern(pattern).inspect().comparisons
    except ParseException as exc:
        raise ValueError(str(exc)) from None
    found = []
    for object_type, tests in comparisons.items():
        for path, operator, literal in tests:
            kind = None
            if object_type in _OBJECTS and path == ["value"]:
                kind = _OBJECTS[object_type]
            elif object_type == "file" and len(path) == 2 and path[0] == "hashes":
                kind = _HASHES.get(str(path[1]).upper())
            if kind is None or operator not in ("=", "IN"):
                continue
            for value in _literals(literal):
                found.append((PREFIX if kind in (IPV4, IPV6) and "/" in value else kind,
                              value))
    return found


def _literals(literal: str) -> list[str]:
    literal = literal.strip()
    if literal.startswith("("):
        inner = literal[1:-1]
        parts, current, quoted, index = [], [], False, 0
        while index < len(inner):
            char = inner[index]
            if char == "'" and quoted and inner[index + 1:index + 2] == "'":
                current.append("'")
                index += 2
                continue
            if char == "'":
                quoted = not quoted
            elif char == "," and not quoted:
                parts.append("".join(current))
                current = []
            else:
                current.append(char)
            index += 1
        parts.append("".join(current))
        return [part.strip() for part in parts if part.strip()]
    if literal.startswith("'") and literal.endswith("'"):
        return [literal[1:-1].replace("\\'", "'")]
    return []


class StixBundle(Parser):
    name = "stix2-bundle"
    label = gettext_lazy("STIX 2.1 bundle (indicators with STIX patterns)")
    classification = ("other", "undetermined")

    def items(self, path: Path, start: int = 0) -> Iterator[Item]:
        with self.open_text(path) as handle:
            try:
                bundle = json.load(handle)
            except json.JSONDecodeError as exc:
                yield bad(exc.lineno, "", _("not JSON: %(reason)s") % {"reason": exc.msg})
                return
        if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
            yield bad(1, "", _("the document is not a STIX bundle"))
            return
        for number, stix_object in enumerate(bundle.get("objects") or [], 1):
            if number <= start:
                continue
            if not isinstance(stix_object, dict) or stix_object.get("type") != "indicator":
                continue
            raw = clip(json.dumps(stix_object, ensure_ascii=False))
            if stix_object.get("pattern_type", "stix") != "stix":
                yield bad(number, raw, _("pattern type %(type)s is not supported")
                          % {"type": stix_object.get("pattern_type")})
                continue
            try:
                values = pattern_values(str(stix_object.get("pattern", "")))
                observed = parse_time(str(stix_object.get("valid_from") or ""))
            except ValueError as exc:
                yield bad(number, raw, _("invalid indicator: %(reason)s")
                          % {"reason": str(exc)[:300]})
                continue
            if not values:
                yield bad(number, raw, _("the pattern has no simple value to route"))
                continue
            extra = {"stix_id": stix_object.get("id"), "name": stix_object.get("name"),
                     "indicator_types": stix_object.get("indicator_types")}
            extra = {key: value for key, value in extra.items() if value}
            for kind, value in values:
                yield Event(number, raw, value, kind, observed=observed, extra=extra)
