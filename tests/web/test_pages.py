"""Who may open which page, and what the dashboard and directory show."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_dashboard_needs_login(client):
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_dashboard_welcomes_with_organisation_role_and_visible_counts(directory):
    response = logged_in(directory.thai_analyst).get(reverse("web:dashboard"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "ThaiCERT" in text
    assert "analyst" in text
    counts = response.context["counts"]
    assert counts["organisations"] == 6
    assert counts["national_certs"] == 3
    assert counts["countries_covered"] == 3  # TH, MY, SG registered as constituency countries
    assert counts["own_contacts"] == 2  # CLEAR and AMBER; RED is for the named admin only
    assert counts["visible_contacts"] == 2


def test_dashboard_counts_only_what_the_user_may_see(directory):
    counts = logged_in(directory.my_analyst).get(reverse("web:dashboard")).context["counts"]
    assert counts["visible_contacts"] == 1  # ThaiCERT's CLEAR contact only
    assert counts["own_contacts"] == 0


def test_directory_and_lookup_are_public(client, directory):
    assert client.get(reverse("web:directory")).status_code == 200
    assert client.get(reverse("web:organisation", args=["thaicert"])).status_code == 200
    assert client.get(reverse("web:lookup")).status_code == 200


def test_unknown_organisation_is_404(client, directory):
    assert client.get(reverse("web:organisation", args=["nocert"])).status_code == 404


def test_navigation_shows_account_links_when_logged_in(directory):
    text = logged_in(directory.thai_analyst).get(reverse("web:directory")).content.decode()
    assert reverse("accounts:profile") in text
    assert reverse("accounts:tokens") in text
    assert reverse("accounts:logout") in text
    assert reverse("web:audit") not in text  # hub administrators only


def test_navigation_offers_login_to_visitors(client, directory):
    text = client.get(reverse("web:directory")).content.decode()
    assert reverse("accounts:login") in text
    assert reverse("accounts:logout") not in text


def test_directory_search_by_name_short_name_and_constituency(client, directory):
    def found(**params):
        response = client.get(reverse("web:directory"), params)
        return {org.short_name for org in response.context["organisations"]}

    assert found(q="thai") == {"ThaiCERT"}
    assert found(q="Example Bank") == {"Example Bank"}
    assert found(q="4788") == {"MyCERT"}  # a registered ASN
    assert found(q="AS4788") == {"MyCERT"}
    assert found(q=".sg") == {"SingCERT"}  # a registered domain suffix
    assert found(q="1.0.128.0/17") == {"ThaiCERT"}  # a registered prefix


def test_directory_filters(client, directory):
    def found(**params):
        response = client.get(reverse("web:directory"), params)
        return {org.short_name for org in response.context["organisations"]}

    assert found(kind="private_sector") == {"Example Bank"}
    assert found(country="TH") == {"ThaiCERT", "Example Bank"}
    assert found(membership="dialogue_partner") == {"JPCERT/CC"}
    assert found(kind="national_cert", country="MY") == {"MyCERT"}


def test_directory_shows_country_names_and_visible_contact_counts(client, directory):
    response = client.get(reverse("web:directory"))
    text = response.content.decode()
    assert "Thailand" in text
    assert "Malaysia" in text
    thai = next(org for org in response.context["organisations"] if org.short_name == "ThaiCERT")
    assert thai.visible_contacts == 1  # anonymous: the CLEAR contact only


def test_htmx_filtering_returns_the_results_fragment(client, directory):
    response = client.get(reverse("web:directory"), {"q": "sing"}, HTTP_HX_REQUEST="true")
    assert "HX-Request" in response["Vary"]
    text = response.content.decode()
    assert "SingCERT" in text
    assert "ThaiCERT" not in text
    assert "<html" not in text


def test_organisation_page_shows_profile_and_constituency(client, directory):
    directory.thai.website = "https://www.thaicert.or.th"
    directory.thai.services = "Incident handling\nAlerts and warnings"
    directory.thai.save()
    text = client.get(reverse("web:organisation", args=["thaicert"])).content.decode()
    assert "https://www.thaicert.or.th" in text
    assert "Alerts and warnings" in text
    assert "Thailand" in text  # the registered country, by name
    assert "1.0.128.0/17" in text
    assert ".th" in text


def test_bank_page_links_its_coordinating_cert(client, directory):
    text = client.get(reverse("web:organisation", args=["example-bank"])).content.decode()
    assert reverse("web:organisation", args=["thaicert"]) in text


def test_hub_admin_navigation_links_the_audit_log(world):
    text = logged_in(world.hub_admin).get(reverse("web:dashboard")).content.decode()
    assert reverse("web:audit") in text
