"""CSV of indicators -> ImportPlan, through a column mapping; errors name the line.

The mapping names, for each certhub field, the CSV column (by header name, or by 1-based number
when the file has no header row):

    {"value": "indicator", "type": "kind", "comment": "note", "first_seen": "first",
     "last_seen": "last", "to_ids": "block"}

Only ``value`` is required. Without a ``type`` column, ``default_type`` applies, or the type is
guessed from each value. Types are certhub's observable types or MISP attribute types
('ip-dst', 'domain', 'sha256'...). Defanged values are refanged. All or nothing: the first bad
line stops the import, naming line and column.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

from .misp import types as misp_types
from .normalise import ObservableType, detect, normalise_typed
from .plan import ImportPlan, PlannedObservable

FIELDS = ("value", "type", "comment", "first_seen", "last_seen", "to_ids")
MAX_ROWS = 500_000
_TRUE = {"1", "true", "yes", "y", "t", "x"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def _column_index(header: list[str] | None, name, field: str) -> int:
    text = str(name).strip()
    if header is None or text.isdigit():
        if not text.isdigit() or int(text) < 1:
            raise InvalidInput(_("mapping %(field)s: without a header row, name columns by "
                                 "number (1 is the first)") % {"field": field},
                               field=f"mapping.{field}")
        return int(text) - 1
    lowered = [column.strip().lower() for column in header]
    if text.lower() not in lowered:
        raise InvalidInput(_("mapping %(field)s: no column %(name)r in the header (%(header)s)")
                           % {"field": field, "name": text, "header": ", ".join(header)},
                           field=f"mapping.{field}")
    return lowered.index(text.lower())


def _kind(text: str, line: int) -> str:
    text = text.strip()
    if text in ObservableType.values:
        return text
    parts = misp_types.PARTS.get(text)
    if parts and len(parts) == 1 and parts[0] is not None:
        return ObservableType.IPV4 if parts[0] == misp_types.IP else parts[0]
    raise InvalidInput(_("line %(line)d: unknown indicator type %(type)r")
                       % {"line": line, "type": text}, field=f"line {line}")


def _moment(text: str, line: int, field: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = (datetime.fromtimestamp(int(text), tz=UTC) if text.isdigit()
                  else datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        raise InvalidInput(_("line %(line)d: %(field)s %(value)r is not a date (ISO 8601 or "
                             "epoch)") % {"line": line, "field": field, "value": text},
                           field=f"line {line}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _flag(text: str, line: int) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput(_("line %(line)d: to_ids %(value)r is not yes or no")
                       % {"line": line, "value": text}, field=f"line {line}")


def plan(text: str, mapping: dict, *, title: str, stix_id: str, has_header: bool = True,
         default_type: str = "", delimiter: str = ",") -> ImportPlan:
    """The CSV as an ImportPlan of observables (indicators for export are derived from them)."""
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise InvalidInput(_("mapping: unknown field(s) %(unknown)s; use %(fields)s")
                           % {"unknown": ", ".join(sorted(unknown)),
                              "fields": ", ".join(FIELDS)}, field="mapping")
    if not mapping.get("value"):
        raise InvalidInput(_("mapping: name the column that holds the values"),
                           field="mapping.value")
    if default_type and default_type not in ObservableType.values:
        default_type = _kind(default_type, 0)
    if len(delimiter) != 1:
        raise InvalidInput(_("The delimiter is one character."), field="delimiter")
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = None
    if has_header:
        header = next(rows, None)
        if header is None:
            raise InvalidInput(_("The CSV is empty."), field="csv")
    columns = {field: _column_index(header, name, field)
               for field, name in mapping.items() if name not in (None, "")}
    result = ImportPlan(stix_id=stix_id, title=title)
    seen: set[tuple[str, str]] = set()
    first_line = 2 if has_header else 1
    for line, row in enumerate(rows, start=first_line):
        if not any(cell.strip() for cell in row):
            continue
        if line > MAX_ROWS + first_line:
            raise InvalidInput(_("More than %(n)d rows.") % {"n": MAX_ROWS}, field="csv")
        cells = {}
        for field, index in columns.items():
            if index >= len(row):
                raise InvalidInput(_("line %(line)d: no column %(column)d for %(field)s (the "
                                     "line has %(n)d)") % {"line": line, "column": index + 1,
                                                           "field": field, "n": len(row)},
                                   field=f"line {line}")
            cells[field] = row[index]
        value = cells["value"].strip()
        if not value:
            raise InvalidInput(_("line %(line)d: the value is empty") % {"line": line},
                               field=f"line {line}")
        kind = _kind(cells["type"], line) if cells.get("type", "").strip() else default_type
        try:
            kind, value = normalise_typed(kind, value) if kind else detect(value)
        except InvalidInput as exc:
            raise InvalidInput(_("line %(line)d: %(reason)s") % {"line": line,
                                                                 "reason": exc.message},
                               field=f"line {line}") from None
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        result.observables.append(PlannedObservable(
            type=kind, value=value, comment=cells.get("comment", "").strip(),
            first_seen=_moment(cells.get("first_seen", ""), line, "first_seen"),
            last_seen=_moment(cells.get("last_seen", ""), line, "last_seen"),
            to_ids=_flag(cells["to_ids"], line) if "to_ids" in cells else True))
    if not result.observables:
        raise InvalidInput(_("The CSV holds no indicators."), field="csv")
    return result
