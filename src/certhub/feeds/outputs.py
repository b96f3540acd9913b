"""What a finished feed run sends out: one signed "feeds.findings" webhook call per organisation
that received findings (to its webhooks subscribed to the event). The daily email digest is
separate (digest.py).

``deliver_run_outputs(run)`` is called by the feeds engine once a run has succeeded and its
commit is durable (services._deliver_outputs, on_commit). It is idempotent: the
deduplication key ``feeds.findings:<run>:<organisation>`` makes a repeated call (a resumed or
re-delivered run) send nothing twice.

Payload (the ``data`` of the webhook body, see docs/notifications.md):

    {"feed": "urlhaus-asean", "run": 12, "finished": "2026-11-23T10:00:00Z",
     "organisation": "ThaiCERT", "count": 3, "truncated": false,
     "findings_url": "https://hub.example/api/v1/feeds/findings?run_id=12",
     "findings": [{"id", "received", "observed", "taxonomy", "type", "value_type", "value",
                   "ip", "port", "asn", "country", "tlp"}, ...]}

At most ``MAX_FINDINGS`` findings ride in the call; the rest are fetched from the API.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from certhub.directory.models import Organisation
from certhub.notify import services as notify

from . import queries
from .models import FeedRun, Finding, RunStatus

log = logging.getLogger(__name__)

EVENT = "feeds.findings"
MAX_FINDINGS = 500


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _finding(finding: Finding) -> dict:
    return {"id": finding.pk, "received": _iso(finding.created),
            "observed": _iso(finding.observed_at), "taxonomy": finding.taxonomy,
            "type": finding.type, "value_type": finding.value_type, "value": finding.value,
            "ip": finding.ip, "port": finding.port, "asn": finding.asn,
            "country": finding.country, "tlp": finding.tlp}


def deliver_run_outputs(run: FeedRun) -> int:
    """Queue the "feeds.findings" webhook calls of a succeeded run; returns how many."""
    run = FeedRun.objects.select_related("feed").get(pk=run.pk)
    if run.status != RunStatus.SUCCEEDED:
        return 0
    org_ids = [int(key) for key, count in (run.routed_per_org or {}).items()
               if count and str(key).isdigit()]
    if not org_ids:
        return 0
    queued = 0
    api = settings.SITE_URL.rstrip("/") + "/api/v1/feeds/findings"
    for organisation in Organisation.objects.filter(pk__in=org_ids, webhooks__active=True) \
            .distinct():
        findings = queries.routed_to(organisation).filter(run=run).order_by("id")
        total = findings.count()
        if not total:
            continue
        rows = [_finding(f) for f in findings[:MAX_FINDINGS]]
        payload = {"feed": run.feed.name, "run": run.pk, "finished": _iso(run.finished_at),
                   "organisation": organisation.short_name, "count": total,
                   "truncated": total > len(rows), "findings_url": f"{api}?run_id={run.pk}",
                   "findings": rows}
        queued += notify.call_webhooks(EVENT, organisations=[organisation], payload=payload,
                                       dedupe_key=f"{EVENT}:{run.pk}:{organisation.pk}")
    return queued
