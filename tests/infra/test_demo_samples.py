"""`certhub loaddemo` also loads sample activity, through the services, as the demo users: each
organisation sees what the sharing rule gives it, and a second run adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from certhub.accounts.models import User
from certhub.feeds.models import Finding
from certhub.feeds.queries import visible_findings
from certhub.incidents.models import CoordinationRequest, Incident
from certhub.intel.models import Report

pytestmark = pytest.mark.django_db


def _user(local_part):
    return User.objects.get(email=f"{local_part}@demo.certhub.invalid")


def test_samples_reach_the_right_people_and_load_once(capsys):
    call_command("loaddemo", "--quiet")
    thai, malaysian, singapore = (_user("thaicert.analyst"), _user("mycert.analyst"),
                                  _user("singcert.analyst"))

    # ThaiCERT's GREEN report reaches every member; MyCERT's AMBER one ThaiCERT only.
    assert Report.objects.visible_to(thai).count() == 2
    assert Report.objects.visible_to(malaysian).count() == 2
    assert Report.objects.visible_to(singapore).count() == 1

    # The feed samples end in the national CERTs' inboxes, and only there.
    thai_findings = set(visible_findings(thai).values_list("value", flat=True))
    my_findings = set(visible_findings(malaysian).values_list("value", flat=True))
    assert thai_findings
    assert my_findings
    assert not thai_findings & my_findings
    assert all(f.organisation_id == thai.organisation_id for f in visible_findings(thai))

    # The incident: ThaiCERT's, with a request to MyCERT, invisible to SingCERT.
    assert Incident.objects.visible_to(malaysian).count() == 1
    assert not Incident.objects.visible_to(singapore).exists()
    request = CoordinationRequest.objects.visible_to(malaysian).get()
    assert request.to_org == malaysian.organisation

    counts = (Report.unrestricted.count(), Finding.objects.count(),
              Incident.unrestricted.count(), CoordinationRequest.unrestricted.count())
    capsys.readouterr()
    call_command("loaddemo", "--quiet")
    assert "already there" in capsys.readouterr().out
    assert counts == (Report.unrestricted.count(), Finding.objects.count(),
                      Incident.unrestricted.count(), CoordinationRequest.unrestricted.count())
