"""Hook: findings enrich the intel app's observable index (issue 5, outputs).

``enrich_observable_index(run, events)`` is called by the pipeline once per committed batch,
inside the batch's transaction, with the new (not duplicate) events of that batch. It is the
single place where the feed pipeline will hand findings to the intel app (correlation of
findings with shared intelligence, sightings); until the intel app's observable index offers
a batch service for it, it does nothing. Keep it batch-shaped: one call per batch of up to
20,000 events.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..events import Event


def enrich_observable_index(run, events: Sequence[Event]) -> None:
    """Record these findings' values in the observable index (not yet wired: no-op)."""
    return None
