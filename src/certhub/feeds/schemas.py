"""Ninja schemas of the feeds API (/api/v1/feeds/)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class FindingOut(Schema):
    id: int
    received: datetime = Field(..., alias="created")
    observed: datetime | None = Field(None, alias="observed_at")
    expires: datetime = Field(..., alias="expires_at")
    feed: str = Field(..., alias="feed.name")
    taxonomy: str
    type: str
    value_type: str
    value: str
    ip: str | None = None
    port: int | None = None
    asn: int | None = None
    country: str
    tlp: str
    organisation: str | None = Field(None, description="Short name of the organisation the "
                                                       "finding is routed to; null: nobody.")
    rule: str = Field("", description="Routing rule that matched (prefix, asn, domain, "
                                      "country...).")
    warninglists: list[str] | None = None
    acknowledged: datetime | None = Field(None, alias="acknowledged_at")

    @staticmethod
    def resolve_organisation(obj) -> str | None:
        return obj.organisation.short_name if obj.organisation_id else None


class ProvenanceOut(Schema):
    feed: str
    feed_title: str
    run: int
    line: int = Field(..., description="Line (or record) number in the run's input.")
    raw: str = Field(..., description="The input line as read.")
    source: str


class FindingDetail(FindingOut):
    details: dict | None = Field(None, alias="extra")
    acknowledged_by: str | None = None
    provenance: ProvenanceOut

    @staticmethod
    def resolve_acknowledged_by(obj) -> str | None:
        return obj.acknowledged_by.email if obj.acknowledged_by_id else None

    @staticmethod
    def resolve_provenance(obj) -> dict:
        return {"feed": obj.feed.name, "feed_title": obj.feed.title, "run": obj.run_id,
                "line": obj.line, "raw": obj.raw, "source": obj.run.source}


class AcknowledgeIn(Schema):
    ids: list[int] = Field(..., min_length=1, max_length=10_000)
    acknowledged: bool = Field(True, description="false reopens the findings.")


class AcknowledgeOut(Schema):
    changed: int


class CountOut(Schema):
    organisation_id: int | None
    organisation: str
    total: int
    open: int


class RoutedOut(Schema):
    organisation_id: int
    organisation: str
    count: int


class RunOut(Schema):
    id: int
    feed: str = Field(..., alias="feed.name")
    status: str
    trigger: str
    created: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    source: str
    position: int = Field(..., description="Last input line committed.")
    total: int | None = Field(None, description="Input size in bytes, when known.")
    attempts: int
    read: int
    parsed: int
    failed: int
    duplicates: int
    routed: int
    unrouted: int
    not_modified: bool
    error: str


class RunErrorOut(Schema):
    line: int
    reason: str
    raw: str


class RunDetail(RunOut):
    routed_per_organisation: list[RoutedOut]
    errors: list[RunErrorOut] = Field(..., alias="errors_list",
                                      description="Refused lines (the first 500).")


class FeedOut(Schema):
    name: str
    title: str
    source_kind: str
    parser: str
    schedule: str
    taxonomy: str
    type: str
    tlp: str
    enabled: bool
    last_started_at: datetime | None
