"""Shared fixtures: a small directory (hub, three national CERTs, a bank, a partner) and users.

Tests that need the whole ASEAN demo directory load it with ``demo_directory``.
"""

from __future__ import annotations

import pytest

from certhub.accounts.models import Role, User
from certhub.directory.models import ConstituencyEntry, Organisation

PASSWORD = "correct horse battery staple 42"


def make_org(short_name: str, *, kind: str = "national_cert", country: str = "",
             coordinator: Organisation | None = None, **fields) -> Organisation:
    slug = short_name.lower().replace("/", "-").replace(" ", "-")
    return Organisation.objects.create(name=fields.pop("name", short_name), short_name=short_name,
                                       slug=slug, kind=kind, country=country,
                                       coordinator=coordinator, **fields)


def make_user(org: Organisation, role: str = Role.ANALYST, email: str | None = None) -> User:
    email = email or f"{role}@{org.slug}.example"
    return User.objects.create_user(email, PASSWORD, organisation=org, role=role,
                                    full_name=f"{role} of {org.short_name}")


def add_constituency(org: Organisation, kind: str, *values: str) -> None:
    for value in values:
        entry = ConstituencyEntry(organisation=org, kind=kind, value=value)
        entry.full_clean()
        entry.save()


@pytest.fixture
def world(db):
    """Organisations and users most tests need, as a simple namespace."""
    hub = make_org("ASEAN-CERT", kind="regional_hub", name="ASEAN Regional CERT")
    thai = make_org("ThaiCERT", country="TH")
    my = make_org("MyCERT", country="MY")
    sg = make_org("SingCERT", country="SG")
    bank = make_org("Example Bank", kind="private_sector", country="TH", coordinator=thai)
    partner = make_org("JPCERT/CC", kind="partner_cert", country="JP",
                       membership="dialogue_partner")
    add_constituency(thai, "country", "TH")
    add_constituency(thai, "domain", "th")
    add_constituency(my, "country", "MY")
    add_constituency(my, "domain", "my")
    add_constituency(my, "asn", "4788")
    add_constituency(sg, "country", "SG")
    add_constituency(sg, "domain", "sg")

    class World:
        pass

    w = World()
    w.hub, w.thai, w.my, w.sg, w.bank, w.partner = hub, thai, my, sg, bank, partner
    w.hub_admin = make_user(hub, Role.HUB_ADMIN)
    w.thai_admin = make_user(thai, Role.ORG_ADMIN)
    w.thai_analyst = make_user(thai, Role.ANALYST)
    w.thai_viewer = make_user(thai, Role.VIEWER)
    w.my_analyst = make_user(my, Role.ANALYST)
    w.sg_analyst = make_user(sg, Role.ANALYST)
    w.bank_analyst = make_user(bank, Role.ANALYST)
    w.partner_analyst = make_user(partner, Role.ANALYST)
    return w


@pytest.fixture
def demo_directory(db):
    """The ASEAN demo directory, users and sharing groups, as `certhub loaddemo` loads them."""
    from certhub.directory import demo

    return demo.load_demo()
