"""How a shareable record's audience appears in API output, the same for every record type."""

from __future__ import annotations

from ninja import Field, Schema


class AudienceOut(Schema):
    """Mixin for output schemas of Shareable records: TLP label and audience, as names."""

    tlp: str
    audience_groups: list[str] = Field(..., description="Sharing group slugs.")
    audience_orgs: list[str] = Field(..., description="Organisation short names.")
    audience_users: list[str] = Field(..., description="Named recipients (TLP:RED).")

    @staticmethod
    def resolve_audience_groups(obj) -> list[str]:
        return sorted(group.slug for group in obj.audience_groups.all())

    @staticmethod
    def resolve_audience_orgs(obj) -> list[str]:
        return sorted(org.short_name for org in obj.audience_orgs.all())

    @staticmethod
    def resolve_audience_users(obj) -> list[str]:
        return sorted(user.email for user in obj.audience_users.all())
