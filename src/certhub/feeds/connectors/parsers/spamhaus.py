"""Spamhaus DROP and DROPv6: netblocks hijacked or leased by spam and cyber-crime operations.

Two layouts, recognised per line:
    text (drop.txt, dropv6.txt)   "; comment" lines, then "1.10.16.0/20 ; SBL256894"
    JSON lines (drop_v4.json, drop_v6.json)
        {"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}
        and a closing {"type":"metadata",...} line.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from socket import AF_INET, inet_ntop, inet_pton

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..events import PREFIX, Event
from .base import Item, Parser, Span, bad, clip


def prefix_text(cidr) -> str | None:
    """The network of ``cidr`` as "address/length" (host bits cleared), None if not a prefix.

    What ``ipaddress.ip_network(str(cidr), strict=False).with_prefixlen`` gives, with IPv4
    "a.b.c.d/n" done by inet_pton and integer masking (a tenth of the time); anything else
    (IPv6, netmask forms, mistakes) goes through ipaddress itself.
    """
    if isinstance(cidr, str):
        address, slash, length = cidr.partition("/")
        if slash and length.isascii() and length.isdigit() and int(length) <= 32:
            try:
                number = int.from_bytes(inet_pton(AF_INET, address), "big")
            except OSError:
                pass
            else:
                bits = int(length)
                number &= (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
                return f"{inet_ntop(AF_INET, number.to_bytes(4, 'big'))}/{bits}"
    try:
        return ipaddress.ip_network(str(cidr), strict=False).with_prefixlen
    except ValueError:
        return None


class SpamhausDrop(Parser):
    name = "spamhaus-drop"
    label = gettext_lazy("Spamhaus DROP / DROPv6 (text or JSON lines)")
    classification = ("abusive-content", "spam")
    splittable = True

    def items(self, path: Path, start: int = 0, span: Span | None = None) -> Iterator[Item]:
        with self.open_text(path, span) as handle:
            for line, text in enumerate(handle, 1):
                if line <= start:
                    continue
                stripped = text.strip()
                if not stripped or stripped.startswith(";"):
                    continue
                raw = clip(text)
                extra = {}
                if stripped.startswith("{"):
                    try:
                        record = json.loads(stripped)
                    except json.JSONDecodeError as exc:
                        yield bad(line, raw, _("not a JSON object: %(reason)s")
                                  % {"reason": exc.msg})
                        continue
                    if not isinstance(record, dict):
                        yield bad(line, raw, _("not a JSON object"))
                        continue
                    if record.get("type") == "metadata":
                        continue
                    cidr = record.get("cidr")
                    extra = {key: record[key] for key in ("sblid", "rir") if record.get(key)}
                else:
                    cidr, _sep, comment = stripped.partition(";")
                    cidr = cidr.strip()
                    if comment.strip():
                        extra["sblid"] = comment.strip()
                prefix = prefix_text(cidr)
                if prefix is None:
                    yield bad(line, raw, _("%(value)r is not an IP prefix") % {"value": cidr})
                    continue
                yield Event(line, raw, prefix, PREFIX, extra=extra or None)
