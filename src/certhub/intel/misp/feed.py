"""The MISP feed layout, so that a member's own MISP subscribes to certhub as a feed.

A MISP feed (format "misp") is a folder with ``manifest.json`` (event uuid -> a summary of the
event), ``hashes.csv`` (``<md5 of a value>,<event uuid>`` per attribute value, for MISP's
feed-correlation overlap check) and one ``<uuid>.json`` per event. The caller passes reports it
obtained through ``visible_to``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from certhub.sharing.tlp import TLP

from ..models import Report
from . import exporter


def event_uuid(report: Report) -> str:
    return report.stix_id.split("--", 1)[1]


def manifest_entry(report: Report) -> dict:
    """What MISP reads from the manifest to decide whether to fetch an event."""
    stored = (report.misp or {}).get("event", {})
    owner = report.owner
    return {
        "Orgc": {"name": owner.name, "uuid": exporter.organisation_uuid(owner)},
        "Tag": [{"name": f"tlp:{TLP(report.tlp).value}", "colour": "#ffffff"}]
               + [{"name": label, "colour": "#ffffff"} for label in report.labels],
        "info": report.title,
        "date": stored.get("date") or report.created.date().isoformat(),
        "analysis": str(stored.get("analysis", "0")),
        "threat_level_id": str(stored.get("threat_level_id", "4")),
        "timestamp": str(int(report.modified.timestamp())),
        "published": report.published is not None,
    }


def manifest(reports: Iterable[Report]) -> dict:
    """{event uuid: summary}; a uuid two visible reports share (the same MISP event imported by
    two members) is listed once, for the first report given."""
    result: dict[str, dict] = {}
    for report in reports:
        result.setdefault(event_uuid(report), manifest_entry(report))
    return result


def hashes_csv(rows: Iterable[tuple[str, str]]) -> str:
    """``rows`` are (attribute value, event uuid); composite values ('a|b') hash each part, as
    MISP's own feed generator does."""
    lines = []
    seen = set()
    for value, uuid in rows:
        for part in value.split("|"):
            digest = hashlib.md5(part.encode("utf-8"), usedforsecurity=False).hexdigest()
            line = f"{digest},{uuid}"
            if line not in seen:
                seen.add(line)
                lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")
