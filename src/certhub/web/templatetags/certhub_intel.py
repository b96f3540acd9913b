"""Template helpers of the intel pages: defanged values, tag chips."""

from __future__ import annotations

from django import template

from certhub.core.errors import InvalidInput
from certhub.intel.normalise import ObservableType, defang, detect

register = template.Library()
_TYPE_LABELS = dict(ObservableType.choices)


@register.filter
def defanged(value: str, kind: str) -> str:
    """The value made unclickable (hxxp://, 1.2.3[.]4); the template escapes it."""
    return defang(value or "", kind or "")


@register.filter
def type_label(kind: str) -> str:
    return str(_TYPE_LABELS.get(kind, kind))


@register.filter
def defanged_auto(value: str) -> str:
    """A stored (canonical) value of unknown type, defanged by its recognised type."""
    try:
        kind, canonical = detect(value or "")
    except InvalidInput:
        return value or ""
    return defang(canonical, kind)


@register.filter
def defanged_text(text: str) -> str:
    """Free text (an indicator's name, a STIX pattern) with every indicator in it defanged."""
    from ioc_fanger import defang as defang_text

    return defang_text(text) if text else ""
