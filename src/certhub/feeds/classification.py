"""RSIT (Reference Security Incident Taxonomy, release 1.3): the classification of findings.

``data/rsit.json`` is the upstream machinetag's taxonomy → types table. The RSIT spelling is
canonical; IntelMQ's spellings and legacy values are accepted as aliases on input, and a type
alone is enough (its taxonomy is derived), as IntelMQ's taxonomy expert does.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

_DATA = Path(__file__).resolve().parent / "data" / "rsit.json"

# IntelMQ / legacy type names → RSIT type (certtools/intelmq harmonization + taxonomy expert).
TYPE_ALIASES = {
    "unauthorized-use-of-resources": "unauthorised-use-of-resources",
    "botnet drone": "infected-system", "botnet-drone": "infected-system",
    "ransomware": "infected-system", "c&c": "c2-server", "c2server": "c2-server",
    "ids alert": "ids-alert", "leak": "data-leak", "vulnerable client": "vulnerable-system",
    "vulnerable service": "vulnerable-system", "unknown": "undetermined",
    "malware": "infected-system", "blacklist": "other", "dga-domain": "other",
    "proxy": "other", "tor": "other",
}


@cache
def taxonomies() -> dict[str, tuple[str, ...]]:
    with _DATA.open(encoding="utf-8") as handle:
        return {taxonomy: tuple(types) for taxonomy, types in json.load(handle).items()}


@cache
def taxonomy_of_type() -> dict[str, str]:
    return {kind: taxonomy for taxonomy, kinds in taxonomies().items() for kind in kinds}


def normalise(taxonomy: str | None, kind: str | None) -> tuple[str, str]:
    """A valid (taxonomy, type) pair; InvalidInput saying what is wrong otherwise.

    Accepts IntelMQ aliases, spaces for hyphens and a type without its taxonomy.
    """
    kind = _clean(kind)
    taxonomy = _clean(taxonomy)
    if kind:
        kind = TYPE_ALIASES.get(kind, TYPE_ALIASES.get(kind.replace("-", " "), kind))
    table = taxonomies()
    if not kind:
        if not taxonomy:
            return "other", "undetermined"
        raise InvalidInput(_("A classification needs a type (RSIT), not only the taxonomy "
                             "%(taxonomy)s.") % {"taxonomy": taxonomy}, field="type")
    expected = taxonomy_of_type().get(kind)
    if expected is None:
        raise InvalidInput(_("%(type)s is not an RSIT classification type.") % {"type": kind},
                           field="type")
    if taxonomy and taxonomy != expected:
        if taxonomy not in table:
            raise InvalidInput(_("%(taxonomy)s is not an RSIT taxonomy.")
                               % {"taxonomy": taxonomy}, field="taxonomy")
        raise InvalidInput(_("The RSIT type %(type)s belongs to the taxonomy %(expected)s, not "
                             "%(taxonomy)s.") % {"type": kind, "expected": expected,
                                                 "taxonomy": taxonomy}, field="taxonomy")
    return expected, kind


def _clean(value: str | None) -> str:
    return (value or "").strip().lower().replace("_", "-").replace(" ", "-") if value else ""


def taxonomy_choices() -> list[tuple[str, str]]:
    return [(taxonomy, taxonomy) for taxonomy in taxonomies()]


def type_choices() -> list[tuple[str, str]]:
    return [(kind, kind) for kinds in taxonomies().values() for kind in kinds]
