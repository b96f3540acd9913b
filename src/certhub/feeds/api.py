"""Feeds API, mounted at /api/v1/feeds/: each organisation's findings inbox (filter,
acknowledge, export CSV), a finding with its provenance, and the runs of the feeds.

Thin: parse, call queries/services, return schemas. Findings are read only through
``feeds.queries`` (the one rule for findings): a finding the caller may not see is 404, and
lists, counts and exports cover visible findings only. Runs and feeds are for hub staff; to
everyone else they do not exist (404, empty lists).
"""

# No ``from __future__ import annotations`` here: Ninja reads the Query[...] parameter types of
# the handlers at import time.
from datetime import datetime

from django.http import StreamingHttpResponse
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from certhub.core.api_guards import require_user, require_writer

from . import queries, services
from .schemas import (
    AcknowledgeIn,
    AcknowledgeOut,
    CountOut,
    FeedOut,
    FindingDetail,
    FindingOut,
    RunDetail,
    RunOut,
)

router = Router(tags=["feeds"])


# Ids and AS numbers bounded to what the database stores: a larger number is a 400, not a
# database overflow error.
def _id():
    return Field(None, ge=0, le=2**63 - 1)


class InboxFilters(Schema):
    organisation: int | None = _id()
    taxonomy: str = ""
    type: str = ""
    feed: str = ""
    country: str = ""
    asn: int | None = Field(None, ge=0, le=2**32 - 1)
    value: str = ""
    since: datetime | None = None
    until: datetime | None = None
    acknowledged: bool | None = None
    run_id: int | None = _id()

    def as_kwargs(self) -> dict:
        return {"organisation_id": self.organisation, "taxonomy": self.taxonomy or None,
                "type": self.type or None, "feed": self.feed or None,
                "country": self.country or None, "asn": self.asn,
                "value": self.value or None, "since": self.since, "until": self.until,
                "acknowledged": self.acknowledged, "run_id": self.run_id}


_FILTERS_DOC = ("Filters: ``taxonomy``, ``type`` (RSIT), ``feed`` (name), ``country`` (ISO "
                "code), ``asn``, ``value`` (text contained in the value), ``since``/``until`` "
                "(received), ``acknowledged`` (true/false), ``run_id``; hub staff may pass "
                "``organisation`` (id; 0: findings nobody is responsible for).")


@router.get("/findings", response=list[FindingOut], summary="Your organisation's findings inbox",
            description="Newest first. " + _FILTERS_DOC + " ``count`` covers only findings "
                        "visible to you.")
@paginate(LimitOffsetPagination)
def list_findings(request, filters: Query[InboxFilters]):
    user = require_user(request)
    return queries.inbox(user, **filters.as_kwargs())


@router.get("/findings.csv", summary="The inbox as CSV", description="Same filters as the "
            "inbox; every matching finding, streamed. The export is written to the audit log.")
def export_findings(request, filters: Query[InboxFilters]):
    user = require_user(request)
    lines = services.export_inbox_csv(user, request=request, **filters.as_kwargs())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="certhub-findings.csv"'
    return response


@router.get("/findings/counts", response=list[CountOut],
            summary="Findings and open findings per organisation (visible findings only)")
def finding_counts(request):
    return queries.counts_per_organisation(require_user(request))


@router.post("/findings/acknowledge", response=AcknowledgeOut,
             summary="Acknowledge (or reopen) findings of your organisation's inbox")
def acknowledge_findings(request, payload: AcknowledgeIn):
    """Ids you cannot see or that are not in your organisation's inbox are ignored; with a
    single such id the answer is 404. ``changed`` counts findings whose state changed."""
    user = require_writer(request)
    changed = services.acknowledge(user, payload.ids, acknowledged=payload.acknowledged,
                                   request=request)
    return {"changed": changed}


@router.get("/findings/{finding_id}", response=FindingDetail,
            summary="A finding with its provenance (feed, run, line, raw line)")
def get_finding(request, finding_id: int):
    return queries.finding(require_user(request), finding_id)


@router.post("/findings/{finding_id}/acknowledge", response=AcknowledgeOut,
             summary="Acknowledge one finding")
def acknowledge_finding(request, finding_id: int):
    user = require_writer(request)
    return {"changed": services.acknowledge(user, [finding_id], request=request)}


@router.post("/findings/{finding_id}/reopen", response=AcknowledgeOut,
             summary="Take back the acknowledgement of one finding")
def reopen_finding(request, finding_id: int):
    user = require_writer(request)
    return {"changed": services.acknowledge(user, [finding_id], acknowledged=False,
                                            request=request)}


@router.get("/feeds", response=list[FeedOut], summary="Feeds (hub staff)")
def list_feeds(request):
    return queries.visible_feeds(require_user(request))


@router.get("/runs", response=list[RunOut], summary="Runs of the feeds, newest first "
            "(hub staff)")
@paginate(LimitOffsetPagination)
def list_runs(request, feed: str = ""):
    user = require_user(request)
    return queries.visible_runs(user, queries.feed(user, feed) if feed else None)


@router.get("/runs/{run_id}", response=RunDetail,
            summary="A run: status, counts (read, parsed, failed, duplicates, routed per "
                    "organisation) and its refused lines")
def get_run(request, run_id: int):
    user = require_user(request)
    run = queries.run(user, run_id)
    run.routed_per_organisation = queries.routed_per_organisation(run)
    run.errors_list = queries.run_errors(run)
    return run


@router.post("/feeds/{name}/run", response={202: dict}, summary="Run a feed now "
             "(hub administrators)")
def run_feed(request, name: str):
    user = require_writer(request)
    feed = queries.feed(user, name)
    services.request_run(user, feed, request=request)
    return Status(202, {"feed": feed.name, "status": "requested"})
