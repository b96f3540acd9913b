"""The pipeline end to end on a real-format feed: routing to the right inboxes, deduplication,
exactly-once processing across an interrupted run, invisibility of unfinished runs."""

from __future__ import annotations

import shutil

import pytest

from certhub.feeds import queries, services
from certhub.feeds.models import FeedRun, Finding, RunError, RunStatus
from certhub.feeds.pipeline import SimulatedCrash

from .conftest import SAMPLES, make_feed

pytestmark = pytest.mark.django_db


def inbox_values(user) -> set[str]:
    return set(queries.inbox(user).values_list("value", flat=True))


def test_sample_feed_ends_in_the_right_inboxes(world):
    feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    [run] = services.run_feed(feed)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.read, run.parsed, run.failed, run.duplicates, run.routed, run.unrouted) == (
        8, 6, 2, 1, 3, 2)
    assert run.routed_per_org == {str(world.thai.pk): 1, str(world.my.pk): 1,
                                  str(world.sg.pk): 1}
    assert inbox_values(world.thai_analyst) == {"http://1.0.128.1:40123/mozi.m".replace(
        "mozi.m", "Mozi.m")}
    assert inbox_values(world.my_analyst) == {"http://175.136.0.1/bins.sh"}
    assert inbox_values(world.sg_analyst) == {"http://update1.cdn.example.com:8080/payload.exe"}
    # Nobody in ASEAN is responsible for the US and NL addresses: no national inbox has them.
    for user in (world.thai_analyst, world.my_analyst, world.sg_analyst, world.bank_analyst,
                 world.partner_analyst):
        assert not inbox_values(user) & {"http://8.8.8.8/x86", "http://193.0.6.139/i"}
    assert inbox_values(world.bank_analyst) == set()
    assert inbox_values(world.partner_analyst) == set()
    # Hub staff see everything, the unrouted findings included.
    assert len(inbox_values(world.hub_admin)) == 5
    finding = queries.inbox(world.thai_analyst).get()
    assert (finding.country, finding.rule, finding.line, finding.taxonomy, finding.type) == (
        "TH", "country", 10, "malicious-code", "malware-distribution")
    assert finding.raw.startswith('"2025-03-02 09:58:05"')
    assert finding.tlp == "amber+strict"
    assert finding.extra == {"url_status": "online", "threat": "malware_download"}
    errors = list(RunError.objects.filter(run=run).values_list("line", flat=True))
    assert errors == [15, 16]


def test_rerunning_the_same_file_creates_nothing_new(world):
    feed = make_feed("urlhaus-th", "urlhaus-csv", SAMPLES / "urlhaus_country.csv")
    services.run_feed(feed)
    before = Finding.objects.count()
    [again] = services.run_feed(feed)
    assert Finding.objects.count() == before
    assert (again.duplicates, again.routed, again.unrouted) == (6, 0, 0)
    # A zero window turns deduplication off: the same rows come again.
    feed.dedupe_window_hours = 0
    feed.save()
    [third] = services.run_feed(feed)
    assert third.routed == 3
    assert Finding.objects.count() == before + 5


# The event path batches 200 events: lines 2-201 (line 1 is the header). The columnar path
# reads 200 physical lines at a time: the first holds the header and 199 events, and the second
# holds the broken line 335, so it is read by the parser and the 199 go as a batch of their own.
@pytest.mark.parametrize(("columnar", "first_position"), [(False, 201), (True, 200)])
def test_interrupted_run_resumes_and_processes_every_line_once(columnar, first_position, world,
                                                               settings, tmp_path):
    settings.FEEDS_COLUMNAR = columnar
    lines = [f'"2025-03-02 10:00:00","http://1.0.{128 + i // 250}.{i % 250 + 1}/x","online",'
             f'"malware_download","1.0.{128 + i // 250}.{i % 250 + 1}",'
             f'"1.0.{128 + i // 250}.{i % 250 + 1}","23969","TH"' for i in range(1000)]
    lines[333] = '"2025-03-02 10:00:00","broken"'
    path = tmp_path / "feed.csv"
    path.write_text("# Dateadded,URL,URL_status,Threat,Host,IPaddress,ASnumber,Country\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")
    feed = make_feed("big", "urlhaus-csv", path)
    with pytest.raises(SimulatedCrash):
        services.run_feed(feed, batch_size=200, fail_after_batches=1)
    run = FeedRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert run.position == first_position
    assert Finding.objects.filter(run=run).count() == first_position - 1
    # Nothing of the unfinished run is visible, not even to hub staff.
    assert not queries.inbox(world.thai_analyst).exists()
    assert not queries.visible_findings(world.hub_admin).exists()

    [resumed] = services.run_feed(feed, batch_size=200)
    assert resumed.pk == run.pk
    assert resumed.status == RunStatus.SUCCEEDED
    assert resumed.attempts == 2
    findings = Finding.objects.filter(run=run)
    assert findings.count() == 999
    assert sorted(findings.values_list("line", flat=True)) == [
        n for n in range(2, 1002) if n != 335]
    assert list(RunError.objects.filter(run=run).values_list("line", flat=True)) == [335]
    assert (resumed.read, resumed.failed, resumed.duplicates, resumed.routed) == (
        1000, 1, 0, 999)
    assert queries.inbox(world.thai_analyst).count() == 999


