"""The static check of a feed definition, shared by the YAML loader, the admin and the CLI.

Everything that can be wrong with a definition is found here, before a run starts: unknown
parser or parameter, a parameter of the wrong type, a classification outside RSIT, a schedule
that does not parse, a location the source kind cannot read.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput
from certhub.sharing.tlp import TLP

from . import classification, schedule
from .connectors import collectors, parsers

DEFINITION_FIELDS = {
    "name", "title", "description", "source", "location", "collector_params", "schedule",
    "parser", "parser_params", "taxonomy", "type", "tlp", "dedupe_window_hours", "expiry_days",
    "warninglists", "enabled",
}


def check_feed(feed) -> None:
    """Raise InvalidInput (with the field) when ``feed`` cannot run; normalises in place."""
    if feed.source_kind not in collectors.COLLECTORS:
        raise InvalidInput(_("%(kind)s is not a source kind (known: %(known)s).")
                           % {"kind": feed.source_kind,
                              "known": ", ".join(collectors.COLLECTORS)}, field="source_kind")
    collector = collectors.get(feed.source_kind)
    collector.check_location(feed.location or "")
    feed.collector_params = collector.check(feed.collector_params)
    parser = parsers.get(feed.parser)
    feed.parser_params = parser.check(feed.parser_params)
    if parser.input_kind == "folder" and feed.source_kind not in ("folder", "misp-feed", "file"):
        raise InvalidInput(_("The parser %(parser)s reads a folder; use a folder or misp-feed "
                             "source.") % {"parser": parser.name}, field="parser")
    if feed.taxonomy or feed.type:
        feed.taxonomy, feed.type = classification.normalise(feed.taxonomy, feed.type)
    elif parser.classification is None:
        raise InvalidInput(_("The parser %(parser)s does not imply a classification; give the "
                             "feed an RSIT type.") % {"parser": parser.name}, field="type")
    schedule.parse(feed.schedule)
    if feed.tlp not in TLP.values:
        raise InvalidInput(_("%(tlp)s is not a TLP label (%(known)s).")
                           % {"tlp": feed.tlp, "known": ", ".join(TLP.values)}, field="tlp")
    for name in ("dedupe_window_hours", "expiry_days"):
        value = getattr(feed, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(_("%(name)s must be a whole number of zero or more.")
                               % {"name": name}, field=name)


def default_classification(feed) -> tuple[str, str]:
    if feed.type:
        return feed.taxonomy, feed.type
    parser = parsers.get(feed.parser)
    return parser.classification or ("other", "undetermined")
