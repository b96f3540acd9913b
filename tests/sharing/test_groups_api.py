"""Sharing groups API: list and detail for signed-in users, writes by the right admins."""

from __future__ import annotations

import json

import pytest

from certhub.accounts import tokens
from certhub.accounts.models import TokenScope
from certhub.sharing import services
from certhub.sharing.models import SharingGroup


def _call(client, method, user, path, data=None):
    headers = {}
    if user is not None:
        scope = TokenScope.WRITE if user.can_write else TokenScope.READ
        headers["HTTP_AUTHORIZATION"] = "Bearer " + tokens.issue(user, name="t", scope=scope)[1]
    url = "/api/v1/sharing" + path
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(url, json.dumps(data) if data is not None else "",
                                   content_type="application/json", **headers)


@pytest.fixture
def group(world):
    return services.create_group(world.hub_admin, name="ASEAN national CERTs",
                                 managed_by=world.hub, members=[world.thai, world.my])


def test_signed_in_users_list_groups_with_members(client, world, group):
    response = _call(client, "get", world.partner_analyst, "/groups")
    assert response.status_code == 200
    (body,) = response.json()
    assert body["slug"] == "asean-national-certs"
    assert body["managed_by"] == "ASEAN-CERT"
    assert {m["short_name"] for m in body["members"]} == {"ThaiCERT", "MyCERT"}
    assert body["member_count"] == 2
    detail = _call(client, "get", world.thai_viewer, "/groups/asean-national-certs")
    assert detail.status_code == 200


def test_anonymous_cannot_list_groups(client, world, group):
    assert _call(client, "get", None, "/groups").status_code == 401
    assert _call(client, "get", None, "/groups/asean-national-certs").status_code == 401


def test_hub_admin_creates_group_others_cannot(client, world):
    data = {"name": "Thai banking sector", "managed_by": "ThaiCERT",
            "members": ["ThaiCERT", "Example Bank"]}
    assert _call(client, "post", world.thai_admin, "/groups", data).status_code == 403
    response = _call(client, "post", world.hub_admin, "/groups", data)
    assert response.status_code == 201, response.content
    assert response.json()["member_count"] == 2
    bad = _call(client, "post", world.hub_admin, "/groups",
                {"name": "Other", "managed_by": "ThaiCERT", "members": ["Nowhere"]})
    assert bad.status_code == 400
    assert bad.json()["field"] == "members"
    assert not SharingGroup.objects.filter(name="Other").exists()


def test_members_are_managed_by_the_hub_and_the_managing_org(client, world, group):
    add = _call(client, "post", world.hub_admin, "/groups/asean-national-certs/members",
                {"members": ["SingCERT"]})
    assert add.status_code == 200
    assert add.json()["member_count"] == 3
    assert _call(client, "post", world.thai_admin, "/groups/asean-national-certs/members",
                 {"members": ["Example Bank"]}).status_code == 403
    removed = _call(client, "delete", world.hub_admin,
                    "/groups/asean-national-certs/members/MyCERT")
    assert {m["short_name"] for m in removed.json()["members"]} == {"ThaiCERT", "SingCERT"}
    replaced = _call(client, "put", world.hub_admin, "/groups/asean-national-certs/members",
                     {"members": ["ThaiCERT"]})
    assert replaced.json()["member_count"] == 1
    renamed = _call(client, "patch", world.hub_admin, "/groups/asean-national-certs",
                    {"description": "National CERTs"})
    assert renamed.json()["description"] == "National CERTs"
    assert _call(client, "get", world.hub_admin, "/groups/nope").status_code == 404
