"""Template helpers of the web UI: TLP chips, times in the user's zone, countries, fingerprints."""

from __future__ import annotations

import json
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import get_language

from certhub.directory.normalise import country_name as _country_name
from certhub.directory.validators import format_fingerprint
from certhub.sharing.tlp import EXPLANATIONS, TLP

register = template.Library()


@register.simple_tag
def tlp_chip(label: str):
    """A TLP label in FIRST's colours on black; the label itself is never translated."""
    try:
        tlp = TLP(label)
    except ValueError:
        return ""
    css = "tlp tlp-" + tlp.value.replace("+", "-")
    return format_html('<span class="{}" title="{}">{}</span>', css, EXPLANATIONS[tlp], tlp.label)


@register.filter
def country_name(code: str | None) -> str:
    """The country's name in the current language ('TH' -> 'Thailand' / 'ไทย')."""
    if not code:
        return ""
    return _country_name(code, get_language() or "en")


@register.filter
def fingerprint(value: str | None) -> str:
    return format_fingerprint(value) if value else ""


@register.filter
def json_pretty(value) -> str:
    """Structured audit details, readable; the template escapes the result."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.simple_tag
def when(value: datetime | None, seconds: bool = False):
    """A stored UTC time shown in the active (user's) zone, with the zone's abbreviation,
    in a machine-readable <time> element."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return format_html('<time datetime="{}" title="{}">{} {}</time>', value.isoformat(),
                       date_format(local, "DATETIME_FORMAT"), text, local.tzname())


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (pagers keep the filters)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return "?" + params.urlencode()
