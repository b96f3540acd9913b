"""Declared, typed parameters of connectors (collectors, parsers), checked before anything runs.

A connector lists its parameters as ``Param`` objects; ``validate`` turns what a feed definition
(YAML, admin, ``--param k=v``) gives into typed values or raises InvalidInput naming the
parameter. Strings from the command line are converted to the declared type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

TYPES = (str, int, bool, dict, list)


@dataclass(frozen=True)
class Param:
    name: str
    type: type
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple = ()

    def convert(self, value: Any) -> Any:
        if value is None:
            return None
        if self.type is bool:
            value = _to_bool(self.name, value)
        elif self.type is int:
            if isinstance(value, bool):
                raise _bad(self.name, _("a whole number"))
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise _bad(self.name, _("a whole number")) from None
        elif self.type in (dict, list):
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    raise _bad(self.name, _("JSON")) from None
            if not isinstance(value, self.type):
                raise _bad(self.name, _("a mapping") if self.type is dict else _("a list"))
        elif self.type is str:
            if not isinstance(value, str | int | float):
                raise _bad(self.name, _("text"))
            value = str(value)
        if self.choices and value not in self.choices:
            raise InvalidInput(_("Parameter %(name)s must be one of: %(choices)s.")
                               % {"name": self.name, "choices": ", ".join(map(str, self.choices))},
                               field=self.name)
        return value


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise _bad(name, _("true or false"))


def _bad(name: str, expected: str) -> InvalidInput:
    return InvalidInput(_("Parameter %(name)s must be %(expected)s.")
                        % {"name": name, "expected": expected}, field=name)


def validate(params: tuple[Param, ...], given: dict[str, Any] | None, *, owner: str
             ) -> dict[str, Any]:
    """Typed values for every declared parameter (defaults filled in); unknown names refused."""
    given = dict(given or {})
    declared = {param.name: param for param in params}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InvalidInput(_("%(owner)s has no parameter %(names)s (it takes: %(known)s).")
                           % {"owner": owner, "names": ", ".join(unknown),
                              "known": ", ".join(declared) or _("none")},
                           field=unknown[0])
    values = {}
    for param in params:
        if param.name in given and given[param.name] is not None:
            values[param.name] = param.convert(given[param.name])
        elif param.required:
            raise InvalidInput(_("%(owner)s needs the parameter %(name)s.")
                               % {"owner": owner, "name": param.name}, field=param.name)
        else:
            default = param.default
            values[param.name] = default.copy() if isinstance(default, dict | list) else default
    return values


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` from the command line into a mapping; a pair without ``=`` is refused."""
    result = {}
    for pair in pairs:
        name, sign, value = pair.partition("=")
        if not sign or not name.strip():
            raise InvalidInput(_("%(pair)s is not of the form name=value.") % {"pair": pair},
                               field="param")
        result[name.strip()] = value
    return result
