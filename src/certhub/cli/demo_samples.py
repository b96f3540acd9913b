"""Sample activity for the demo, on top of the demo directory: shared reports, two feed runs
routed to the national CERTs' inboxes, and an incident with a coordination request.

Everything goes through the apps' own services, as the demo users, so the demo shows what a
real member would see. Safe to run again: each sample is skipped when it is already there.
Lives in `cli` because it touches every domain app (the only layer allowed to).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from certhub.accounts.models import User
from certhub.feeds import services as feed_services
from certhub.feeds.models import Feed
from certhub.incidents import services as incident_services
from certhub.incidents.models import Incident
from certhub.intel import services as intel_services
from certhub.intel.models import Report
from certhub.sharing.tlp import TLP

DATA = Path(__file__).resolve().parent / "data" / "demo"
DEMO_DOMAIN = "@demo.certhub.invalid"
INCIDENT_TITLE = "Phishing kit hosted in Malaysia targets Thai bank customers"
FEEDS = (("demo-urlhaus-th", "urlhaus-csv", "urlhaus_country.csv"),
         ("demo-feodo", "feodo-csv", "feodo_ipblocklist.csv"))


@dataclass
class SampleCounts:
    reports: int = 0
    feed_runs: int = 0
    findings: int = 0
    incidents: int = 0
    skipped: list[str] = field(default_factory=list)


def _user(local_part: str) -> User:
    return User.objects.get(email=f"{local_part}{DEMO_DOMAIN}")


def load_samples() -> SampleCounts:
    """Load every sample that is not there yet (the demo directory must be loaded first)."""
    counts = SampleCounts()
    _load_reports(counts)
    _run_feeds(counts)
    _open_incident(counts)
    return counts


def _load_reports(counts: SampleCounts) -> None:
    thai, malaysian = _user("thaicert.analyst"), _user("mycert.analyst")
    bundle = json.loads((DATA / "stix_bundle.json").read_text(encoding="utf-8"))
    if Report.unrestricted.filter(owner=thai.organisation, source="stix").exists():
        counts.skipped.append("STIX report")
    else:
        intel_services.import_stix(bundle, user=thai, tlp=TLP.GREEN,
                                   title="Mozi botnet infrastructure seen in Thailand")
        counts.reports += 1
    event = json.loads((DATA / "misp_event.json").read_text(encoding="utf-8"))
    if Report.unrestricted.filter(owner=malaysian.organisation, source="misp").exists():
        counts.skipped.append("MISP report")
    else:
        # AMBER for ThaiCERT only: SingCERT's demo analyst shows what others don't see.
        counts.reports += len(intel_services.import_misp(
            event, user=malaysian, tlp=TLP.AMBER,
            audience_orgs=[thai.organisation]))


def _run_feeds(counts: SampleCounts) -> None:
    for name, parser, filename in FEEDS:
        path = DATA / filename
        if Feed.objects.filter(name=name, last_started_at__isnull=False).exists():
            counts.skipped.append(f"feed {name}")
            continue
        feed = feed_services.ingest_feed(name, path, parser, {})
        for run in feed_services.run_feed(feed, trigger="demo", input_path=path):
            counts.feed_runs += 1
            counts.findings += run.routed or 0


def _open_incident(counts: SampleCounts) -> None:
    if Incident.unrestricted.filter(title=INCIDENT_TITLE).exists():
        counts.skipped.append("incident")
        return
    thai, mycert = _user("thaicert.analyst"), _user("mycert.analyst").organisation
    with transaction.atomic():
        incident = incident_services.create_incident(
            user=thai, title=INCIDENT_TITLE, tlp=TLP.AMBER, severity="high",
            taxonomy="fraud", type="phishing", countries=["TH", "MY"], sectors=["banking"],
            description="Customers of a Thai bank received SMS messages linking to a "
                        "credential-phishing kit on a server in Malaysia.\n\n"
                        "* first report: 2 March 2025, 08:10 UTC\n"
                        "* kit: `hxxp://175.136.0.1/bank/login.php`",
            indicators=[("url", "http://175.136.0.1/bank/login.php"),
                        ("ipv4-addr", "175.136.0.1")])
        incident_services.create_request(
            incident.pk, user=thai, to_org=mycert, kind="takedown",
            text="Please have the hosting provider take the phishing kit down and keep the "
                 "logs: the server is in your constituency (AS4788).")
    counts.incidents += 1
