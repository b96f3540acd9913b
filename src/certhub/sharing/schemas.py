"""Ninja schemas of the sharing API."""

from __future__ import annotations

from ninja import Field, Schema


class MemberOut(Schema):
    short_name: str
    name: str
    slug: str
    kind: str
    country: str


class GroupOut(Schema):
    slug: str
    name: str
    description: str
    managed_by: str = Field(..., description="Short name of the managing organisation.")
    members: list[MemberOut]
    member_count: int

    @staticmethod
    def resolve_managed_by(obj) -> str:
        return obj.managed_by.short_name

    @staticmethod
    def resolve_members(obj) -> list:
        return list(obj.members.all())

    @staticmethod
    def resolve_member_count(obj) -> int:
        return len(obj.members.all())


class GroupIn(Schema):
    name: str
    slug: str = ""
    description: str = ""
    managed_by: str = Field(..., description="Short name of the managing organisation.")
    members: list[str] = Field(default_factory=list,
                               description="Short names of the member organisations.")


class GroupPatch(Schema):
    name: str | None = None
    description: str | None = None
    managed_by: str | None = None


class MembersIn(Schema):
    members: list[str] = Field(..., description="Short names of organisations.")
