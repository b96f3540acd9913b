"""Timeline entries in words: one translated sentence per entry, from its kind and details.

The entries themselves (who, when, what) come from certhub.incidents.queries.timeline; comments
are Markdown, rendered sanitised by the incidents app's renderer.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.incidents import queries
from certhub.incidents.models import RequestKind, Severity, Status, TimelineKind

_FIELD_NAMES = {
    "title": gettext_lazy("title"), "description": gettext_lazy("description"),
    "taxonomy": gettext_lazy("classification"), "type": gettext_lazy("type"),
    "severity": gettext_lazy("severity"), "countries": gettext_lazy("affected countries"),
    "sectors": gettext_lazy("affected sectors"), "cii": gettext_lazy("CII flag"),
    "occurred_at": gettext_lazy("time it occurred"),
    "reporting_org": gettext_lazy("reporting organisation"), "tlp": gettext_lazy("TLP"),
    "audience": gettext_lazy("audience"),
}


def _status(value) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return str(value)


def _severity(value) -> str:
    try:
        return str(Severity(value).label)
    except ValueError:
        return str(value)


def _kind(value) -> str:
    try:
        return str(RequestKind(value).label)
    except ValueError:
        return str(value)


def _value(value) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items() if v)
    return str(value)


def _change(details: dict) -> str:
    if "involved_added" in details:
        return _("named %(org)s as involved") % {"org": details["involved_added"]}
    if "involved_removed" in details:
        return _("no longer lists %(org)s as involved") % {"org": details["involved_removed"]}
    parts = []
    for name, change in details.items():
        label = str(_FIELD_NAMES.get(name, name))
        if name == "description":
            parts.append(_("changed the description"))
        elif isinstance(change, list) and len(change) == 2:
            before, after = change
            if name == "severity":
                before, after = _severity(before), _severity(after)
            parts.append(_("%(field)s: %(before)s → %(after)s")
                         % {"field": label, "before": _value(before), "after": _value(after)})
        else:
            parts.append(_("%(field)s: %(value)s") % {"field": label, "value": _value(change)})
    return "; ".join(parts) or _("changed the incident")


def _request(details: dict) -> str:
    action, number = details.get("action"), details.get("request", "?")
    if action == "sent":
        return _("sent coordination request #%(id)s to %(org)s (%(kind)s)") % {
            "id": number, "org": details.get("to", "?"), "kind": _kind(details.get("kind"))}
    sentences = {
        "accepted": _("acknowledged and accepted coordination request #%(id)s"),
        "declined": _("declined coordination request #%(id)s"),
        "completed": _("completed coordination request #%(id)s"),
        "cancelled": _("cancelled coordination request #%(id)s"),
    }
    return sentences.get(action, _("updated coordination request #%(id)s")) % {"id": number}


def _task(entry) -> str:
    details = entry.details
    if details.get("action") == "added":
        return _("added the task “%(title)s”") % {"title": entry.text}
    if details.get("done") is True:
        return _("completed the task “%(title)s”") % {"title": entry.text}
    if details.get("done") is False:
        return _("reopened the task “%(title)s”") % {"title": entry.text}
    return _("changed the task “%(title)s”") % {"title": entry.text}


def _link(details: dict) -> str:
    if "indicators_added" in details:
        return _("added %(values)s") % {"values": ", ".join(details["indicators_added"])}
    if "report" in details:
        return _("linked intel report #%(id)s") % {"id": details["report"]}
    if "finding" in details:
        return _("linked feed finding #%(id)s") % {"id": details["finding"]}
    if "observable" in details:
        return _("linked the observable %(value)s") % {"value": details.get("indicator", "")}
    return _("linked a record")


def describe(entry) -> str:
    """What happened, as a sentence (without the actor and the time, shown beside it)."""
    details = entry.details or {}
    kind = entry.kind
    if kind == TimelineKind.CREATED:
        if details.get("source") == "public_form":
            return _("report received through the public form")
        if details.get("source") == "email":
            return _("report received by email")
        return _("opened the incident")
    if kind == TimelineKind.COMMENT:
        return _("commented")
    if kind == TimelineKind.STATUS:
        text = _("status %(before)s → %(after)s") % {"before": _status(details.get("from")),
                                                     "after": _status(details.get("to"))}
        if details.get("reopened"):
            text = _("reopened the incident: %(change)s") % {"change": text}
        return text
    if kind == TimelineKind.ASSIGNED:
        return _("assigned the incident from %(before)s to %(after)s") % {
            "before": details.get("from", "?"), "after": details.get("to", "?")}
    if kind == TimelineKind.REQUEST:
        return _request(details)
    if kind == TimelineKind.TASK:
        return _task(entry)
    if kind == TimelineKind.ATTACHMENT:
        return _("attached %(name)s") % {"name": entry.text}
    if kind == TimelineKind.LINK:
        return _link(details)
    if kind == TimelineKind.ESCALATION:
        target = (_("acknowledgement") if details.get("target") == "acknowledge"
                  else _("completion"))
        return _("coordination request #%(id)s passed its %(target)s target; escalated") % {
            "id": details.get("request", "?"), "target": target}
    if kind == TimelineKind.CHANGE:
        return _change(details)
    return str(entry.get_kind_display())


# Entries whose text is Markdown written by a person (shown rendered and sanitised).
_MARKDOWN_KINDS = {TimelineKind.COMMENT, TimelineKind.STATUS, TimelineKind.REQUEST}


def describe_entries(entries) -> list:
    for entry in entries:
        entry.summary = describe(entry)
        entry.actor_name = (entry.actor.email if entry.actor_id and entry.actor
                            else entry.actor_label or "certhub")
        entry.body_html = (queries.description_html(entry.text)
                           if entry.kind in _MARKDOWN_KINDS and entry.text else "")
    return list(entries)
