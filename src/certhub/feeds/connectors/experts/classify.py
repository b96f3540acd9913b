"""RSIT classification: an event's own taxonomy/type (e.g. from a Shadowserver report type or
a MISP tag) wins over the feed's default; both are checked against RSIT."""

from __future__ import annotations

from certhub.core.errors import InvalidInput

from ... import classification
from ..events import Bad, Event


class Classifier:
    def __init__(self, default: tuple[str, str]):
        self.default = classification.normalise(*default)
        self._known: dict[tuple[str, str], tuple[str, str] | str] = {}

    def process(self, events: list[Event], bad: list[Bad]) -> list[Event]:
        taxonomy, kind = self.default
        known = self._known
        kept = []
        for event in events:
            if not event.type and not event.taxonomy:
                event.taxonomy, event.type = taxonomy, kind
                kept.append(event)
                continue
            pair = (event.taxonomy, event.type)
            result = known.get(pair)
            if result is None:
                try:
                    result = classification.normalise(event.taxonomy, event.type or kind)
                except InvalidInput as exc:
                    result = exc.message
                known[pair] = result
            if isinstance(result, str):
                bad.append(Bad(event.line, result, event.raw))
                continue
            event.taxonomy, event.type = result
            kept.append(event)
        return kept
