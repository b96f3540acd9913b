"""Intel API, mounted at /api/v1/intel/: reports, imports, exports, the MISP feed, value pages,
lookup and sightings. Thin: parse, call queries/services, return schemas.

Everything follows the sharing rule: a report the caller may not see is 404 everywhere (detail,
exports, feed, value pages) and is neither listed nor counted nor correlated. Anonymous callers
see TLP:CLEAR only; exports, batch lookups and the feed need a user, writes a writer.

Large inputs (bundles, feeds, CSV, batch lookups) are read from the body by these handlers under
their own limits, because Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is meant for forms.
"""

# No ``from __future__ import annotations`` here: Ninja reads the Query[...] parameter types of
# the handlers at import time.
import json
from datetime import datetime

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ValidationError

from certhub.core.api_guards import require_user, require_writer
from certhub.core.errors import InvalidInput
from certhub.directory.services import audience_from_names

from . import extract, queries, services, tags_api
from .misp import importer as misp_importer
from .models import ReportSource
from .normalise import defang
from .schemas import (
    AddedOut,
    CorrelationOut,
    CsvImportIn,
    ExtractIn,
    ExtractOut,
    ImportOut,
    LookupIn,
    ObservableOut,
    ObservablesIn,
    ReportDetail,
    ReportIn,
    ReportPatch,
    ReportSummary,
    SightingIn,
    SightingOut,
    SightingSummaryOut,
    StixObjectFull,
    TextImportIn,
    ValueMatchOut,
    ValuePageOut,
)

router = Router(tags=["intel"])
router.add_router("/tags", tags_api.router)  # taxonomy and galaxy tag suggestions

MAX_IMPORT_BYTES = 256 * 1024 * 1024
MAX_LOOKUP_BYTES = 64 * 1024 * 1024
_JSON = "application/json"


# --- helpers: bodies, audiences, responses -----------------------------------------------------

def _read_body(request, limit: int) -> bytes:
    """The request body, or the multipart field ``file``; 413 past ``limit``."""
    too_large = _("The upload is larger than %(limit)d bytes.") % {"limit": limit}
    if request.content_type == "multipart/form-data":
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(_("Send the file in the multipart field 'file'."), field="file")
        if upload.size > limit:
            raise HttpError(413, too_large)
        return upload.read()
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise HttpError(413, too_large)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise HttpError(413, too_large)
    if not body:
        raise InvalidInput(_("The request body is empty."), field="body")
    return body


def _parsed(request, schema, limit: int = MAX_IMPORT_BYTES):
    """A JSON body read under ``limit`` and validated with ``schema``."""
    body = _read_body(request, limit)
    try:
        return schema.model_validate(json.loads(body))
    except ValidationError as exc:
        error = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in error.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {error.get('msg', 'invalid')}", field=where) from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(_("The body must be JSON."), field="body") from None


def _audience(payload) -> dict:
    names = audience_from_names(groups=payload.audience_groups, orgs=payload.audience_orgs,
                                users=payload.audience_users)
    return {key: value or [] for key, value in names.items()}


def _imported(user, reports) -> dict:
    return {"reports": [{"report": report,
                         "objects": queries.stix_objects(user, report).count(),
                         "observables": queries.observables(user, report).count(),
                         "sightings": queries.sightings(user, report).count()}
                        for report in reports]}


