"""The TAXII client pulls from certhub's own TAXII 2.1 server, live over HTTP: one member's
shared intelligence, read through the hub's "visible" collection with an API token (HTTP Basic:
email + token), becomes reports of another member's organisation, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certhub.accounts import tokens
from certhub.accounts.models import TokenScope
from certhub.intel import services as intel_services
from certhub.intel.models import Report, StixObject
from certhub.taxii import services as taxii_services
from certhub.taxii.client import services
from certhub.taxii.client.models import AuthKind, RemoteCollection, RunStatus
from certhub.taxii.models import Collection, CollectionKind

SAMPLE = Path(__file__).parent.parent / "intel" / "samples" / "stix_bundle.json"


@pytest.mark.django_db(transaction=True)
def test_pull_from_certhubs_own_live_server(world, live_server):
    intel_services.import_stix(json.loads(SAMPLE.read_text()), user=world.my_analyst,
                               tlp="green")
    root = taxii_services.ensure_defaults()
    visible = Collection.objects.get(api_root=root, kind=CollectionKind.VISIBLE)
    token = tokens.issue(world.thai_analyst, name="pull", scope=TokenScope.READ)[1]
    remote = RemoteCollection(
        name="hub-itself", api_root_url=f"{live_server.url}/taxii2/{root.slug}/",
        collection_id=str(visible.id), auth=AuthKind.BASIC, username=world.thai_analyst.email,
        secret=token, owner=world.thai, run_as=world.thai_analyst, tlp="amber", page_size=3,
        timeout=20)
    remote.full_clean()
    remote.save()

    run = services.pull(remote)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.fetched, run.stored, run.failed) == (8, 8, 0)
    assert run.pages >= 3
    pulled = Report.objects.visible_to(world.thai_analyst).filter(owner=world.thai)
    assert pulled.count() == 1
    assert pulled.get().tlp == "amber"
    remote.refresh_from_db()
    assert remote.added_after

    again = services.pull(remote)
    assert again.status == RunStatus.SUCCEEDED, again.error
    assert again.stored == 0
    assert StixObject.unrestricted.filter(report__owner=world.thai).count() == 8
