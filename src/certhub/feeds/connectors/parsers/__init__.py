"""Parsers by name. ``get(name)`` returns the class; ``names()`` lists them for choices."""

from __future__ import annotations

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

from .abusech import FeodoCsv, FeodoJson, URLhausCsv
from .base import Parser
from .generic_csv import GenericCsv
from .misp import MispFeed
from .shadowserver import ShadowserverCsv
from .spamhaus import SpamhausDrop
from .stix import StixBundle

PARSERS: dict[str, type[Parser]] = {parser.name: parser for parser in (
    URLhausCsv, FeodoJson, FeodoCsv, SpamhausDrop, ShadowserverCsv, GenericCsv, StixBundle,
    MispFeed)}


def get(name: str) -> type[Parser]:
    try:
        return PARSERS[name]
    except KeyError:
        raise InvalidInput(_("%(name)s is not a parser (known: %(known)s).")
                           % {"name": name, "known": ", ".join(PARSERS)}, field="parser") from None


def names() -> list[str]:
    return list(PARSERS)


def choices() -> list[tuple[str, str]]:
    return [(name, name) for name in PARSERS]


__all__ = ["PARSERS", "Parser", "choices", "get", "names"]
