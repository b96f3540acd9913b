"""When a feed is due: an interval ("every 30m", "every 6h", "every 1d") or a five-field cron
expression ("15 */6 * * *", minute hour day-of-month month day-of-week, UTC).

An empty schedule means the feed runs only when asked (CLI, admin, API). Cron expressions are
evaluated with Celery's own ``crontab`` so beat and this module agree.
"""

from __future__ import annotations

import datetime as dt
import re

from celery.schedules import crontab
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

_INTERVAL = re.compile(r"\Aevery\s+(\d+)\s*([mhd])\Z", re.IGNORECASE)
_UNITS = {"m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_S = 60


def parse(text: str) -> dt.timedelta | crontab | None:
    """The schedule, or InvalidInput with the reason; None when the schedule is empty."""
    text = (text or "").strip()
    if not text:
        return None
    interval = _INTERVAL.match(text)
    if interval:
        seconds = int(interval.group(1)) * _UNITS[interval.group(2).lower()]
        if seconds < MIN_INTERVAL_S:
            raise InvalidInput(_("A feed cannot run more often than once a minute."),
                               field="schedule")
        return dt.timedelta(seconds=seconds)
    fields = text.split()
    if len(fields) != 5:
        raise InvalidInput(_("%(schedule)s is neither 'every N m|h|d' nor a five-field cron "
                             "expression.") % {"schedule": text}, field="schedule")
    minute, hour, day_of_month, month, day_of_week = fields
    try:
        schedule = crontab(minute=minute, hour=hour, day_of_month=day_of_month,
                           month_of_year=month, day_of_week=day_of_week)
        schedule.minute  # noqa: B018  (the fields are parsed lazily on first access)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(_("%(schedule)s is not a valid cron expression: %(reason)s")
                           % {"schedule": text, "reason": exc}, field="schedule") from None
    return schedule


def is_due(text: str, last_started: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a feed with this schedule, last started at ``last_started``, is due at ``now``."""
    schedule = parse(text)
    if schedule is None:
        return False
    if last_started is None:
        return True
    if isinstance(schedule, dt.timedelta):
        return now - last_started >= schedule
    # The first cron fire time after the last start has passed.
    return _next_fire(schedule, last_started) <= now


def _next_fire(schedule: crontab, after: dt.datetime) -> dt.datetime:
    moment = after.astimezone(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for _step in range(366 * 24 * 60):  # a year of minutes at most
        if (moment.minute in schedule.minute and moment.hour in schedule.hour
                and moment.day in schedule.day_of_month
                and moment.month in schedule.month_of_year
                and (moment.isoweekday() % 7) in schedule.day_of_week):
            return moment
        moment += dt.timedelta(minutes=1)
    return dt.datetime.max.replace(tzinfo=dt.UTC)
