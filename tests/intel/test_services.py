from __future__ import annotations

import pytest

from certhub.audit.models import Action, AuditEntry
from certhub.core.errors import InvalidInput, PermissionDenied
from certhub.intel import queries, services
from certhub.intel.models import Observable, Report, Sighting


@pytest.fixture
def report(world):
    return services.create_report(user=world.thai_analyst, title="Phishing wave", tlp="green",
                                  labels=["phishing"],
                                  observables=[("", "hxxp://evil[.]example/login"),
                                               ("ipv4-addr", "192.0.2[.]10")])


def test_create_normalises_observables_and_audits(report):
    values = set(Observable.unrestricted.filter(report=report).values_list("type", "value"))
    assert values == {("url", "http://evil.example/login"), ("ipv4-addr", "192.0.2.10")}
    assert AuditEntry.objects.filter(action=Action.CREATE, object_id=str(report.pk)).exists()


def test_bad_observable_is_named_and_nothing_stored(world):
    with pytest.raises(InvalidInput, match="observable 2"):
        services.create_report(user=world.thai_analyst, title="x", tlp="green",
                               observables=[("", "1.2.3.4"), ("md5", "nothex")])
    assert not Report.unrestricted.exists()


def test_viewer_cannot_write(world):
    with pytest.raises(PermissionDenied):
        services.create_report(user=world.thai_viewer, title="x", tlp="green")


def test_update_by_owner_and_refusal_for_a_reader_of_another_org(world, report):
    services.update_report(report.pk, user=world.thai_admin, title="Renamed", tlp="amber")
    report.refresh_from_db()
    assert (report.title, report.tlp) == ("Renamed", "amber")
    assert AuditEntry.objects.filter(action=Action.CHANGE, object_id=str(report.pk)).exists()
    services.update_report(report.pk, user=world.thai_admin, tlp="green")
    # MyCERT sees the GREEN report but may not edit it: 403, not 404.
    with pytest.raises(PermissionDenied):
        services.update_report(report.pk, user=world.my_analyst, title="Hijacked")
    with pytest.raises(InvalidInput):
        services.update_report(report.pk, user=world.thai_admin, owner=world.my)


def test_delete_removes_observables_and_audits(world, report):
    services.delete_report(report.pk, user=world.thai_analyst)
    assert not Report.unrestricted.filter(pk=report.pk).exists()
    assert not Observable.unrestricted.exists()
    assert AuditEntry.objects.filter(action=Action.DELETE, object_id=str(report.pk)).exists()


def test_sighting_is_normalised_and_counted_in_lookup(world, report):
    services.add_sighting(user=world.my_analyst, value="192.0.2[.]10", count=3, tlp="green",
                          country="th")
    services.add_sighting(user=world.sg_analyst, value="192.0.2.10", count=2, tlp="green")
    match = queries.lookup(world.thai_analyst, ["192.0.2.10"])[0]
    assert match.sightings_count == 5
    assert match.report_ids == [report.pk]
    with pytest.raises(InvalidInput):
        services.add_sighting(user=world.my_analyst, value="192.0.2.10", count=0)


def test_batch_lookup_keeps_order_reports_errors_and_spans_chunks(world, report):
    values = [f"10.9.{i // 256}.{i % 256}" for i in range(2500)] + ["192.0.2.10", "not a thing"]
    results = queries.lookup(world.thai_analyst, values)
    assert [r.query for r in results] == values
    assert results[-2].report_ids == [report.pk]
    assert results[-1].error
    assert not any(r.found for r in results[:-2])


def test_lookup_refuses_more_than_the_limit(world):
    with pytest.raises(InvalidInput):
        queries.lookup(world.thai_analyst, ["1.1.1.1"] * (queries.LOOKUP_LIMIT + 1))


def test_report_filters(world, report):
    user = world.my_analyst
    assert list(queries.reports(user, label="phishing")) == [report]
    assert list(queries.reports(user, search="wave")) == [report]
    assert list(queries.reports(user, value="hxxp://EVIL[.]example/login")) == [report]
    assert list(queries.reports(user, tlp="amber")) == []


def test_audience_must_fit_the_label(world):
    with pytest.raises(InvalidInput):
        services.create_report(user=world.thai_analyst, title="x", tlp="clear",
                               audience_orgs=[world.my])
    assert not Report.unrestricted.exists()


def test_tightening_a_report_tightens_the_sightings_that_came_with_it(world, stix_bundle):
    report = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="green")
    assert Sighting.objects.visible_to(world.sg_analyst).exists()
    services.update_report(report.pk, user=world.thai_analyst, tlp="amber",
                           audience_orgs=[world.my])
    assert not Sighting.objects.visible_to(world.sg_analyst).exists()
    assert Sighting.objects.visible_to(world.my_analyst).exists()
