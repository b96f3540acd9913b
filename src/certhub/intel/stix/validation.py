"""Validating STIX 2.1 objects at import speed, without weakening the check.

The OASIS ``stix2-validator`` costs ~2 ms an object (it builds a JSON-schema validator with its
reference registry for every object, parses each pattern twice and parses timestamps with
dateutil) and ``stix2.parse`` another 0.35 ms: 300 objects/s. Most of a large bundle is the same
few shapes, though: indicators with one plain comparison pattern and simple cyber-observables.

For those shapes (``fast_check`` decides, by the object's keys) this module applies the same
rules much faster:
- the validator's own JSON schemas, compiled once to Python code with ``fastjsonschema``
  (format keywords are checked separately with the validator's own format checker);
- the validator's MUST checks that can apply to these shapes (timestamps are real dates,
  ``modified >= created``, ``valid_until > valid_from``), with ``datetime.fromisoformat``;
- what ``stix2.parse`` adds for them: no custom properties (the fast shapes list the spec's
  properties only; anything else goes the slow way) and references of the right type;
- the pattern: a single ``[type:path = 'literal']`` comparison on a standard object path is
  recognised by a regular expression that accepts a subset of the STIX pattern grammar; any
  other pattern is parsed once with the OASIS parser, and the parse is kept for value extraction.

Everything else, and every object the fast check rejects (to get the validator's message), goes
through the full OASIS validator and ``stix2.parse``. tests/intel/test_stix_validation.py shows
both paths accept and reject the same objects.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import fastjsonschema
import stix2
from jsonschema import Draft202012Validator
from stix2.exceptions import STIXError
from stix2patterns.v21.pattern import Pattern

from certhub.core.errors import InvalidInput

from . import patterns

# stix2validator is imported on first use: importing it costs about a second (an RFC 3987
# grammar is built), which every certhub command and server start would otherwise pay.
_validator_options = None


def _schema_dir() -> Path:
    import stix2validator

    return Path(stix2validator.__file__).parent / "schemas-2.1" / "schemas"


def _full_validation(obj):
    global _validator_options
    from stix2validator import ValidationOptions, validate_instance

    if _validator_options is None:
        _validator_options = ValidationOptions(version="2.1", strict=False)
    return validate_instance(obj, _validator_options)
_SCHEMA_BASE = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
_TIMESTAMP = re.compile(r"^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):"
                        r"([0-5][0-9]):([0-5][0-9]|60)(\.[0-9]+)?Z$")
_FRACTION = re.compile(r"(\.\d{6})\d+")

_SDO_COMMON = {"type", "spec_version", "id", "created", "modified", "created_by_ref", "revoked",
               "labels", "confidence", "object_marking_refs"}
# The keys an object may have and still take the fast path; other keys (external references,
# granular markings, lang, extensions, custom properties) send it the full way.
FAST_KEYS: dict[str, frozenset[str]] = {
    "indicator": frozenset(_SDO_COMMON | {"name", "description", "indicator_types", "pattern",
                                          "pattern_type", "pattern_version", "valid_from",
                                          "valid_until", "kill_chain_phases"}),
    **{sco: frozenset({"type", "spec_version", "id", "value", "object_marking_refs"})
       for sco in ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr")},
}
_FORMATS = {("domain-name", "value"): "idn-hostname", ("email-addr", "value"): "email",
            ("url", "value"): "uri"}
_TIMESTAMPS = ("created", "modified", "valid_from", "valid_until")

# One comparison of a standard object path with a plain string (no quote or backslash inside):
# a sentence of the STIX pattern grammar, so it needs no parser.
_SIMPLE_PATTERN = re.compile(
    r"\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr|mac-addr):value = '([^'\\]*)'\]"
    r"|\[file:hashes\.'(MD5|SHA-1|SHA-256|SHA-512)' = '([^'\\]*)'\]"
    r"|\[file:(name) = '([^'\\]*)'\]")

_lock = threading.Lock()
_compiled: dict[str, object] = {}


@dataclass
class Checked:
    """An object that passed; ``values`` are the (kind, value) pairs its pattern names."""

    values: list[tuple[str, str]] | None = None
    rejected: list[str] | None = None
    moments: dict[str, datetime] | None = None  # its timestamps, parsed (UTC)


def _load_schema(uri: str) -> dict:
    relative = uri.removeprefix(_SCHEMA_BASE)
    with (_schema_dir() / relative).open(encoding="utf-8") as handle:
        schema = json.load(handle)
    # The schemas use only draft-07 keywords; fastjsonschema knows drafts 4 to 7.
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return _simplified(schema)


_ANY_VALUE = [{"type": "array", "minItems": 1}, {"type": "string"}, {"type": "integer"},
              {"type": "boolean"}, {"type": "number"}, {"type": "object"}]
_FAST_NAMES = frozenset().union(*FAST_KEYS.values(), FAST_KEYS)


def _never_matches_fast_shape(rule) -> bool:
    """A ``not`` rule that no fast-shaped object can match: it names a type or keys outside
    FAST_KEYS. Such rules only cost time (fastjsonschema checks ``not`` by catching an
    exception)."""
    if isinstance(rule, dict) and set(rule) == {"enum"}:
        return not _FAST_NAMES.intersection(rule["enum"])
    if isinstance(rule, dict) and set(rule) == {"anyOf"}:
        return all(isinstance(branch, dict) and set(branch) == {"required"}
                   and not _FAST_NAMES.intersection(branch["required"])
                   for branch in rule["anyOf"])
    return False


# properties.json ("rules for custom properties") allows only property names matching
# these, and gives the last one "any non-null value; arrays non-empty". Every fast-shape key
# matches the last pattern and neither of the others, so for fast shapes the whole file reduces
# to _values_present below, which is checked in Python instead of through 40 regex searches.
_PROPERTIES_REF = "../common/properties.json"
_NAME_RULES = (re.compile(r"^[a-z][a-z0-9_]{0,245}_bin$"),
               re.compile(r"^[a-z][a-z0-9_]{0,245}_hex$"))
_NAME_RULE = re.compile(r"^([a-z][a-z0-9_]{2,249})|id$")
assert all(_NAME_RULE.search(key) and not any(rule.search(key) for rule in _NAME_RULES)
           for key in _FAST_NAMES if key not in FAST_KEYS), "FAST_KEYS broke properties.json"


def _values_present(obj: dict) -> bool:
    return all(value is not None and value != [] for value in obj.values())


def _simplified(schema):
    """The same constraints on fast-shaped objects, written without exception-driven branches:
    'any non-null value, arrays non-empty' as one type list, ``not`` rules that cannot
    match a fast shape dropped, and properties.json left to _values_present."""
    if isinstance(schema, list):
        return [{} if item == {"$ref": _PROPERTIES_REF} else _simplified(item)
                for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _simplified(value) for key, value in schema.items()
              if not (key == "not" and _never_matches_fast_shape(value))}
    if result.get("anyOf") == _ANY_VALUE:
        del result["anyOf"]
        result["type"] = ["array", "string", "integer", "boolean", "number", "object"]
        result["minItems"] = 1  # applies to arrays only, as in the branch it replaces
    return result


def _schema_validator(object_type: str):
    with _lock:
        if object_type not in _compiled:
            folder = "sdos" if object_type == "indicator" else "observables"
            schema = _load_schema(f"{_SCHEMA_BASE}{folder}/{object_type}.json")
            # Formats are checked with the OASIS validator's own checker (see _formats_ok).
            _compiled[object_type] = fastjsonschema.compile(
                schema, handlers={"http": _load_schema},
                formats={name: (lambda value: True) for name in
                         ("uri", "email", "idn-hostname", "hostname", "date-time")})
        return _compiled[object_type]


def _formats_ok(obj: dict) -> bool:
    for (object_type, key), fmt in _FORMATS.items():
        if (obj["type"] == object_type and key in obj
                and not Draft202012Validator.FORMAT_CHECKER.conforms(obj[key], fmt)):
            return False
    return True


def _references_ok(obj: dict) -> bool:
    """What stix2.parse adds to the schema: references point at objects of the right type."""
    creator = obj.get("created_by_ref")
    if creator is not None and not str(creator).startswith("identity--"):
        return False
    return all(str(ref).startswith("marking-definition--")
               for ref in obj.get("object_marking_refs", ()))


def _moment(text) -> datetime | None:
    """A timestamp the validator accepts, as a datetime; None if it is not one."""
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", text) if len(text) > 27 else text)
    except ValueError:
        return None


def _timestamps(obj: dict) -> dict[str, datetime] | None:
    """The object's timestamps if they are real and in order (the validator's MUSTs)."""
    moments = {}
    for key in _TIMESTAMPS:
        if key in obj:
            moments[key] = _moment(obj[key])
            if moments[key] is None:
                return None
    if "modified" in moments and "created" in moments and moments["modified"] < moments[
            "created"]:
        return None
    if ("valid_until" in moments and "valid_from" in moments
            and moments["valid_until"] <= moments["valid_from"]):
        return None
    return moments


def _pattern_values(pattern: str) -> Checked | None:
    """The values of a pattern, parsed once; None if the pattern is not valid."""
    simple = _SIMPLE_PATTERN.fullmatch(pattern)
    if simple:
        sco, value, algorithm, digest, name_path, file_name = simple.groups()
        if sco:
            found = patterns.simple_value(sco, ("value",), value)
        elif algorithm:
            found = patterns.simple_value("file", ("hashes", algorithm), digest)
        else:
            found = patterns.simple_value("file", (name_path,), file_name)
        literal = value if sco else digest if algorithm else file_name
        return Checked(values=[found] if found else [], rejected=[] if found else [literal])
    try:
        parsed = Pattern(pattern)
    except Exception:  # any parser complaint: the full validator words it
        return None
    if not patterns.standard_paths_only(parsed):
        return None
    rejected: list[str] = []
    return Checked(values=list(patterns.values_in_pattern(parsed, rejected)), rejected=rejected)


def fast_check(obj: dict) -> Checked | None:
    """A Checked if the object has a fast shape and passes; None to take the full path."""
    allowed = FAST_KEYS.get(obj.get("type"))
    if allowed is None or not allowed.issuperset(obj):
        return None
    try:
        _schema_validator(obj["type"])(obj)
    except fastjsonschema.JsonSchemaException:
        return None
    if not _values_present(obj) or not _formats_ok(obj) or not _references_ok(obj):
        return None
    moments = _timestamps(obj)
    if moments is None:
        return None
    if obj["type"] != "indicator":
        return Checked(moments=moments)
    if obj.get("pattern_type") != "stix":
        return Checked(values=[], moments=moments)
    checked = _pattern_values(obj["pattern"])
    if checked is not None:
        checked.moments = moments
    return checked


def full_errors(obj: dict, *, allow_custom: bool) -> list[str]:
    """The OASIS validator's and the stix2 library's complaints about one object."""
    try:
        result = _full_validation(obj)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # The validator's own checks assume well-typed fields (e.g. ``"modified": 5`` raises
        # TypeError inside it): such an object is invalid, not a server error.
        return [str(exc) or type(exc).__name__]
    if not result.is_valid:
        return [error.message for error in result.errors]
    try:
        stix2.parse(obj, allow_custom=allow_custom, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError) as exc:
        return [str(exc)]
    return []


def check(obj: dict, *, allow_custom: bool = False) -> Checked:
    """Checked, or InvalidInput with the validator's messages (joined)."""
    if not allow_custom:
        fast = fast_check(obj)
        if fast is not None:
            return fast
    errors = full_errors(obj, allow_custom=allow_custom)
    if errors:
        raise InvalidInput("; ".join(errors))
    return Checked()
