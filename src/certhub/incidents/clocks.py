"""Coordination clocks: the targets per severity, and the statistics of how fast they are met.

Targets come from ``CERTHUB_INCIDENT_TARGETS`` (settings.INCIDENT_TARGETS), e.g.
``critical=1h/1d,high=4h/3d,medium=1d/7d,low=3d/30d``: for each severity, acknowledge within
the first duration and complete within the second (m, h or d). A severity left out takes the
default. The value is parsed strictly: a typo stops with a message naming it.

Percentiles use the **nearest-rank method**: the p-th percentile of n sorted values is the value
at rank ceil(p/100 × n) (1-based). It always returns an observed duration (no interpolation), so
"90th percentile: 3 h" means at least 90 % of requests took 3 h or less. The median is the 50th
percentile by the same method (for an even count, the lower of the two middle values).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_TARGETS = "critical=1h/1d,high=4h/3d,medium=1d/7d,low=3d/30d"
SEVERITIES = ("critical", "high", "medium", "low")
_DURATION = re.compile(r"\A(\d+)\s*([mhd])\Z")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
PERCENTILE_METHOD = "nearest-rank"


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30m, 4h or 2d")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def parse_targets(text: str) -> dict[str, tuple[dt.timedelta, dt.timedelta]]:
    """{severity: (acknowledge within, complete within)} from ``severity=ACK/COMPLETE,...``."""
    targets = {}
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        severity, _, durations = part.partition("=")
        severity = severity.strip().lower()
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r} in {part!r}")
        ack, _, complete = durations.partition("/")
        ack_d, complete_d = parse_duration(ack), parse_duration(complete)
        if complete_d < ack_d:
            raise ValueError(f"{part!r}: completion target is shorter than acknowledgement")
        targets[severity] = (ack_d, complete_d)
    return targets


@cache
def _targets(text: str) -> dict[str, tuple[dt.timedelta, dt.timedelta]]:
    try:
        configured = parse_targets(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"CERTHUB_INCIDENT_TARGETS: {exc}") from None
    return {**parse_targets(DEFAULT_TARGETS), **configured}


def targets() -> dict[str, tuple[dt.timedelta, dt.timedelta]]:
    return _targets(getattr(settings, "INCIDENT_TARGETS", DEFAULT_TARGETS))


def due_times(severity: str, sent: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(acknowledge by, complete by) for a request of ``severity`` sent at ``sent``."""
    ack, complete = targets()[severity]
    return sent + ack, sent + complete


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (see the module docstring); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)
