"""What a lookup answers: the value, what it was taken to be, and who is responsible and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# The rule that made an organisation responsible, most specific first.
PREFIX, ASN, DOMAIN, COUNTRY, CCTLD = "prefix", "asn", "domain", "country", "cctld"
RULES = (PREFIX, ASN, DOMAIN, COUNTRY, CCTLD)
RULE_LABELS = {
    PREFIX: _("registered IP range"),
    ASN: _("registered autonomous system"),
    DOMAIN: _("registered domain suffix"),
    COUNTRY: _("country"),
    CCTLD: _("country of the top-level domain"),
}
KIND_LABELS = {
    "ipv4": _("IPv4 address"),
    "ipv6": _("IPv6 address"),
    "prefix": _("IP prefix"),
    "url": _("URL"),
    "email": _("email address"),
    "asn": _("AS number"),
    "country": _("country code"),
    "domain": _("domain name"),
}


@dataclass(frozen=True, slots=True)
class Match:
    """One responsible organisation and the rule that made it so."""

    organisation_id: int
    short_name: str
    slug: str
    name: str
    kind: str  # the organisation's kind (national_cert, ...)
    rule: str
    matched: str  # the registered value that matched: "1.0.128.0/17", "4788", "co.th", "TH"
    why: str

    @property
    def rule_label(self) -> str:
        return str(RULE_LABELS[self.rule])

    def to_dict(self) -> dict:
        return {"organisation_id": self.organisation_id, "short_name": self.short_name,
                "slug": self.slug, "name": self.name, "kind": self.kind, "rule": self.rule,
                "matched": self.matched, "why": self.why}


@dataclass(slots=True)
class Resolution:
    """The answer for one value. ``matches`` hold only the winning (most specific) tier.

    ``kind`` and ``normalised`` are None when the value was malformed; ``error`` then says why
    (only resolve_many returns such items; resolve raises InvalidInput instead). ``normalised``
    is what was looked up: the address, prefix, AS number (AS4788), country code or domain;
    for a URL its host, for an email address its domain.
    """

    input: str
    kind: str | None = None
    normalised: str | None = None
    country: str | None = None
    country_name: str | None = None
    asn: int | None = None
    asn_name: str = ""
    matches: tuple[Match, ...] = ()
    notes: tuple[str, ...] = field(default=())
    error: str | None = None

    @property
    def responsible(self) -> bool:
        return bool(self.matches)

    @property
    def rule(self) -> str | None:
        return self.matches[0].rule if self.matches else None

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind]) if self.kind else ""

    def to_dict(self) -> dict:
        return {"input": self.input, "kind": self.kind, "normalised": self.normalised,
                "country": self.country, "country_name": self.country_name, "asn": self.asn,
                "asn_name": self.asn_name, "rule": self.rule,
                "matches": [match.to_dict() for match in self.matches],
                "notes": list(self.notes), "error": self.error}
