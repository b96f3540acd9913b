"""Ninja schemas of the lookup API (mirroring Resolution.to_dict)."""

from __future__ import annotations

from ninja import Field, Schema

MAX_BATCH = 100_000


class MatchOut(Schema):
    organisation_id: int
    short_name: str
    slug: str
    name: str
    kind: str = Field(description="The organisation's kind, e.g. national_cert")
    rule: str = Field(description="prefix, asn, domain, country or cctld")
    matched: str = Field(description="The registered value that matched, e.g. 1.0.128.0/17")
    why: str = Field(description="Why this organisation is responsible, in the request's "
                                 "language")


class ResolutionOut(Schema):
    input: str
    kind: str | None = Field(description="ipv4, ipv6, prefix, url, email, asn, country or "
                                         "domain; null when the value is malformed")
    normalised: str | None = Field(description="What was looked up: the address, prefix, "
                                               "AS number, country code or domain (a URL's "
                                               "host, an email address's domain)")
    country: str | None = Field(description="ISO 3166-1 alpha-2 code, when known")
    country_name: str | None
    asn: int | None
    asn_name: str
    rule: str | None = Field(description="The rule of the winning tier; null if nobody is "
                                         "responsible")
    matches: list[MatchOut] = Field(description="The responsible organisations (most specific "
                                                "tier only)")
    notes: list[str]
    error: str | None = Field(description="Why the value is malformed (batch lookups only)")


class BatchIn(Schema):
    values: list[str] = Field(max_length=MAX_BATCH,
                              description=f"Up to {MAX_BATCH:,} values of any supported kind")
