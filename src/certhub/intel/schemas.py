"""Ninja schemas of the intel API (/api/v1/intel/)."""

from __future__ import annotations

import json
from datetime import datetime

from ninja import Field, Schema

from certhub.sharing.audience import AudienceOut

from .normalise import defang
from .queries import LOOKUP_LIMIT


class AudienceIn(Schema):
    audience_groups: list[str] = Field(default_factory=list,
                                       description="Sharing group slugs.")
    audience_orgs: list[str] = Field(default_factory=list,
                                     description="Organisation short names.")
    audience_users: list[str] = Field(default_factory=list,
                                      description="Emails of named recipients (TLP:RED).")


class ObservableIn(Schema):
    type: str = Field("", description="Observable type (ipv4-addr, domain-name, url, sha256, "
                                      "...); empty: guessed from the value.")
    value: str = Field(..., description="Defanged values (hxxp, [.]) are accepted.")


class ReportIn(AudienceIn):
    title: str
    tlp: str = "amber"
    description: str = ""
    labels: list[str] = Field(default_factory=list)
    confidence: int | None = Field(None, ge=0, le=100)
    observables: list[ObservableIn] = Field(default_factory=list)


class ReportPatch(Schema):
    title: str | None = None
    description: str | None = None
    labels: list[str] | None = None
    confidence: int | None = Field(None, ge=0, le=100)
    published: datetime | None = None
    tlp: str | None = None
    audience_groups: list[str] | None = None
    audience_orgs: list[str] | None = None
    audience_users: list[str] | None = None


class ObservablesIn(Schema):
    observables: list[ObservableIn]


class AddedOut(Schema):
    added: int


class ReportSummary(Schema):
    id: int
    stix_id: str
    title: str
    tlp: str
    owner: str = Field(..., description="Short name of the owner organisation.")
    source: str
    labels: list[str]
    confidence: int | None
    published: datetime | None
    created: datetime
    modified: datetime

    @staticmethod
    def resolve_owner(obj) -> str:
        return obj.owner.short_name


class StixObjectOut(Schema):
    id: str = Field(..., alias="stix_id")
    type: str
    name: str
    created: datetime | None
    modified: datetime | None
    revoked: bool
    pattern: str
    added: datetime


class StixObjectFull(StixObjectOut):
    object: dict = Field(..., description="The STIX object as stored.")

    @staticmethod
    def resolve_object(obj) -> dict:
        return json.loads(obj.json)


class ObservableOut(Schema):
    id: int
    type: str
    value: str
    defanged: str = Field(..., description="For display: unclickable.")
    to_ids: bool
    first_seen: datetime | None
    last_seen: datetime | None
    comment: str
    misp_type: str
    stix_object_id: int | None

    @staticmethod
    def resolve_defanged(obj) -> str:
        return defang(obj.value, obj.type)


class RelationshipOut(Schema):
    id: str = Field(..., alias="stix_id")
    relationship_type: str
    source_ref: str
    target_ref: str
    source_name: str
    target_name: str


class CorrelationOut(Schema):
    report: ReportSummary
    shared_values: list[str] = Field(..., description="Up to 20 of the values in common.")


class SightingOut(Schema):
    id: int
    stix_id: str
    report_id: int | None
    type: str = Field(..., alias="observable_type")
    value: str
    indicator_stix_id: str
    count: int
    first_seen: datetime
    last_seen: datetime
    country: str
    sector: str
    source: str
    seen_by: str | None = Field(None, description="Short name of the organisation.")
    tlp: str

    @staticmethod
    def resolve_seen_by(obj) -> str | None:
        return obj.seen_by.short_name if obj.seen_by_id else None


class VersionOut(Schema):
    id: str = Field(..., alias="stix_id")
    type: str
    name: str
    modified: datetime | None
    revoked: bool
    added: datetime


class ReportDetail(ReportSummary, AudienceOut):
    description: str
    object_count: int
    objects: list[StixObjectOut] = Field(..., alias="object_list",
                                         description="The first objects; page through "
                                                     "/reports/{id}/objects for all.")
    observable_count: int
    observables: list[ObservableOut] = Field(..., alias="observable_list",
                                             description="The first observables; page through "
                                                         "/reports/{id}/observables.")
    relationships: list[RelationshipOut] = Field(..., alias="relationship_list")
    correlation_count: int = Field(..., description="Other reports visible to you that share a "
                                                    "value with this one.")
    correlations: list[CorrelationOut] = Field(..., alias="correlation_list")
    sightings: list[SightingOut] = Field(..., alias="sighting_list")
    history: list[VersionOut] = Field(..., description="Every stored version of objects that "
                                                       "have more than one.")
    editable: bool


class ImportedReport(Schema):
    report: ReportSummary
    objects: int
    observables: int
    sightings: int


class ImportOut(Schema):
    reports: list[ImportedReport]


class CsvImportIn(AudienceIn):
    csv: str = Field(..., description="The CSV text.")
    mapping: dict[str, str] = Field(..., description='Column for each field, e.g. {"value": '
                                    '"indicator", "type": "kind", "comment": "note", '
                                    '"first_seen": "first", "last_seen": "last", "to_ids": '
                                    '"block"}; column numbers (from 1) without a header row.')
    has_header: bool = True
    default_type: str = Field("", description="Type of values when no type column is mapped; "
                                              "empty: guessed per value.")
    delimiter: str = ","
    title: str
    tlp: str = "amber"
    description: str = ""
    labels: list[str] = Field(default_factory=list)


class ExtractIn(Schema):
    text: str


class CandidateOut(Schema):
    type: str
    value: str
    defanged: str
    warninglists: list[str]


class ExtractOut(Schema):
    candidates: list[CandidateOut]


class TextImportIn(AudienceIn):
    title: str
    tlp: str = "amber"
    description: str = ""
    labels: list[str] = Field(default_factory=list)
    observables: list[ObservableIn] = Field(..., description="The reviewed list from "
                                                             "/extract.")


class LookupIn(Schema):
    values: list[str] = Field(..., max_length=LOOKUP_LIMIT)


class ValueMatchOut(Schema):
    query: str
    type: str
    value: str
    error: str
    found: bool
    reports: list[int] = Field(..., alias="report_ids",
                               description="Ids of the reports visible to you that hold it.")
    first_seen: datetime | None
    last_seen: datetime | None
    sightings_count: int
    warninglists: list[str]


class ValueReportOut(Schema):
    report: ReportSummary
    observable: ObservableOut


class SightingTotals(Schema):
    count: int
    organisations: int


class ValuePageOut(Schema):
    type: str
    value: str
    defanged: str
    warninglists: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    reports: list[ValueReportOut]
    sightings: list[SightingOut]
    sighting_totals: SightingTotals


class SightingIn(AudienceIn):
    value: str = ""
    type: str = ""
    indicator_stix_id: str = ""
    count: int = Field(1, ge=1)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    country: str = ""
    sector: str = ""
    source: str = ""
    tlp: str = "amber"


class SightingSummaryOut(Schema):
    value: str
    type: str
    indicator_stix_id: str
    count: int = Field(..., description="Events seen, over the sightings visible to you.")
    records: int
    organisations: int
    first_seen: datetime | None
    last_seen: datetime | None
    countries: dict[str, int]
    sightings: list[SightingOut] = Field(..., description="The latest 100.")
