"""abuse.ch feeds: URLhaus CSV and Feodo Tracker (JSON and CSV).

URLhaus serves two CSV layouts, both with ``#`` comment headers and every field quoted:
    database dump  id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
    country / ASN  Dateadded,URL,URL_status,Threat,Host,IPaddress,ASnumber,Country
The layout is recognised per row by its number of fields. Feodo Tracker's ``ipblocklist.json``
is an array of objects (ip_address, port, status, hostname, as_number, as_name, country,
first_seen, last_online, malware); ``ipblocklist.csv`` has the quoted header
first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware after its comment block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..events import IPV4, IPV6, RAW_MAX, URL, Event
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
from .jsonstream import JsonStreamError, array_items

# abuse.ch times are UTC without a zone: "2025-01-01 12:00:00" (or a bare date).
_fromiso = dt.datetime.fromisoformat
# The fields of a Feodo Tracker JSON record, in the order the parser unpacks them.
_FEODO_KEYS = ("ip_address", "port", "first_seen", "as_number", "country", "status", "malware",
               "last_online", "hostname", "as_name")


def _url_host(url: str) -> str:
    rest = url.partition("://")[2]
    host = rest.split("/", 1)[0].rpartition("@")[2]
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class URLhausCsv(Parser):
    name = "urlhaus-csv"
    label = gettext_lazy("abuse.ch URLhaus CSV (database dump or country/ASN feed)")
    classification = ("malicious-code", "malware-distribution")
    params = (
        Param("online_only", bool, False,
              help=gettext_lazy("Skip URLs whose status is not 'online'.")),
    )
    splittable = True
    columnar_path = True

    def columnar(self, lines, first_line: int, after: int):
        from ...columnar import urlhaus

        return urlhaus.frame(lines, first_line, after, online_only=self.options["online_only"])

    def items(self, path: Path, start: int = 0, span: Span | None = None) -> Iterator[Item]:
        online_only = self.options["online_only"]
        with self.open_text(path, span) as handle:
            for line, raw, row in CsvLines(handle, start=start):
                if isinstance(row, Exception):
                    yield bad(line, raw, str(row))
                    continue
                fields = len(row)
                try:
                    if fields == 8:  # country / ASN feed (the hot path: keep it lean)
                        added, url, status, threat, host, ip, asn, country = row
                        extra = {"url_status": status, "threat": threat}
                        if host and host != ip:
                            extra["host"] = host
                        asn = int(asn) if asn.isdigit() else asn_or_none(asn)
                    elif fields == 9:  # database dump
                        _id, added, url, status, _last_online, threat, tags, _link, reporter = row
                        extra = {"url_status": status, "threat": threat, "urlhaus_id": _id,
                                 "tags": tags, "reporter": reporter}
                        host = _url_host(url)
                        ip = host if valid_ip(host) else ""
                        asn, country = None, ""
                    else:
                        yield bad(line, raw, _("expected 8 or 9 fields, found %(n)d")
                                  % {"n": fields})
                        continue
                    if online_only and status != "online":
                        continue
                    observed = _fromiso(added) if added else None
                except ValueError as exc:
                    yield bad(line, raw, str(exc))
                    continue
                if not url:
                    yield bad(line, raw, _("the URL is empty"))
                    continue
                # Positional: line, raw, value, type, ip, port, asn, country, observed.
                yield Event(line, raw[:RAW_MAX].rstrip("\r\n"), url, URL, ip or None, None, asn,
                            country, observed, "", "", extra)


class FeodoJson(Parser):
    name = "feodo-json"
    label = gettext_lazy("abuse.ch Feodo Tracker botnet C2 list (JSON)")
    classification = ("malicious-code", "c2-server")
    params = (Param("online_only", bool, False,
                    help=gettext_lazy("Skip C2 servers whose status is not 'online'.")),)

    def items(self, path: Path, start: int = 0) -> Iterator[Item]:
        online_only = self.options["online_only"]
        with self.open_text(path) as handle:
            stream = array_items(handle)
            number = 0
            while True:
                try:
                    number, _line, raw, record = next(stream)
                except StopIteration:
                    return
                except JsonStreamError as exc:
                    yield bad(number + 1, "", str(exc))
                    return
                if number <= start:
                    continue
                if not isinstance(record, dict):
                    yield bad(number, raw, _("an element is not a JSON object"))
                    continue
                (ip, port, first_seen, asn, country, status, malware, last_online, hostname,
                 as_name) = map(record.get, _FEODO_KEYS)
                if online_only and status != "online":
                    continue
                extra = {}  # the details that are set, in this order (built without a loop)
                if status:
                    extra["status"] = status
                if malware:
                    extra["malware"] = malware
                if last_online:
                    extra["last_online"] = last_online
                if hostname:
                    extra["hostname"] = hostname
                if as_name:
                    extra["as_name"] = as_name
                yield _feodo_event(number, clip(raw), ip, port, first_seen, asn, country or "",
                                   extra)


class FeodoCsv(Parser):
    name = "feodo-csv"
    label = gettext_lazy("abuse.ch Feodo Tracker botnet C2 list (CSV)")
    classification = ("malicious-code", "c2-server")
    params = FeodoJson.params
    splittable = True

    def header_end(self, path: Path) -> int | None:
        return csv_header_end(path)

    def items(self, path: Path, start: int = 0, span: Span | None = None) -> Iterator[Item]:
        online_only = self.options["online_only"]
        with self.open_text(path, span) as handle:
            lines = CsvLines(handle, start=start, header=True)
            for line, raw, row in lines:
                if isinstance(row, Exception):
                    yield bad(line, raw, str(row))
                    continue
                if len(row) != 6:
                    yield bad(line, raw, _("expected 6 fields, found %(n)d") % {"n": len(row)})
                    continue
                first_seen, ip, port, status, last_online, malware = row
                if online_only and status != "online":
                    continue
                extra = {}
                if status:
                    extra["status"] = status
                if malware:
                    extra["malware"] = malware
                if last_online:
                    extra["last_online"] = last_online
                yield _feodo_event(line, clip(raw), ip, port, first_seen, None, "", extra)


def _feodo_event(position: int, raw: str, ip, port, first_seen, asn, country: str,
                 extra: dict) -> Item:
    """The event of one C2 server; ``extra`` holds only the details that are set."""
    address = valid_ip(ip) if isinstance(ip, str) else None
    if address is None:
        return bad(position, raw, _("%(value)r is not an IP address") % {"value": ip})
    try:
        port = port_or_none(port)
        asn = asn_or_none(asn)
        observed = _fromiso(first_seen) if first_seen else None
    except (TypeError, ValueError) as exc:
        return bad(position, raw, str(exc))
    # Positional: line, raw, value, type, ip, port, asn, country, observed, taxonomy, type.
    return Event(position, raw, address, IPV6 if ":" in address else IPV4, address, port, asn,
                 country, observed, "", "", extra)
