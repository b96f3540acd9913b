"""Shadowserver report CSVs (the 2021+ "event4"/"scan" formats and their older forms).

Every report is a CSV whose first line is the quoted header. Reports name the host either
``ip`` (scan and compromised-host reports: one party) or ``src_ip`` (event4 sinkhole and drone
reports: the infected client; ``dst_ip`` is the sinkhole). The report type comes from the
``report`` parameter or, with ``auto``, from the file name as Shadowserver sends it
(``2024-05-01-scan_http-asean-geo.csv``); it decides the RSIT classification below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.core.errors import InvalidInput

from ..events import IPV4, IPV6, Event
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
    port_or_none,
    valid_ip,
)
from .base import parse_time as _parse_time

# report → (taxonomy, type). Scan reports not listed fall back to vulnerable-system, event4
# reports to infected-system (see classification_for).
REPORTS = {
    "scan_http": ("vulnerable", "vulnerable-system"),
    "scan_rdp": ("vulnerable", "potentially-unwanted-accessible"),
    "scan_telnet": ("vulnerable", "potentially-unwanted-accessible"),
    "scan_vnc": ("vulnerable", "potentially-unwanted-accessible"),
    "scan_smb": ("vulnerable", "potentially-unwanted-accessible"),
    "scan_ssh": ("vulnerable", "potentially-unwanted-accessible"),
    "scan_dns": ("vulnerable", "ddos-amplifier"),
    "scan_ntp": ("vulnerable", "ddos-amplifier"),
    "scan_ssdp": ("vulnerable", "ddos-amplifier"),
    "scan_memcached": ("vulnerable", "ddos-amplifier"),
    "scan_chargen": ("vulnerable", "ddos-amplifier"),
    "scan_snmp": ("vulnerable", "information-disclosure"),
    "scan_redis": ("vulnerable", "information-disclosure"),
    "scan_elasticsearch": ("vulnerable", "information-disclosure"),
    "scan_ssl_poodle": ("vulnerable", "weak-crypto"),
    "scan_ssl_freak": ("vulnerable", "weak-crypto"),
    "compromised_website": ("intrusions", "system-compromise"),
    "botnet_drone": ("malicious-code", "infected-system"),
    "event4_drone": ("malicious-code", "infected-system"),
    "event4_sinkhole": ("malicious-code", "infected-system"),
    "event4_sinkhole_http": ("malicious-code", "infected-system"),
    "event4_sinkhole_dns": ("malicious-code", "infected-system"),
    "event4_microsoft_sinkhole": ("malicious-code", "infected-system"),
    "event4_microsoft_sinkhole_http": ("malicious-code", "infected-system"),
    "event4_honeypot_brute_force": ("intrusion-attempts", "brute-force"),
    "event4_honeypot_http_scan": ("information-gathering", "scanner"),
    "event4_ddos_participant": ("availability", "ddos"),
}
_FILE_NAME = re.compile(r"\A\d{4}-\d{2}-\d{2}-(?P<report>[a-z0-9_]+?)(?:-[^-]+)*\.csv\Z")
# Columns kept as extra (when present and not empty), besides the ones mapped to fields.
_EXTRA = ("protocol", "hostname", "tag", "region", "city", "naics", "sector", "infection",
          "family", "application", "http_url", "http_host", "http_agent", "url", "category",
          "system", "server", "detected_since", "redirect_target", "dst_ip", "dst_port",
          "src_hostname", "http", "http_code", "rdp_protocol", "device_vendor",
          "device_type", "device_model", "public_source", "cc_url")


def classification_for(report: str) -> tuple[str, str]:
    if report in REPORTS:
        return REPORTS[report]
    if report.startswith(("scan_", "scan6_")):
        return ("vulnerable", "vulnerable-system")
    if report.startswith(("event4_", "event6_")):
        return ("malicious-code", "infected-system")
    return ("other", "undetermined")


def report_from_file_name(name: str) -> str | None:
    found = _FILE_NAME.match(name.lower())
    return found.group("report") if found else None


class ShadowserverCsv(Parser):
    name = "shadowserver-csv"
    label = gettext_lazy("Shadowserver report (CSV)")
    classification = ("other", "undetermined")  # each row is classified by its report type
    params = (
        Param("report", str, "auto",
              help=gettext_lazy("Report type (scan_http, compromised_website, "
                                "event4_sinkhole_http, ...) or 'auto' to take it from the "
                                "file name.")),
    )

    def report_type(self, path: Path) -> str:
        report = self.options["report"]
        if report != "auto":
            return report
        found = report_from_file_name(path.name)
        if found is None:
            raise InvalidInput(_("Cannot tell the Shadowserver report type from the file name "
                                 "%(name)s; set the parameter report.") % {"name": path.name},
                               field="report")
        return found

    splittable = True

    def header_end(self, path: Path) -> int | None:
        return csv_header_end(path, comment="")

    def items(self, path: Path, start: int = 0, span: Span | None = None) -> Iterator[Item]:
        report = self.report_type(path)
        taxonomy, kind = classification_for(report)
        with self.open_text(path, span) as handle:
            lines = CsvLines(handle, start=start, header=True, comment="")
            columns: dict[str, int] | None = None
            for line, raw, row in lines:
                if columns is None:
                    columns = {name: position for position, name in enumerate(lines.header)}
                    who = "src_" if "src_ip" in columns and "ip" not in columns else ""
                    ip_at = columns.get(f"{who}ip")
                    if ip_at is None:
                        yield bad(line, "", _("the header has no ip or src_ip column"))
                        return
                    keep = [(name, columns[name]) for name in _EXTRA
                            if name in columns and name != f"{who}ip"]
                    port_at = columns.get(f"{who}port")
                    asn_at = columns.get(f"{who}asn")
                    geo_at = columns.get(f"{who}geo")
                    time_at = columns.get("timestamp")
                    width = len(columns)
                if isinstance(row, Exception):
                    yield bad(line, raw, str(row))
                    continue
                if len(row) != width:
                    yield bad(line, raw, _("expected %(want)d fields, found %(n)d")
                              % {"want": width, "n": len(row)})
                    continue
                address = valid_ip(row[ip_at])
                if address is None:
                    yield bad(line, raw, _("%(value)r is not an IP address")
                              % {"value": row[ip_at]})
                    continue
                try:
                    port = port_or_none(row[port_at]) if port_at is not None else None
                    asn = asn_or_none(row[asn_at]) if asn_at is not None else None
                    observed = _parse_time(row[time_at]) if time_at is not None else None
                except ValueError as exc:
                    yield bad(line, raw, str(exc))
                    continue
                extra = {name: row[at] for name, at in keep if row[at]}
                extra["report"] = report
                # Positional: line, raw, value, type, ip, port, asn, country, observed, ...
                yield Event(line, clip(raw), address, IPV6 if ":" in address else IPV4, address,
                            port, asn, (row[geo_at] if geo_at is not None else "")[:2].upper(),
                            observed, taxonomy, kind, extra)
