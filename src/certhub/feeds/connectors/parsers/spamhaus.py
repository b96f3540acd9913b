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

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..events import PREFIX, Event
from .base import Item, Parser, bad, clip


class SpamhausDrop(Parser):
    name = "spamhaus-drop"
    label = gettext_lazy("Spamhaus DROP / DROPv6 (text or JSON lines)")
    classification = ("abusive-content", "spam")

    def items(self, path: Path, start: int = 0) -> Iterator[Item]:
        with self.open_text(path) as handle:
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
                try:
                    network = ipaddress.ip_network(str(cidr), strict=False)
                except ValueError:
                    yield bad(line, raw, _("%(value)r is not an IP prefix") % {"value": cidr})
                    continue
                yield Event(line, raw, network.with_prefixlen, PREFIX, extra=extra or None)
