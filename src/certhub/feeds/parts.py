"""Planning the parts of a large input: byte ranges that start and end at line boundaries.

A part starts just after a line break, so no line (and, for a splittable parser, no record) is
cut in two; each part knows the physical number of its first line, so its findings carry the
same line numbers as those of an unsplit run. Line breaks are counted as text mode reads them
(\\n, \\r\\n, a lone \\r). Planning reads the input once, at the speed of ``bytes.count``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

CHUNK = 1 << 24  # bytes read at a time while counting lines


@dataclass(frozen=True)
class PlannedPart:
    start: int
    end: int
    first_line: int
    last_line: int


def plan(path: Path, count: int, header: int = 0) -> list[PlannedPart]:
    """At most ``count`` parts of about equal size covering ``path``; no part starts before
    byte ``header`` (the header lines belong to the first part). Parts with no line are
    left out."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as handle:
        for number in range(1, max(1, count)):
            target = max(header, size * number // count)
            if target <= cuts[-1]:
                continue
            cut = _next_line_start(handle, target, size)
            if cuts[-1] < cut < size:
                cuts.append(cut)
        cuts.append(size)
        parts, line = [], 1
        for start, end in pairwise(cuts):
            lines = _lines_in(handle, start, end)
            if lines:
                parts.append(PlannedPart(start, end, line, line + lines - 1))
            line += lines
    return parts


def _next_line_start(handle, offset: int, size: int) -> int:
    """The first byte at or after ``offset`` that starts a line (``size`` if none does)."""
    if offset == 0:
        return 0
    handle.seek(offset - 1)
    position = offset - 1
    while position < size:
        chunk = handle.read(1 << 16)
        if not chunk:
            break
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)
    return size


def _lines_in(handle, start: int, end: int) -> int:
    """The lines text mode reads from the bytes [start, end)."""
    handle.seek(start)
    remaining = end - start
    breaks = 0
    last = b""
    while remaining > 0:
        chunk = handle.read(min(CHUNK, remaining))
        if not chunk:
            break
        breaks += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        if last == b"\r" and chunk[:1] == b"\n":  # a \r\n cut between two chunks
            breaks -= 1
        last = chunk[-1:]
        remaining -= len(chunk)
    if end > start and last not in (b"\n", b"\r"):
        breaks += 1  # the last line has no line break
    return breaks
