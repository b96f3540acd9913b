"""The daily findings digest: one email per organisation, with a CSV of the findings delivered
to it since its last digest, sent to its incident-report and 24/7 emergency contacts
(PGP/MIME-encrypted to the contact's key, else to the team key, when there is one).

"Since the last digest" is counted by the time a finding's run *finished* (when the findings
became visible), not by when each line was received: a run that straddles the cut-off is in
exactly one digest. Each digest keeps its window in the notify message's payload; the
deduplication key ``feeds.digest:<organisation id>:<UTC date>`` makes it at most one per
organisation and day, even if the beat fires twice or two workers race.

Beat: ``certhub.feeds.send_digests`` daily (settings.CELERY_BEAT_SCHEDULE, 01:00 UTC).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.directory.models import Contact, ContactRole, Organisation
from certhub.notify import queries as notify_queries
from certhub.notify import services as notify

from . import queries
from .models import Finding, RunStatus

log = logging.getLogger(__name__)

EVENT = "feeds.digest"
DIGEST_ROLES = (ContactRole.INCIDENT_REPORTS, ContactRole.EMERGENCY)
MAX_ROWS = 100_000  # a bigger day is cut here; the body says so and points to the inbox
FIRST_WINDOW = dt.timedelta(days=1)


def _key_prefix(organisation: Organisation) -> str:
    return f"{EVENT}:{organisation.pk}:"


def window(organisation: Organisation, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[since, until): from the end of the last digest (or a day back) to ``now``."""
    last = notify_queries.latest_message(EVENT, _key_prefix(organisation))
    since = None
    if last is not None and isinstance(last.payload, dict) and last.payload.get("until"):
        since = dt.datetime.fromisoformat(last.payload["until"])
    return since or now - FIRST_WINDOW, now


def findings_for(organisation: Organisation, since: dt.datetime, until: dt.datetime):
    """The organisation's own findings of runs that succeeded in the window. The system sends
    an organisation what is routed to it, the rule of ``queries.visible_findings`` for its
    users (published runs, this organisation only)."""
    return (queries.routed_to(organisation)
            .filter(run__finished_at__gte=since, run__finished_at__lt=until)
            .select_related("feed", "organisation").order_by("created", "id"))


def recipients(organisation: Organisation) -> list[Contact]:
    # The system writes to the organisation's own points of contact; nothing is shown to a
    # user, so the sharing rule (who may see a contact) does not apply here.
    return list(Contact.unrestricted.filter(owner=organisation, role__in=DIGEST_ROLES,
                                            is_example=False)
                .exclude(email="").select_related("owner").order_by("role", "pk"))


def _csv_bytes(findings, limit: int) -> tuple[bytes, int]:
    rows = list(findings[:limit + 1])
    truncated = len(rows) > limit
    text = "".join(queries.inbox_csv(_Rows(rows[:limit])))
    return text.encode("utf-8"), (limit if truncated else len(rows))


class _Rows(list):
    """A list that quacks like the queryset ``inbox_csv`` iterates."""

    def iterator(self, chunk_size: int = 2000):
        return iter(self)


def _body(organisation: str, count: int, total: int, since: str, until: str, per_feed: str,
          link: str) -> str:
    lines = [
        _("Findings delivered to %(organisation)s between %(since)s and %(until)s (UTC): "
          "%(count)d.") % {"organisation": organisation, "since": since, "until": until,
                           "count": total},
        "",
        _("By feed:"),
        per_feed,
        "",
        _("The attached CSV file lists them, one per line."),
    ]
    if count < total:
        lines.append(_("The file was cut at %(count)d lines; the inbox has all of them.")
                     % {"count": count})
    lines += ["", _("Your findings inbox: %(link)s") % {"link": link}]
    return "\n".join(lines)


_lazy_body = lazy(_body, str)


def send_digest(organisation: Organisation, *, now: dt.datetime | None = None) -> int:
    """The digest of one organisation; returns the emails queued (0: nothing new, already
    sent today, or nobody to send to)."""
    now = now or timezone.now()
    dedupe_key = f"{_key_prefix(organisation)}{now.astimezone(dt.UTC):%Y-%m-%d}"
    if notify_queries.message_exists(dedupe_key):
        return 0
    since, until = window(organisation, now)
    findings = findings_for(organisation, since, until)
    total = findings.count()
    if not total:
        return 0
    contacts = recipients(organisation)
    per_feed_counts: dict[str, int] = {}
    for name in findings.values_list("feed__name", flat=True).iterator():
        per_feed_counts[name] = per_feed_counts.get(name, 0) + 1
    per_feed = "\n".join(f"- {name}: {n}" for name, n in sorted(per_feed_counts.items()))
    content, count = _csv_bytes(findings, MAX_ROWS)
    stamp = f"{until.astimezone(dt.UTC):%Y-%m-%d}"
    fmt = "%Y-%m-%d %H:%M"
    link = settings.SITE_URL.rstrip("/") + "/feeds/"
    subject = format_lazy(gettext_lazy("Findings digest for {organisation}: {count} new"),
                          organisation=organisation.short_name, count=total)
    body = _lazy_body(organisation.short_name, count, total,
                      since.astimezone(dt.UTC).strftime(fmt),
                      until.astimezone(dt.UTC).strftime(fmt), per_feed, link)
    sent = notify.mail_contacts(
        EVENT, subject=subject, body=body, contacts=contacts, url="/feeds/",
        attachments=[(f"findings-{organisation.slug}-{stamp}.csv", content, "text/csv")],
        payload={"organisation": organisation.pk, "since": since.isoformat(),
                 "until": until.isoformat(), "findings": total},
        dedupe_key=dedupe_key)
    if not contacts:
        log.info("digest of %s: %d findings but no incident-report or 24/7 contact with an "
                 "email address", organisation, total)
    return sent


def send_digests(now: dt.datetime | None = None) -> dict[str, int]:
    """Every organisation's digest: {short name: emails queued} for those sent."""
    now = now or timezone.now()
    sent = {}
    org_ids = (Finding.objects.filter(run__status=RunStatus.SUCCEEDED,
                                      organisation__isnull=False,
                                      run__finished_at__gte=now - dt.timedelta(days=31))
               .values("organisation_id").distinct())
    for organisation in Organisation.objects.filter(pk__in=org_ids):
        try:
            count = send_digest(organisation, now=now)
        except Exception:  # one organisation's failure must not stop the others
            log.exception("digest of %s failed", organisation)
            continue
        if count:
            sent[organisation.short_name] = count
    return sent


@shared_task(name="certhub.feeds.send_digests")
def send_digests_task() -> dict[str, int]:
    return send_digests()
