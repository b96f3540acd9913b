"""The lookup form: results with the responsible organisation and why, and malformed lines."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import logged_in

pytestmark = pytest.mark.django_db

URL = reverse("web:lookup")


def test_results_name_the_responsible_organisation_and_the_rule(client, directory):
    response = client.post(URL, {"values": "1.0.130.7\nwww.example.co.th\nAS4788"})
    assert response.status_code == 200
    results = response.context["results"]
    assert [r.matches[0].short_name for r in results] == ["ThaiCERT", "ThaiCERT", "MyCERT"]
    assert results[0].rule == "prefix"
    text = response.content.decode()
    assert reverse("web:organisation", args=["thaicert"]) in text
    assert "1.0.128.0/17" in text  # the registered prefix that matched
    assert "registered IP range" in text


def test_malformed_lines_are_shown_with_their_error(client, directory):
    response = client.post(URL, {"values": "1.0.130.7\nnot a value at all\n999.1.1.1"})
    results = response.context["results"]
    assert results[0].error is None
    assert results[1].error
    assert results[2].error
    text = response.content.decode()
    assert "row-error" in text
    assert "not a value at all" in text
    assert "2 not understood" in text


def test_address_outside_the_region_reports_no_member(client, directory):
    response = client.post(URL, {"values": "8.8.8.8"})
    result = response.context["results"][0]
    assert not result.matches
    assert "no member organisation" in response.content.decode()


def test_quick_lookup_by_get(client, directory):
    response = client.get(URL, {"q": "example.sg"})
    assert response.context["results"][0].matches[0].short_name == "SingCERT"


def test_empty_form_is_an_error_not_a_crash(client, directory):
    response = client.post(URL, {"values": "  \n "})
    assert response.status_code == 200
    assert response.context["results"] is None
    assert response.context["form"].errors


def test_batch_size_is_limited_more_for_anonymous_visitors(client, directory):
    many = "\n".join(f"10.0.0.{i % 250}" for i in range(101))
    assert client.post(URL, {"values": many}).context["form"].errors
    member = logged_in(directory.thai_analyst).post(URL, {"values": many})
    assert len(member.context["results"]) == 101


def test_htmx_lookup_returns_the_results_fragment(client, directory):
    response = client.post(URL, {"values": "1.0.130.7"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "ThaiCERT" in text
    assert "<html" not in text