def _text(content: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _json(data, filename: str | None = None) -> JsonResponse:
    response = JsonResponse(data, safe=False, json_dumps_params={"ensure_ascii": False})
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Reports ---------------------------------------------------------------------------------

class ReportFilters(Schema):
    tlp: str = ""
    owner: str = ""
    tag: str = ""
    type: str = ""
    source: str = ""
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""
    value: str = ""


@router.get("/reports", response=list[ReportSummary], summary="Reports visible to you")
@paginate(LimitOffsetPagination)
def list_reports(request, filters: Query[ReportFilters]):
    """Filters: ``tlp``; ``owner`` (organisation short name or id); ``tag`` (a label);
    ``type`` (reports holding an observable of this type); ``source`` (stix, misp, csv, text,
    manual, feed); ``since``/``until`` (created); ``q`` (title and description); ``value``
    (reports holding this value). ``count`` covers only reports visible to you."""
    return queries.reports(request.auth, tlp=filters.tlp, owner=filters.owner or None,
                           label=filters.tag, search=filters.q, source=filters.source,
                           since=filters.since, until=filters.until, value=filters.value,
                           observable_type=filters.type)


@router.post("/reports", response={201: ReportDetail}, summary="Create a report")
def create_report(request, payload: ReportIn):
    user = require_writer(request)
    report = services.create_report(
        user=user, title=payload.title, tlp=payload.tlp, description=payload.description,
        labels=payload.labels, confidence=payload.confidence,
        observables=[(o.type, o.value) for o in payload.observables], request=request,
        **_audience(payload))
    return Status(201, queries.report_detail(user, report.pk))


@router.get("/reports/{report_id}", response=ReportDetail,
            summary="A report: objects, observables, relationships, correlations, sightings, "
                    "history")
def get_report(request, report_id: int):
    return queries.report_detail(request.auth, report_id)


@router.patch("/reports/{report_id}", response=ReportDetail, summary="Change a report")
def update_report(request, report_id: int, payload: ReportPatch):
    user = require_writer(request)
    queries.report(user, report_id)  # 404 first for a report the caller cannot see
    changes = payload.dict(exclude_unset=True, exclude={"audience_groups", "audience_orgs",
                                                        "audience_users"})
    audience = audience_from_names(groups=payload.audience_groups, orgs=payload.audience_orgs,
                                   users=payload.audience_users)
    services.update_report(report_id, user=user, request=request, **audience, **changes)
    return queries.report_detail(user, report_id)


@router.delete("/reports/{report_id}", response={204: None}, summary="Delete a report")
def delete_report(request, report_id: int):
    user = require_writer(request)
    services.delete_report(report_id, user=user, request=request)
    return Status(204, None)


@router.get("/reports/{report_id}/objects", response=list[StixObjectFull],
            summary="A report's STIX objects, every version, as stored")
@paginate(LimitOffsetPagination)
def list_report_objects(request, report_id: int):
    report = queries.report(request.auth, report_id)
    return queries.stix_objects(request.auth, report)


@router.get("/reports/{report_id}/observables", response=list[ObservableOut],
            summary="A report's observables")
@paginate(LimitOffsetPagination)
def list_report_observables(request, report_id: int, type: str = ""):
    report = queries.report(request.auth, report_id)
    return queries.observables(request.auth, report, type=type).order_by("id")


@router.post("/reports/{report_id}/observables", response={201: AddedOut},
             summary="Add observables to a report")
def add_observables(request, report_id: int, payload: ObservablesIn):
    user = require_writer(request)
    added = services.add_observables(report_id, [(o.type, o.value) for o in payload.observables],
                                     user=user, request=request)
    return Status(201, {"added": added})


@router.get("/reports/{report_id}/correlations", response=list[CorrelationOut],
            summary="Other reports visible to you that share a value with this one")
def list_correlations(request, report_id: int):
    report = queries.report(request.auth, report_id)
    return queries.correlations(request.auth, report)


# --- Imports ---------------------------------------------------------------------------------

class ImportOptions(Schema):
    tlp: str = "amber"
    title: str = ""
    audience_groups: list[str] = []
    audience_orgs: list[str] = []
    audience_users: list[str] = []
    allow_custom: bool = False


_BODY_DOC = {"requestBody": {"required": True, "content": {
    _JSON: {"schema": {"type": "object"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}}}}}


@router.post("/import/stix", response={201: ImportOut}, openapi_extra=_BODY_DOC,
             summary="Import a STIX 2.1 bundle as one report (all or nothing)")
def import_stix(request, options: Query[ImportOptions]):
    """Body: the bundle (``application/json``) or the multipart field ``file``. Options in
    the query string: ``tlp`` (raised to the strictest TLP marking in the bundle), ``title``,
    ``audience_orgs``/``audience_groups``/``audience_users`` (repeat them), ``allow_custom``.
    A bad object rejects the bundle with 400 naming its index and id."""
    user = require_writer(request)
    body = _read_body(request, MAX_IMPORT_BYTES)
    report = services.import_stix(body, user=user, tlp=options.tlp, title=options.title,
                                  allow_custom=options.allow_custom, request=request,
                                  **_audience(options))
    return Status(201, _imported(user, [report]))


@router.post("/import/misp", response={201: ImportOut}, openapi_extra=_BODY_DOC,
             summary="Import MISP events: one event, a list, or a MISP feed as a zip")
def import_misp(request, options: Query[ImportOptions]):
    """Body: a MISP event (``{"Event": {...}}``) or a JSON list of them, as
    ``application/json``; or a MISP feed folder (``manifest.json`` plus ``<uuid>.json`` files,
    at the top or in one folder) zipped, as ``application/zip`` or the multipart field ``file``.
    Each event becomes a report; its ``tlp:*`` tag sets its TLP (``tlp`` only makes it
    stricter). All or nothing."""
    user = require_writer(request)
    body = _read_body(request, MAX_IMPORT_BYTES)
    data = misp_importer.feed_from_zip(body) if body[:4] == b"PK\x03\x04" else body
    reports = services.import_misp(data, user=user, tlp=options.tlp if "tlp" in request.GET
                                   else None, request=request, **_audience(options))
    return Status(201, _imported(user, reports))


@router.post("/import/csv", response={201: ImportOut},
             openapi_extra={"requestBody": {"required": True, "content": {
                 _JSON: {"schema": CsvImportIn.model_json_schema()}}}},
             summary="Import a CSV of indicators through a column mapping")
def import_csv(request):
    """A bad line rejects the file with 400 naming the line."""
    user = require_writer(request)
    payload = _parsed(request, CsvImportIn)
    report = services.import_csv(
        payload.csv, payload.mapping, user=user, tlp=payload.tlp, title=payload.title,
        has_header=payload.has_header, default_type=payload.default_type,
        delimiter=payload.delimiter, description=payload.description, labels=payload.labels,
        request=request, **_audience(payload))
    return Status(201, _imported(user, [report]))


@router.post("/extract", response=ExtractOut,
             summary="Find indicators in free text (a preview: nothing is saved)")
def extract_text(request, payload: ExtractIn):
    """Defanged values are refanged. Review the list, then POST it to /import/text."""
    require_writer(request)
    return {"candidates": extract.extract(payload.text)}


@router.post("/import/text", response={201: ImportOut},
             summary="Save the reviewed indicators of a free-text extraction as a report")
def import_text(request, payload: TextImportIn):
    user = require_writer(request)
    report = services.create_report(
        user=user, title=payload.title, tlp=payload.tlp, description=payload.description,
        labels=payload.labels, observables=[(o.type, o.value) for o in payload.observables],
        source=ReportSource.TEXT, request=request, **_audience(payload))
    return Status(201, _imported(user, [report]))


# --- Exports ---------------------------------------------------------------------------------

class ExportFilters(Schema):
    report: list[int] | None = None
    type: list[str] = []
    all_values: bool = False


_EXPORT_DOC = ("``report`` (repeatable) chooses reports; without it, every report visible to "
               "you. Reports you cannot see are 404. Audited.")


@router.get("/export/stix", summary="STIX 2.1 bundle of reports visible to you",
            description=_EXPORT_DOC)
def export_stix(request, filters: Query[ExportFilters]):
    user = require_user(request)
    return _json(services.export_stix(filters.report, user=user, request=request),
                 "certhub-stix.json")


@router.get("/export/misp", summary="MISP event JSON: one event, or a list of events",
            description=_EXPORT_DOC + " One report gives {\"Event\": ...}; several a list.")
def export_misp(request, filters: Query[ExportFilters]):
    user = require_user(request)
    if filters.report and len(set(filters.report)) == 1:
        return _json(services.export_misp(filters.report[0], user=user, request=request),
                     "certhub-misp-event.json")
    return _json(services.export_misp_events(filters.report, user=user, request=request),
                 "certhub-misp-events.json")


@router.get("/export/csv", summary="CSV of observables", description=_EXPORT_DOC)
def export_csv(request, filters: Query[ExportFilters]):
    user = require_user(request)
    return _text(services.export_csv(filters.report, user=user, types=filters.type,
                                     request=request), "text/csv", "certhub-indicators.csv")


@router.get("/export/values", summary="Plain list of values of one or more types, one a line",
            description=_EXPORT_DOC + " ``type`` (repeatable) is required. Only values marked "
                                      "for detection unless ``all_values``.")
def export_values(request, filters: Query[ExportFilters]):
    user = require_user(request)
    return _text(services.export_values(filters.report, user=user, types=filters.type,
                                        detection_only=not filters.all_values, request=request),
                 "text/plain", f"certhub-{'-'.join(filters.type) or 'values'}.txt")


@router.get("/export/suricata", summary="Suricata rules for network indicators",
            description=_EXPORT_DOC + " IPs and prefixes (ip, both ways), domains (dns.query "
                                      "and tls.sni, with subdomains), URLs (http.host and "
                                      "http.uri). Rule ids are stable across exports.")
def export_suricata(request, filters: Query[ExportFilters]):
    user = require_user(request)
    return _text(services.export_suricata(filters.report, user=user,
                                          detection_only=not filters.all_values,
                                          request=request), "text/plain", "certhub.rules")


# --- MISP feed -------------------------------------------------------------------------------

_FEED_DOC = ("A MISP feed of the reports visible to the token's user. In MISP, add a feed of "
             "format 'MISP Feed' with URL <certhub>/api/v1/intel/feed and, under Headers, "
             "'Authorization: Bearer <token>' (MISP sends feed headers with every request). "
             "A token is required; a read-only token is enough.")


def _feed_user(request):
    user = require_user(request)
    if getattr(request, "api_token", None) is None:
        raise AuthenticationError(401, _("the MISP feed needs an API token "
                                         "(Authorization: Bearer <token>)"))
    return user


@router.get("/feed/manifest.json", summary="MISP feed: manifest", description=_FEED_DOC)
def feed_manifest(request):
    user = _feed_user(request)
    return _json(services.feed_manifest(user=user, request=request))


@router.get("/feed/hashes.csv", summary="MISP feed: value hashes", description=_FEED_DOC)
def feed_hashes(request):
    user = _feed_user(request)
    return HttpResponse(services.feed_hashes(user=user, request=request),
                        content_type="text/csv; charset=utf-8")


@router.get("/feed/{event_uuid}.json", summary="MISP feed: one event", description=_FEED_DOC)
def feed_event(request, event_uuid: str):
    user = _feed_user(request)
    return _json(services.feed_event(event_uuid, user=user, request=request))


# --- Values, lookup, sightings ----------------------------------------------------------------

@router.get("/values/{type}/{path:value}", response=ValuePageOut,
            summary="Everything visible to you about one value")
def value_page(request, type: str, value: str):
    """Reports holding it, sightings, warninglist hits; 404 if nothing visible holds it."""
    page = queries.value_page(request.auth, value, type)
    match = page["match"]
    return {"type": match.type, "value": match.value, "defanged": defang(match.value, match.type),
            "warninglists": match.warninglists, "first_seen": match.first_seen,
            "last_seen": match.last_seen,
            "reports": [{"report": o.report, "observable": o} for o in page["observables"]],
            "sightings": page["sightings"],
            "sighting_totals": {"count": page["sighting_totals"]["count"] or 0,
                                "organisations": page["sighting_totals"]["organisations"] or 0}}


@router.get("/lookup", response=ValueMatchOut, summary="Have we seen this value?")
def lookup_one(request, value: str):
    """Any indicator, defanged or not; a malformed value is answered with ``error`` set."""
    return queries.lookup(request.auth, [value])[0]


def _match(match) -> dict:
    return {"query": match.query, "type": match.type, "value": match.value,
            "error": match.error, "found": match.found, "reports": match.report_ids,
            "first_seen": match.first_seen, "last_seen": match.last_seen,
            "sightings_count": match.sightings_count, "warninglists": match.warninglists}


@router.post("/lookup", summary=f"Have we seen these? Up to {queries.LOOKUP_LIMIT:,} values",
             openapi_extra={"requestBody": {"required": True, "content": {
                 _JSON: {"schema": LookupIn.model_json_schema()}}}})
def lookup_batch(request):
    """Body: ``{"values": [...]}``. Answer: ``{"count", "found", "results": [...]}``, one
    result per value in order, each shaped like GET /lookup's."""
    user = require_user(request)
    payload = _parsed(request, LookupIn, MAX_LOOKUP_BYTES)
    results = [_match(match) for match in queries.lookup(user, payload.values)]
    # Plain dicts: validating 100,000 results through a schema again would cost more than
    # the lookup itself.
    return _json({"count": len(results), "found": sum(1 for r in results if r["found"]),
                  "results": results})


@router.post("/sightings", response={201: SightingOut},
             summary="Record that your organisation saw a value or an indicator")
def add_sighting(request, payload: SightingIn):
    user = require_writer(request)
    sighting = services.add_sighting(
        user=user, value=payload.value, type=payload.type,
        indicator_stix_id=payload.indicator_stix_id, count=payload.count,
        first_seen=payload.first_seen, last_seen=payload.last_seen, country=payload.country,
        sector=payload.sector, source=payload.source, tlp=payload.tlp, request=request,
        **_audience(payload))
    return Status(201, sighting)


@router.get("/sightings", response=SightingSummaryOut,
            summary="Sightings of a value or an indicator visible to you, added up")
def sighting_summary(request, value: str = "", type: str = "", indicator: str = ""):
    return queries.sighting_summary(request.auth, value=value, kind=type,
                                    indicator_stix_id=indicator)
