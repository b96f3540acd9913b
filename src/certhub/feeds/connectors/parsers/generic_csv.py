"""Any delimited text feed, described by a column mapping instead of code.

    parser: generic-csv
    parser_params:
      columns: {value: url, ip: ip_address, port: 2, time: first_seen, country: cc}
      value_type: url          # or auto: detected per value by the normaliser
      header: true             # first row names the columns (else columns are 0-based numbers)
      delimiter: ","           # "\\t" for tab
      comment: "#"
      skip_lines: 0
      time_format: ""          # strptime format; empty: ISO 8601 or Unix seconds
      extra_columns: [malware, status]

Mappable fields: value (required), ip, port, asn, country, time, taxonomy, type. A row's own
taxonomy/type columns override the feed's classification.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.core.errors import InvalidInput

from ..events import VALUE_TYPES, Event
from ..params import Param
from .base import (
    CsvLines,
    Item,
    Parser,
    Span,
    asn_or_none,
    bad,
    clip,
    csv_header_end,
    parse_time,
    port_or_none,
    valid_ip,
)

FIELDS = ("value", "ip", "port", "asn", "country", "time", "taxonomy", "type")


class GenericCsv(Parser):
    name = "generic-csv"
    label = gettext_lazy("Delimited text with a column mapping")
    params = (
        Param("columns", dict, required=True,
              help=gettext_lazy("Which column holds each field: value, ip, port, asn, country, "
                                "time, taxonomy, type (names with a header, else numbers).")),
        Param("value_type", str, "auto", choices=("auto", *VALUE_TYPES),
              help=gettext_lazy("What the value column holds, or auto to detect it.")),
        Param("header", bool, True, help=gettext_lazy("The first row names the columns.")),
        Param("delimiter", str, ",", help=gettext_lazy("Field separator (\\t for tab).")),
        Param("quotechar", str, '"', help=gettext_lazy("Quote character.")),
        Param("comment", str, "#", help=gettext_lazy("Lines starting with this are skipped.")),
        Param("skip_lines", int, 0, help=gettext_lazy("Lines to skip at the start.")),
        Param("time_format", str, "",
              help=gettext_lazy("strptime format of the time column; empty for ISO 8601.")),
        Param("extra_columns", list, [],
              help=gettext_lazy("Columns kept with each finding as extra data.")),
        Param("single_line", bool, False,
              help=gettext_lazy("No record spans lines (no line breaks inside quoted fields): "
                                "a large file may be split between several workers.")),
    )
    splittable = True  # when the parameters say so (can_split)

    @classmethod
    def check(cls, given):
        options = super().check(given)
        columns = options["columns"]
        unknown = sorted(set(columns) - set(FIELDS))
        if unknown:
            raise InvalidInput(_("Unknown field %(names)s in columns (known: %(known)s).")
                               % {"names": ", ".join(unknown), "known": ", ".join(FIELDS)},
                               field="columns")
        if "value" not in columns:
            raise InvalidInput(_("The column mapping needs a value column."), field="columns")
        if not options["header"]:
            for field, column in columns.items():
                if not (isinstance(column, int) or str(column).isdigit()):
                    raise InvalidInput(_("Without a header, column %(field)s must be a "
                                         "number.") % {"field": field}, field="columns")
        delimiter = options["delimiter"].replace("\\t", "\t")
        if len(delimiter) != 1 or len(options["quotechar"]) != 1:
            raise InvalidInput(_("The delimiter and quote character must be one character "
                                 "each."), field="delimiter")
        options["delimiter"] = delimiter
        return options

    def can_split(self) -> bool:
        return self.options["single_line"]

    def header_end(self, path: Path) -> int | None:
        options = self.options
        if not options["header"]:
            return 0
        return csv_header_end(path, comment=options["comment"], skip=options["skip_lines"])

    def items(self, path: Path, start: int = 0, span: Span | None = None) -> Iterator[Item]:
        options = self.options
        value_type = "" if options["value_type"] == "auto" else options["value_type"]
        time_format = options["time_format"]
        with self.open_text(path, span) as handle:
            lines = CsvLines(handle, delimiter=options["delimiter"],
                             quotechar=options["quotechar"], comment=options["comment"],
                             skip=options["skip_lines"], start=start, header=options["header"])
            positions = None
            for line, raw, row in lines:
                if positions is None:
                    try:
                        positions = self._positions(lines.header)
                    except InvalidInput as exc:
                        yield bad(line, "", exc.message)
                        return
                    extras = positions.pop("extra")
                    width = 1 + max([*positions.values(), *(at for _n, at in extras)])
                if isinstance(row, Exception):
                    yield bad(line, raw, str(row))
                    continue
                if len(row) < width:
                    yield bad(line, raw, _("expected at least %(want)d fields, found %(n)d")
                              % {"want": width, "n": len(row)})
                    continue
                get = {field: row[at].strip() for field, at in positions.items()}
                if not get["value"]:
                    yield bad(line, raw, _("the value column is empty"))
                    continue
                ip = get.get("ip") or None
                address = None if ip is None else valid_ip(ip)
                if ip is not None and address is None:
                    yield bad(line, raw, _("%(value)r is not an IP address") % {"value": ip})
                    continue
                try:
                    port = port_or_none(get.get("port"))
                    asn = asn_or_none(get.get("asn"))
                    observed = parse_time(get.get("time", ""), time_format)
                except ValueError as exc:
                    yield bad(line, raw, str(exc))
                    continue
                # Positional: line, raw, value, type, ip, port, asn, country, observed, ...
                yield Event(line, clip(raw), get["value"], value_type, address, port, asn,
                            get.get("country", "")[:2].upper(), observed,
                            get.get("taxonomy", ""), get.get("type", ""),
                            {name: row[at] for name, at in extras if row[at]} or None)

    def _positions(self, header: list[str] | None) -> dict:
        options = self.options

        def position(column) -> int:
            if header is None:
                return int(column)
            if isinstance(column, int):
                return column
            if column not in header:
                raise InvalidInput(_("The header has no column %(name)s.") % {"name": column},
                                   field="columns")
            return header.index(column)

        positions = {field: position(column) for field, column in options["columns"].items()}
        positions["extra"] = [(str(column), position(column))
                              for column in options["extra_columns"]]
        return positions
