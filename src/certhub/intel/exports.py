"""Observables of visible reports as CSV, plain value lists and Suricata rules.

Converters only: the caller (services.export_*) chose the rows through ``visible_to`` and
records the export in the audit log.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from urllib.parse import urlsplit

from .normalise import ObservableType

T = ObservableType
CSV_COLUMNS = ("report_id", "report_stix_id", "report_title", "tlp", "type", "value",
               "to_ids", "first_seen", "last_seen", "comment")
# Suricata rule ids: a stable hash of (rule kind, value) in this range; 32-bit like sids.
SID_BASE = 1_000_000_000
SID_SPAN = 3_000_000_000
SURICATA_TYPES = frozenset({T.IPV4, T.IPV6, T.PREFIX, T.DOMAIN, T.HOSTNAME, T.URL})


def _iso(moment) -> str:
    return moment.isoformat() if moment else ""


def csv_text(rows: Iterable[tuple]) -> str:
    """``rows`` are (report_id, report_stix_id, title, tlp, type, value, to_ids, first_seen,
    last_seen, comment) tuples."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for (report_id, stix_id, title, tlp, kind, value, to_ids, first, last, comment) in rows:
        writer.writerow([report_id, stix_id, title, tlp, kind, value,
                         "true" if to_ids else "false", _iso(first), _iso(last), comment])
    return out.getvalue()


def value_list(values: Iterable[str]) -> str:
    """One value per line, sorted, no duplicates."""
    distinct = sorted(set(values))
    return "\n".join(distinct) + ("\n" if distinct else "")


def _content(text: str) -> str:
    """A Suricata content string: characters that would end or confuse it as hex bytes."""
    out = []
    for char in text:
        if char in ';"\\|' or not 32 <= ord(char) < 127:
            out.append("|" + " ".join(f"{byte:02X}" for byte in char.encode("utf-8")) + "|")
        else:
            out.append(char)
    return "".join(out)


def _msg(text: str) -> str:
    return "".join(c if c.isprintable() and c not in ';"\\' else "_" for c in text)[:200]


def _sid(kind: str, value: str, used: set[int]) -> int:
    """Stable across exports: derived from the rule, not from a database row. A collision (rare
    in a 3-billion range) moves to the next free number, in sorted order of the values."""
    digest = hashlib.sha256(f"{kind}|{value}".encode()).digest()
    sid = SID_BASE + int.from_bytes(digest[:8], "big") % SID_SPAN
    while sid in used:
        sid = SID_BASE + (sid - SID_BASE + 1) % SID_SPAN
    used.add(sid)
    return sid


def _rule(action_head: str, msg: str, options: str, sid: int) -> str:
    options = f"{options} " if options else ""
    return (f'{action_head} (msg:"{_msg(msg)}"; {options}classtype:trojan-activity; '
            f"sid:{sid}; rev:1; metadata:created_by certhub;)")


def suricata_rules(observables: Iterable[tuple[str, str]]) -> str:
    """Rules for network (kind, value) pairs: IPs and prefixes both ways, domains through DNS
    queries and TLS SNI (the name and its subdomains), URLs through HTTP host and URI."""
    used: set[int] = set()
    lines = ["# certhub Suricata rules: one per network indicator (sids are stable)"]
    for kind, value in sorted(set(observables)):
        if kind not in SURICATA_TYPES:
            continue
        if kind in (T.IPV4, T.IPV6, T.PREFIX):
            lines.append(_rule(f"alert ip any any <> {value} any",
                               f"certhub known bad address {value}", "", _sid("ip", value, used)))
        elif kind in (T.DOMAIN, T.HOSTNAME):
            name = _content("." + value.lower())
            for proto, buffer in (("dns", "dns.query"), ("tls", "tls.sni")):
                lines.append(_rule(
                    f"alert {proto} any any -> any any", f"certhub known bad domain {value}",
                    f'{buffer}; dotprefix; content:"{name}"; nocase; endswith;',
                    _sid(proto, value, used)))
        else:
            parts = urlsplit(value)
            host = (parts.hostname or "").lower()
            uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            options = (f'http.host; content:"{_content(host)}"; startswith; endswith; '
                       f'http.uri; content:"{_content(uri)}"; startswith; endswith;')
            lines.append(_rule("alert http any any -> any any", f"certhub known bad URL {value}",
                               options, _sid("http", value, used)))
    return "\n".join(lines) + "\n"
