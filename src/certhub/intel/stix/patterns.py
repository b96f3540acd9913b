"""Observable values in STIX: read out of indicator patterns (with the OASIS pattern parser) and
cyber-observable objects, and written into patterns for export."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stix2patterns.exceptions import ParseException
from stix2patterns.v21.pattern import Pattern

from certhub.core.errors import InvalidInput

from ..normalise import ObservableType, normalise_typed

T = ObservableType

# STIX hash algorithm names (hashing-algorithm-ov), compared without case or dashes.
HASH_KEYS = {"md5": T.MD5, "sha1": T.SHA1, "sha256": T.SHA256, "sha512": T.SHA512,
             "ssdeep": T.SSDEEP}
STIX_HASH_NAMES = {T.MD5: "MD5", T.SHA1: "SHA-1", T.SHA256: "SHA-256", T.SHA512: "SHA-512",
                   T.SSDEEP: "SSDEEP"}

# (object type, property path) -> observable kind; paths as tuples without list indexes.
PATH_KINDS: dict[tuple[str, tuple[str, ...]], str] = {
    ("ipv4-addr", ("value",)): T.IPV4,
    ("ipv6-addr", ("value",)): T.IPV6,
    ("domain-name", ("value",)): T.DOMAIN,
    ("url", ("value",)): T.URL,
    ("email-addr", ("value",)): T.EMAIL,
    ("email-message", ("from_ref", "value")): T.EMAIL,
    ("email-message", ("sender_ref", "value")): T.EMAIL,
    ("email-message", ("to_refs", "value")): T.EMAIL,
    ("email-message", ("cc_refs", "value")): T.EMAIL,
    ("file", ("name",)): T.FILE_NAME,
    ("autonomous-system", ("number",)): T.ASN,
    ("mutex", ("name",)): T.MUTEX,
    ("windows-registry-key", ("key",)): T.REGISTRY_KEY,
    ("mac-addr", ("value",)): T.MAC,
}
# Paths whose value may be an address or a name: the value decides.
_ADDRESS_PATHS = {("network-traffic", ("dst_ref", "value")),
                  ("network-traffic", ("src_ref", "value"))}
_HASHED_TYPES = {"file", "artifact", "x509-certificate"}
_STRING = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _literal_values(operator: str, literal: str) -> list[str]:
    """The constants a comparison tests for equality with: one for '=', all for 'IN'."""
    if operator in ("=", "ISSUBSET"):
        found = _STRING.fullmatch(literal.strip())
        if found:
            return [_unescape(found.group(1))]
        return [literal.strip()] if re.fullmatch(r"-?\d+", literal.strip()) else []
    if operator == "IN":
        return [_unescape(text) for text in _STRING.findall(literal)]
    return []


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _kind_for(object_type: str, path: list) -> str | None:
    steps = tuple(step for step in path if isinstance(step, str))
    if len(steps) == 2 and steps[0] == "hashes" and object_type in _HASHED_TYPES:
        return HASH_KEYS.get(steps[1].lower().replace("-", "").replace("_", ""))
    if (object_type, steps) in _ADDRESS_PATHS:
        return "address"
    return PATH_KINDS.get((object_type, steps))


def _normalised(kind: str, value: str) -> tuple[str, str] | None:
    candidates = [T.IPV4, T.IPV6, T.DOMAIN] if kind == "address" else [kind]
    for candidate in candidates:
        try:
            return normalise_typed(candidate, value)
        except InvalidInput:
            continue
    return None


def parse_pattern(pattern: str) -> Pattern:
    """The parsed pattern; InvalidInput naming the parser's complaint if it is not STIX."""
    try:
        return Pattern(pattern)
    except ParseException as exc:
        raise InvalidInput(f"invalid STIX pattern: {exc}", field="pattern") from None


