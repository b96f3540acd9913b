"""Ninja schemas of the incidents API (/api/v1/incidents/)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from certhub.sharing.audience import AudienceOut


def _short(org) -> str | None:
    return org.short_name if org is not None else None


class AudienceIn(Schema):
    audience_groups: list[str] = Field(default_factory=list, description="Sharing group slugs.")
    audience_orgs: list[str] = Field(default_factory=list,
                                     description="Organisation short names.")
    audience_users: list[str] = Field(default_factory=list,
                                      description="Emails of named recipients (TLP:RED).")


class IndicatorIn(Schema):
    type: str = Field("", description="Observable type (ipv4-addr, domain-name, url, ...); "
                                      "empty: guessed from the value.")
    value: str


class IncidentIn(AudienceIn):
    title: str
    tlp: str = "amber"
    description: str = Field("", description="Markdown.")
    taxonomy: str = Field("", description="RSIT taxonomy; derived from the type when empty.")
    type: str = Field("", description="RSIT type, e.g. phishing, ddos, infected-system.")
    severity: str = "medium"
    reporting_org: str = Field("", description="Short name; default: your organisation.")
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes.")
    sectors: list[str] = Field(default_factory=list, description="Sector codes.")
    cii: bool | None = Field(None, description="Critical information infrastructure affected; "
                                               "default: true when a CII sector is named.")
    occurred_at: datetime | None = None
    involved_orgs: list[str] = Field(default_factory=list,
                                     description="Organisation short names.")
    indicators: list[IndicatorIn] = Field(default_factory=list)


class IncidentPatch(Schema):
    title: str | None = None
    description: str | None = None
    taxonomy: str | None = None
    type: str | None = None
    severity: str | None = None
    countries: list[str] | None = None
    sectors: list[str] | None = None
    cii: bool | None = None
    occurred_at: datetime | None = None
    reporting_org: str | None = None
    tlp: str | None = None
    audience_groups: list[str] | None = None
    audience_orgs: list[str] | None = None
    audience_users: list[str] | None = None


class StatusIn(Schema):
    status: str = Field(..., description="new, acknowledged, in_progress, waiting, resolved, "
                                         "closed (an open status after resolved/closed reopens).")
    note: str = ""


class OrganisationIn(Schema):
    organisation: str = Field(..., description="Organisation short name.")


class CommentIn(Schema):
    text: str = Field(..., description="Markdown.")


class TaskIn(Schema):
    title: str
    assignee: str = Field("", description="Email of a user of the owner organisation.")
    due: datetime | None = None


class TaskPatch(Schema):
    title: str | None = None
    assignee: str | None = Field(None, description="Email; empty string: nobody.")
    due: datetime | None = None
    done: bool | None = None


class IndicatorsIn(Schema):
    indicators: list[IndicatorIn]


class LinkIn(Schema):
    id: int = Field(..., description="Id of the report, observable or finding.")


class RequestIn(Schema):
    to_org: str = Field(..., description="Short name of the receiving organisation.")
    kind: str = Field("other", description="takedown, notify, block, investigate, "
                                           "information, other.")
    text: str


class NoteIn(Schema):
    note: str = ""


class DeclineIn(Schema):
    reason: str


class PublicReportIn(Schema):
    title: str = Field(..., max_length=1000)
    description: str = Field(..., max_length=100_000)
    reporter_name: str = Field("", max_length=1000)
    reporter_email: str = Field("", max_length=1000)
    countries: list[str] = Field(default_factory=list, max_length=50)
    challenge_token: str = Field(..., max_length=2000)
    challenge_solution: str = Field("", max_length=200,
                                    description="Proof-of-work solution (see the challenge).")
    challenge_answer: str = Field("", max_length=50, description="Answer to the question.")


class ChallengeOut(Schema):
    token: str
    bits: int = Field(..., description="Find a string S such that SHA-256(token + ':' + S) "
                                       "starts with this many zero bits.")
    question: str = Field(..., description="Or answer this (for visitors without scripts).")


class PublicReportOut(Schema):
    reference: str
    message: str


class IndicatorOut(Schema):
    id: int
    type: str
    value: str
    observable_id: int | None
    comment: str


class TimelineOut(Schema):
    id: int
    at: datetime
    kind: str
    actor: str
    text: str
    text_html: str
    details: dict

    @staticmethod
    def resolve_actor(obj) -> str:
        return obj.actor_label or (str(obj.actor) if obj.actor_id else "")

    @staticmethod
    def resolve_text_html(obj) -> str:
        from .render import markdown_html

        return markdown_html(obj.text) if obj.kind == "comment" else ""


class TaskOut(Schema):
    id: int
    title: str
    assignee: str | None
    due: datetime | None
    done: bool
    done_at: datetime | None
    created: datetime

    @staticmethod
    def resolve_assignee(obj) -> str | None:
        return obj.assignee.email if obj.assignee_id else None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created: datetime
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/incidents/attachments/{obj.pk}"


class RequestOut(Schema):
    id: int
    incident: int = Field(..., alias="incident_id")
    from_org: str
    to_org: str
    kind: str
    text: str
    severity: str
    status: str
    created: datetime
    ack_due: datetime
    complete_due: datetime
    acknowledged_at: datetime | None
    completed_at: datetime | None
    decline_reason: str
    completion_note: str
    escalated_ack_at: datetime | None
    escalated_complete_at: datetime | None
    overdue: str = Field(..., description="ok, ack_overdue or complete_overdue.")

    @staticmethod
    def resolve_from_org(obj) -> str:
        return obj.from_org.short_name

    @staticmethod
    def resolve_to_org(obj) -> str:
        return obj.to_org.short_name

    @staticmethod
    def resolve_overdue(obj) -> str:
        from .queries import request_state

        return request_state(obj)


class IncidentSummary(AudienceOut):
    id: int
    reference: str
    title: str
    owner: str
    status: str
    severity: str
    taxonomy: str
    type: str
    source: str
    in_triage: bool
    cii: bool
    countries: list[str]
    sectors: list[str]
    created: datetime
    modified: datetime

    @staticmethod
    def resolve_owner(obj) -> str:
        return obj.owner.short_name


class IncidentDetail(IncidentSummary):
    description: str
    description_html: str
    reporting_org: str | None
    reporter_name: str
    reporter_email: str
    occurred_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    involved_orgs: list[str]
    indicators: list[IndicatorOut]
    linked_reports: list[int] = Field(..., description="Ids of linked intel reports you may see.")
    linked_findings: list[int] = Field(..., description="Ids of linked findings you may see.")
    editable: bool

    @staticmethod
    def resolve_reporting_org(obj) -> str | None:
        return _short(obj.reporting_org)

    @staticmethod
    def resolve_involved_orgs(obj) -> list[str]:
        return sorted(org.short_name for org in obj.involved_list)

    @staticmethod
    def resolve_indicators(obj) -> list:
        return obj.indicator_list

    @staticmethod
    def resolve_linked_reports(obj) -> list[int]:
        return [report.pk for report in obj.report_list]

    @staticmethod
    def resolve_linked_findings(obj) -> list[int]:
        return [finding.pk for finding in obj.finding_list]


class SuggestionOut(Schema):
    organisation_id: int
    short_name: str
    value: str
    rule: str
    why: str


class TimelinessOut(Schema):
    organisation: str
    month: str = Field(..., description="YYYY-MM (UTC) in which the requests were sent.")
    received: int
    acknowledged: int
    completed: int
    overdue: int = Field(..., description="Still past a target now.")
    ack_median_s: float | None = Field(..., description="Seconds; nearest-rank median.")
    ack_p90_s: float | None = Field(..., description="Seconds; nearest-rank 90th percentile.")
    complete_median_s: float | None
    complete_p90_s: float | None


class TimelinessReport(Schema):
    percentile_method: str
    rows: list[TimelinessOut]
    overdue: list[RequestOut]


class EmailImportOut(Schema):
    incident: IncidentSummary
    created: bool
