"""The shareable types the leak suite (tests/leak/) checks, and how to make one of each.

Every model built on ``Shareable`` registers here, with a function that creates one record of
that type in the database::

    registry.register(Report, make_report, marker_field="title")

``make_record(owner_org, tlp, creator)`` creates and returns one record owned by ``owner_org``
at label ``tlp`` created by ``creator``; the suite sets the audience itself and writes a unique
marker string into ``marker_field`` (a text field the record's pages and API responses show), so
it can tell from a response body whose record leaked. tests/leak/test_registry.py fails when a
shareable model is missing from the registry, so a new model cannot skip the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MakeRecord = Callable[[Any, str, Any], Any]


@dataclass(frozen=True)
class Registration:
    model: type
    make_record: MakeRecord
    marker_field: str

    @property
    def label(self) -> str:
        return self.model._meta.label


_registry: dict[type, Registration] = {}


def register(model: type, make_record: MakeRecord, *, marker_field: str = "name") -> None:
    """Add ``model`` to the leak suite; registering the same model again replaces the entry."""
    from .models import Shareable

    if not (isinstance(model, type) and issubclass(model, Shareable)):
        raise TypeError(f"{model!r} is not a Shareable model")
    field = model._meta.get_field(marker_field)  # raises FieldDoesNotExist for a typo
    if field.get_internal_type() not in ("CharField", "TextField"):
        raise TypeError(f"{model._meta.label}.{marker_field} must be a text field to carry the "
                        "leak marker")
    _registry[model] = Registration(model, make_record, marker_field)


def registered() -> list[Registration]:
    """Every registered type, in a stable order."""
    return sorted(_registry.values(), key=lambda registration: registration.label)
