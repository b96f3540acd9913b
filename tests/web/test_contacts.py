"""The organisation page shows exactly the points of contact the visitor may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from certhub.audit.models import Action, AuditEntry

from .conftest import logged_in

pytestmark = pytest.mark.django_db

PAGE = reverse("web:organisation", args=["thaicert"])


def _names(response) -> set[str]:
    return {contact.name for contact in response.context["contacts"]}


def test_anonymous_sees_clear_contacts_only(client, directory):
    response = client.get(PAGE)
    assert _names(response) == {"Public incident desk"}
    text = response.content.decode()
    assert "Night duty officer" not in text
    assert "+6621234567" not in text
    assert "Head of operations" not in text


def test_analyst_of_another_cert_does_not_see_amber_contact(directory):
    response = logged_in(directory.my_analyst).get(PAGE)
    assert _names(response) == {"Public incident desk"}
    assert "Night duty officer" not in response.content.decode()


def test_amber_audience_sees_amber_contact(directory):
    response = logged_in(directory.sg_analyst).get(PAGE)
    assert _names(response) == {"Public incident desk", "Night duty officer"}
    assert "TLP:AMBER" in response.content.decode()


def test_red_contact_reaches_named_recipient_only_and_its_opening_is_audited(directory):
    assert "Head of operations private line" not in _names(
        logged_in(directory.thai_analyst).get(PAGE))
    response = logged_in(directory.thai_admin).get(PAGE)
    assert "Head of operations private line" in _names(response)
    opened = AuditEntry.objects.filter(action=Action.VIEW_RED, actor=directory.thai_admin.email)
    assert opened.filter(object_id=str(directory.red_contact.pk)).exists()


def test_example_contacts_are_marked(client, directory):
    text = client.get(PAGE).content.decode()
    assert 'class="badge example"' in text


def test_tlp_labels_are_chips_in_first_colours(directory):
    text = logged_in(directory.thai_analyst).get(PAGE).content.decode()
    assert 'class="tlp tlp-clear"' in text
    assert ">TLP:CLEAR<" in text
    assert 'class="tlp tlp-amber"' in text
    assert ">TLP:AMBER<" in text


def test_pgp_fingerprint_is_shown_in_groups(client, directory, monkeypatch):
    from certhub.directory.models import Contact

    fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567"
    # The fingerprint is computed from a key on save; set it directly to test its display.
    Contact.unrestricted.filter(pk=directory.clear_contact.pk).update(pgp_fingerprint=fingerprint)
    text = client.get(PAGE).content.decode()
    assert "0123 4567 89AB CDEF 0123  4567 89AB CDEF 0123 4567" in text
