"""/api/v1/audit/: hub administrators browse the log; everyone else gets 404."""

from __future__ import annotations

import pytest

from certhub.accounts import tokens

URL = "/api/v1/audit/entries"


def bearer(user) -> dict:
    _, secret = tokens.issue(user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_hub_admin_browses_newest_first_with_a_count(client, chain, world):
    response = client.get(URL, **bearer(world.hub_admin))
    assert response.status_code == 200
    body = response.json()
    # Issuing the token above is itself audited.
    assert body["count"] >= 5
    seqs = [item["seq"] for item in body["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert {"actor", "organisation", "address", "action", "object_type", "hash"} <= set(
        body["items"][0])


def test_filters_and_pagination(client, chain, world):
    auth = bearer(world.hub_admin)
    body = client.get(URL, {"object_type": "directory.contact", "object_id": "7"}, **auth).json()
    assert [item["seq"] for item in body["items"]] == [3, 2]
    body = client.get(URL, {"action": "view_red"}, **auth).json()
    assert body["count"] == 1
    assert body["items"][0]["actor"] == world.my_analyst.email
    body = client.get(URL, {"actor": "thai", "limit": 1, "offset": 1}, **auth).json()
    assert body["count"] == 3
    assert len(body["items"]) == 1
    response = client.get(URL, {"action": "nonsense"}, **auth)
    assert response.status_code == 400
    assert response.json()["field"] == "action"


def test_one_entry_by_sequence_number(client, chain, world):
    auth = bearer(world.hub_admin)
    assert client.get(f"{URL}/4", **auth).json()["object_repr"] == "Red contact"
    assert client.get(f"{URL}/999", **auth).status_code == 404


@pytest.mark.parametrize("who", ["thai_admin", "thai_analyst", "my_analyst", "thai_viewer"])
def test_everyone_else_gets_404(client, chain, world, who):
    auth = bearer(getattr(world, who))
    for url in (URL, f"{URL}/1"):
        response = client.get(url, **auth)
        assert response.status_code == 404
        assert "Red contact" not in response.content.decode()


def test_anonymous_gets_404(client, chain):
    for url in (URL, f"{URL}/1"):
        assert client.get(url).status_code == 404