def test_resume_gives_up_when_the_input_changed(world, tmp_path):
    path = tmp_path / "feed.csv"
    shutil.copy(SAMPLES / "urlhaus_country.csv", path)
    feed = make_feed("changing", "urlhaus-csv", path)
    with pytest.raises(SimulatedCrash):
        services.run_feed(feed, batch_size=2, fail_after_batches=1)
    path.write_text(path.read_text() + '"2025-03-03 00:00:00","http://1.0.128.9/a","online",'
                    '"malware_download","1.0.128.9","1.0.128.9","23969","TH"\n')
    [fresh] = services.run_feed(feed, batch_size=2)
    first = FeedRun.objects.order_by("pk").first()
    assert first.status == RunStatus.FAILED
    assert first.error.startswith("given up")
    assert fresh.pk != first.pk
    assert fresh.status == RunStatus.SUCCEEDED
    # The abandoned run's findings never counted as seen: everything arrives once.
    assert fresh.duplicates == 1
    assert fresh.routed == 4
    assert queries.inbox(world.thai_analyst).count() == 2


def test_each_parser_routes_through_the_directory(world):
    cases = [
        ("feodo-json", "feodo_ipblocklist.json", {"thai": 1, "sg": 1, "my": 0}),
        ("feodo-csv", "feodo_ipblocklist.csv", {"thai": 1, "sg": 0, "my": 1}),
        ("spamhaus-drop", "spamhaus_drop.txt", {"thai": 1, "sg": 0, "my": 1}),
        ("spamhaus-drop", "spamhaus_dropv6.json", {"thai": 1, "sg": 1, "my": 0}),
        ("shadowserver-csv", "2025-03-02-event4_sinkhole_http-asean-geo.csv",
         {"thai": 1, "sg": 0, "my": 1}),
        ("stix2-bundle", "stix_bundle.json", {"thai": 2, "sg": 1, "my": 0}),
        ("misp-feed", "misp_feed", {"thai": 1, "sg": 1, "my": 1}),
    ]
    for number, (parser, sample, expected) in enumerate(cases):
        feed = make_feed(f"feed-{number}", parser, SAMPLES / sample)
        services.run_feed(feed)
        for org in ("thai", "sg", "my"):
            count = Finding.objects.filter(feed=feed, organisation=getattr(world, org)).count()
            assert count == expected[org], (parser, sample, org)


def test_misp_feed_findings_are_refanged_and_classified(world):
    feed = make_feed("misp", "misp-feed", SAMPLES / "misp_feed", source="folder")
    [run] = services.run_feed(feed)
    thai = queries.inbox(world.thai_analyst).get()
    assert thai.value == "https://secure-login.example.co.th/verify.php"
    assert (thai.taxonomy, thai.type, thai.rule) == ("fraud", "phishing", "domain")
    assert list(RunError.objects.filter(run=run).values_list("line", flat=True)) == [4]
    hub_hashes = queries.inbox(world.hub_admin, organisation_id=0).filter(value_type="sha256")
    assert hub_hashes.get().value == (
        "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c")


def test_row_classification_overrides_the_feed_and_is_checked(world):
    feed = make_feed("sensor", "generic-csv", SAMPLES / "generic.tsv", parser_params={
        "delimiter": "\\t", "value_type": "ipv4",
        "columns": {"time": "reported", "value": "address", "port": "port", "type": "kind"}},
        type="scanner")
    [run] = services.run_feed(feed)
    assert (run.parsed, run.failed) == (2, 2)
    reasons = dict(RunError.objects.filter(run=run).values_list("line", "reason"))
    assert set(reasons) == {5, 6}
    assert "no-such-type" in reasons[6]
    finding = queries.inbox(world.thai_analyst).get()
    assert (finding.taxonomy, finding.type) == ("intrusion-attempts", "brute-force")


def test_warninglist_flags(world):
    from certhub.feeds.connectors.experts import WarninglistFlagger

    if not WarninglistFlagger().available:
        pytest.skip("the warning lists (pymispwarninglists, intel app) are not installed")
    feed = make_feed("c2", "feodo-json", SAMPLES / "feodo_ipblocklist.json")
    services.run_feed(feed)
    flags = dict(Finding.objects.values_list("value", "warninglists"))
    assert any("DNS" in name for name in flags["8.8.8.8"])  # a public resolver
    assert flags["1.0.128.1"] is None
