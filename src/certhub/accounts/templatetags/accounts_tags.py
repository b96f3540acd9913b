"""Template filters of the account pages."""

from __future__ import annotations

import math
from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def whole_minutes(value) -> int:
    """A timedelta (django-axes' lockout length) in whole minutes, rounded up."""
    if isinstance(value, timedelta):
        return max(1, math.ceil(value.total_seconds() / 60))
    return 0