def values_in_pattern(pattern: str | Pattern,
                      rejected: list[str] | None = None) -> Iterator[tuple[str, str]]:
    """(kind, value) for every '=' / 'IN' (and ISSUBSET prefix) test on a value-bearing path.

    Negated tests, LIKE and MATCHES name no concrete value and are skipped; so are constants
    that do not normalise (a pattern may legally test for a malformed value): those are
    appended to ``rejected`` when given.
    """
    parsed = parse_pattern(pattern) if isinstance(pattern, str) else pattern
    for object_type, comparisons in parsed.inspect().comparisons.items():
        for path, operator, literal in comparisons:
            kind = _kind_for(object_type, path)
            if kind is None:
                continue
            if operator == "ISSUBSET" and kind not in (T.IPV4, T.IPV6):
                continue
            for value in _literal_values(operator, literal):
                found = _normalised(kind, value)
                if found:
                    yield found
                elif rejected is not None:
                    rejected.append(value)


def values_in_object(obj: dict) -> Iterator[tuple[str, str]]:
    """(kind, value) held by a cyber-observable object, or a vulnerability's CVE id."""
    object_type = obj.get("type")
    if object_type == "vulnerability":
        names = [obj.get("name", "")] + [ref.get("external_id", "")
                                         for ref in obj.get("external_references", ())
                                         if ref.get("source_name", "").lower() == "cve"]
        for name in names:
            found = _normalised(T.CVE, name) if name else None
            if found:
                yield found
                return
        return
    for (sco_type, path), kind in PATH_KINDS.items():
        if sco_type == object_type and len(path) == 1 and path[0] in obj:
            found = _normalised(kind, str(obj[path[0]]))
            if found:
                yield found
    if object_type in _HASHED_TYPES:
        for algorithm, digest in (obj.get("hashes") or {}).items():
            kind = HASH_KEYS.get(algorithm.lower().replace("-", "").replace("_", ""))
            found = _normalised(kind, digest) if kind else None
            if found:
                yield found


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(kind: str, value: str) -> str | None:
    """A STIX pattern matching one observable, or None for kinds STIX patterns cannot test."""
    if kind in STIX_HASH_NAMES:
        return f"[file:hashes.{_quote(STIX_HASH_NAMES[kind])} = {_quote(value)}]"
    simple = {T.IPV4: "ipv4-addr:value", T.IPV6: "ipv6-addr:value",
              T.DOMAIN: "domain-name:value", T.HOSTNAME: "domain-name:value",
              T.URL: "url:value", T.EMAIL: "email-addr:value", T.FILE_NAME: "file:name",
              T.MUTEX: "mutex:name", T.REGISTRY_KEY: "windows-registry-key:key",
              T.MAC: "mac-addr:value"}
    if kind == T.PREFIX:
        path = "ipv6-addr:value" if ":" in value else "ipv4-addr:value"
        return f"[{path} ISSUBSET {_quote(value)}]"
    if kind == T.ASN:
        return f"[autonomous-system:number = {int(value.removeprefix('AS'))}]"
    if kind in simple:
        return f"[{simple[kind]} = {_quote(value)}]"
    return None


def simple_value(object_type: str, path: tuple[str, ...], literal: str) -> tuple[str, str] | None:
    """The (kind, value) of one '=' comparison with a plain string literal, as
    ``values_in_pattern`` gives it; None when the constant does not normalise."""
    kind = _kind_for(object_type, list(path))
    return _normalised(kind, literal) if kind else None


def standard_paths_only(parsed: Pattern) -> bool:
    """Every object type and first property the pattern tests is in the STIX 2.1 standard (so
    the validator's custom-prefix checks have nothing to say)."""
    from stix2validator.v21 import enums

    for object_type, comparisons in parsed.inspect().comparisons.items():
        if object_type not in enums.OBSERVABLE_TYPES:
            return False
        known = enums.OBSERVABLE_PROPERTIES.get(object_type, ())
        if any(path[0] not in known for path, _operator, _literal in comparisons):
            return False
    return True
