"""Ninja schemas of the directory API."""

from __future__ import annotations

from ninja import Field, Schema

from certhub.sharing.audience import AudienceOut

from . import validators


class OrganisationSummary(Schema):
    slug: str
    short_name: str
    name: str
    kind: str
    country: str
    membership: str
    coordinator: str | None = Field(None, description="Short name of the coordinating CERT.")
    website: str
    contact_count: int = Field(0, description="Points of contact visible to you.")

    @staticmethod
    def resolve_coordinator(obj) -> str | None:
        return obj.coordinator.short_name if obj.coordinator_id else None

    @staticmethod
    def resolve_contact_count(obj) -> int:
        return getattr(obj, "visible_contacts", 0)


class ConstituencyEntryOut(Schema):
    id: int
    kind: str
    value: str
    note: str


class ContactOut(AudienceOut):
    id: int
    organisation: str = Field(..., description="Short name of the owner organisation.")
    organisation_slug: str
    role: str
    name: str
    email: str
    phone: str
    pgp_key: str
    pgp_fingerprint: str
    pgp_fingerprint_display: str = Field(..., description="Grouped as gpg shows it.")
    availability: str
    is_example: bool

    @staticmethod
    def resolve_organisation(obj) -> str:
        return obj.owner.short_name

    @staticmethod
    def resolve_organisation_slug(obj) -> str:
        return obj.owner.slug

    @staticmethod
    def resolve_pgp_fingerprint_display(obj) -> str:
        return validators.format_fingerprint(obj.pgp_fingerprint)



class OrganisationDetail(OrganisationSummary):
    established: str
    parent_body: str
    require_mfa: bool
    constituency_description: str
    services: str
    hours: str
    time_zone: str
    languages: str
    reporting_instructions: str
    address: str
    rfc2350_url: str
    pgp_key: str
    pgp_fingerprint: str
    constituency: list[ConstituencyEntryOut] = Field(default_factory=list)
    contacts: list[ContactOut] = Field(default_factory=list,
                                       description="Only the contacts visible to you.")

    # The API fills these two lists through queries (contacts through the sharing rule); the
    # model's own related managers are never read here.
    @staticmethod
    def resolve_constituency(obj) -> list:
        return obj.constituency_list

    @staticmethod
    def resolve_contacts(obj) -> list:
        return obj.contact_list


class _ProfileFields(Schema):
    name: str | None = None
    website: str | None = None
    established: str | None = None
    parent_body: str | None = None
    require_mfa: bool | None = None
    constituency_description: str | None = None
    services: str | None = None
    hours: str | None = None
    time_zone: str | None = None
    languages: str | None = None
    reporting_instructions: str | None = None
    address: str | None = None
    rfc2350_url: str | None = None
    pgp_key: str | None = None


class OrganisationPatch(_ProfileFields):
    """Profile fields (the organisation's administrators) and, for hub administrators, what
    the organisation is on the platform."""

    short_name: str | None = None
    kind: str | None = None
    country: str | None = None
    membership: str | None = None
    coordinator: str | None = Field(None, description="Short name; empty string clears it.")


class OrganisationIn(_ProfileFields):
    short_name: str
    name: str
    kind: str
    country: str = ""
    membership: str = "member"
    coordinator: str | None = Field(None, description="Short name of the coordinating CERT.")


class ConstituencyIn(Schema):
    kind: str = Field(..., description="prefix, asn, domain or country")
    value: str
    note: str = ""


class _ContactFields(Schema):
    email: str | None = None
    phone: str | None = Field(None, description="E.164, e.g. +6621234567.")
    pgp_key: str | None = Field(None, description="ASCII-armoured OpenPGP public key.")
    availability: str | None = None
    is_example: bool | None = None
    audience_groups: list[str] | None = Field(None, description="Sharing group slugs.")
    audience_orgs: list[str] | None = Field(None, description="Organisation short names.")
    audience_users: list[str] | None = Field(None, description="User emails (TLP:RED only).")


class ContactIn(_ContactFields):
    role: str
    name: str
    tlp: str = "amber"


class ContactPatch(_ContactFields):
    role: str | None = None
    name: str | None = None
    tlp: str | None = None


class ImportResultOut(Schema):
    organisations_created: int
    organisations_updated: int
    constituency_added: int
    contacts_created: int
    contacts_updated: int
    groups_created: int
    groups_updated: int
