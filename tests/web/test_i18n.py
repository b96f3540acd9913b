"""English and Thai: the switch keeps the page, Thai pages are Thai, country names follow."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_language_switch_renders_thai_and_keeps_the_page(client, directory):
    page = reverse("web:organisation", args=["thaicert"])
    response = client.post(reverse("set_language"), {"language": "th", "next": page})
    assert response.status_code == 302
    assert response["Location"] == page
    text = client.get(page).content.decode()
    assert '<html lang="th">' in text
    assert "ประเทศไทย" in text or "ไทย" in text  # the country's Thai name (CLDR)
    assert "ช่องทางการติดต่อ" in text  # "Points of contact"
    assert "TLP:CLEAR" in text  # TLP labels are never translated
    client.post(reverse("set_language"), {"language": "en", "next": page})
    text = client.get(page).content.decode()
    assert '<html lang="en">' in text
    assert "Points of contact" in text


def test_switch_form_points_back_to_the_current_page(client, directory):
    text = client.get(reverse("web:directory"), {"q": "thai"}).content.decode()
    assert 'name="next" type="hidden" value="/directory/?q=thai"' in text


def test_dashboard_in_thai(directory):
    client = logged_in(directory.thai_analyst)
    client.post(reverse("set_language"), {"language": "th", "next": "/"})
    text = client.get(reverse("web:dashboard")).content.decode()
    assert "ยินดีต้อนรับ" in text  # "Welcome"
