"""Three organisations: ThaiCERT (A) shares an AMBER report with MyCERT (B) only. B sees it and
its correlation with B's own report; SingCERT (C) holds the same value and sees neither the
report, nor the correlation, nor a count or lookup hit that would betray it."""

from __future__ import annotations

import pytest

from certhub.core.errors import NotFound
from certhub.intel import queries, services
from certhub.intel.models import Observable, Report, Sighting, StixObject
from certhub.sharing.models import UnrestrictedQueryError

VALUE = "c2.shared-example.net"


@pytest.fixture
def three(world, stix_bundle):
    a = services.import_stix(stix_bundle, user=world.thai_analyst, tlp="amber",
                             audience_orgs=[world.my])
    services.add_observables(a.pk, [("domain-name", VALUE)], user=world.thai_analyst)
    services.add_sighting(user=world.thai_analyst, value=VALUE, count=5, tlp="amber",
                          audience_orgs=[world.my])
    b = services.create_report(user=world.my_analyst, title="B's own", tlp="amber",
                               observables=[("", VALUE)])
    c = services.create_report(user=world.sg_analyst, title="C's own", tlp="amber",
                               observables=[("", VALUE)])
    return a, b, c


def test_recipient_sees_report_and_correlation(world, three):
    a, b, _c = three
    user = world.my_analyst
    assert a in queries.reports(user)
    assert queries.report(user, a.pk) == a
    correlated = queries.correlations(user, b)
    assert [c.report for c in correlated] == [a]
    assert correlated[0].shared_values == [VALUE]
    assert queries.correlation_count(user, b) == 1
    assert queries.stix_objects(user, a).count() == StixObject.unrestricted.filter(
        report=a).count()


def test_outsider_sees_nothing_of_it(world, three):
    a, _b, c = three
    user = world.sg_analyst
    assert list(queries.reports(user)) == [c]
    with pytest.raises(NotFound):
        queries.report(user, a.pk)
    assert queries.correlations(user, c) == []
    assert queries.correlation_count(user, c) == 0
    assert not Observable.objects.visible_to(user).filter(report=a).exists()
    assert not StixObject.objects.visible_to(user).filter(report=a).exists()
    assert not queries.reports(user, value=VALUE).exclude(pk=c.pk).exists()


def test_outsider_lookup_and_value_page_count_only_visible_rows(world, three):
    a, b, c = three
    outsider = queries.lookup(world.sg_analyst, [VALUE, "198.51.100[.]7"])
    assert outsider[0].report_ids == [c.pk]
    assert outsider[0].sightings_count == 0
    assert outsider[1].report_ids == []
    assert not outsider[1].found
    insider = queries.lookup(world.my_analyst, [VALUE])[0]
    assert sorted(insider.report_ids) == sorted([a.pk, b.pk])
    assert insider.sightings_count == 5
    page = queries.value_page(world.sg_analyst, VALUE)
    assert page["reports"] == [c]
    assert page["sightings"] == []
    assert page["sighting_totals"]["count"] is None


def test_outsider_cannot_export_it(world, three):
    a, _b, c = three
    with pytest.raises(NotFound):
        services.export_stix([a.pk], user=world.sg_analyst)
    with pytest.raises(NotFound):
        services.export_misp(a.pk, user=world.sg_analyst)
    everything = services.export_stix(None, user=world.sg_analyst)
    ids = {o["id"] for o in everything["objects"]}
    assert a.stix_id not in ids
    assert c.stix_id in ids


def test_outsider_cannot_change_it_and_is_told_not_found(world, three):
    a, _b, _c = three
    with pytest.raises(NotFound):
        services.update_report(a.pk, user=world.sg_analyst, title="mine now")
    with pytest.raises(NotFound):
        services.delete_report(a.pk, user=world.sg_analyst)
    with pytest.raises(NotFound):
        services.add_observables(a.pk, [("", "1.2.3.4")], user=world.sg_analyst)


def test_reads_without_the_rule_fail_loudly(three):
    for model in (Report, Sighting, Observable, StixObject):
        with pytest.raises(UnrestrictedQueryError):
            list(model.objects.all())
        with pytest.raises(UnrestrictedQueryError):
            model.objects.count()
