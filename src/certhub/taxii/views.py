"""TAXII 2.1 endpoints (OASIS TAXII 2.1, section 4 and 5): plain Django views, because TAXII
has its own media types and error resources. They parse, call collections/queries/services and
answer; token authentication only (no session), so no CSRF.

Reads of objects and manifests are written to the audit log once per paging (the request
without ``next``; ``next`` values are signed and bound to their user).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from certhub.core.errors import CerthubError

from . import collections, queries, services
from .http import (
    TaxiiError,
    authenticate,
    check_accept,
    check_content_type,
    error_response,
    response,
)
from .models import ApiRoot, Status

HEADER_FIRST = "X-TAXII-Date-Added-First"
HEADER_LAST = "X-TAXII-Date-Added-Last"


def taxii_view(methods: tuple[str, ...], *, stix: bool = False):
    """Authenticate, negotiate, and turn errors into TAXII error resources."""
    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in methods:
                    raise TaxiiError(405, _("Method not allowed"),
                                     headers={"Allow": ", ".join(methods)})
                user, token = authenticate(request)
                check_accept(request, stix=stix)
                return view(request, user, token, *args, **kwargs)
            except TaxiiError as exc:
                return error_response(exc)
            except CerthubError as exc:
                return error_response(TaxiiError(exc.status, _title(exc.status), exc.message))
        return wrapper
    return decorate


def _title(status: int) -> str:
    return {400: _("Bad request"), 403: _("Forbidden"), 404: _("Not found"),
            409: _("Conflict"), 413: _("Payload too large")}.get(status, _("Error"))


@taxii_view(("GET",))
def discovery(request, user, token):
    roots = list(ApiRoot.objects.order_by("slug"))
    base = request.build_absolute_uri("/").rstrip("/")
    body = {"title": getattr(settings, "SITE_NAME", "certhub") + " TAXII",
            "description": _("TAXII 2.1 server of certhub: threat intelligence shared through "
                             "the platform's TLP rules."),
            "api_roots": [base + reverse("taxii:api_root", args=[root.slug]) for root in roots]}
    default = next((root for root in roots if root.default), None)
    if default is not None:
        body["default"] = base + reverse("taxii:api_root", args=[default.slug])
    return response(body)


@taxii_view(("GET",))
def api_root(request, user, token, root):
    found = collections.api_root(root)
    body = {"title": found.title, "versions": ["application/taxii+json;version=2.1"],
            "max_content_length": found.max_content_length}
    if found.description:
        body["description"] = found.description
    return response(body)


@taxii_view(("GET",))
def status(request, user, token, root, status_id):
    found = collections.api_root(root)
    row = Status.objects.filter(pk=status_id, api_root=found, user=user).first()
    if row is None:
        raise TaxiiError(404, _("Not found"), _("No such status resource."))
    return status_response(row, 200)


@taxii_view(("GET",))
def collection_list(request, user, token, root):
    found = collections.api_root(root)
    listed = collections.collections_for(user, found, token)
    body = {"collections": [c.resource() for c in listed]} if listed else {}
    return response(body)


@taxii_view(("GET",))
def collection_detail(request, user, token, root, collection_id):
    found = collections.api_root(root)
    return response(collections.collection(user, found, collection_id, token).resource())


def _page_headers(page: queries.Page) -> dict:
    if not page.rows:
        return {}
    return {HEADER_FIRST: queries.format_timestamp(page.first_added),
            HEADER_LAST: queries.format_timestamp(page.last_added)}


def _envelope(page: queries.Page) -> str:
    """The envelope around stored JSON texts, concatenated as they are."""
    head = '{"more":' + ("true" if page.more else "false")
    if page.next:
        head += ',"next":"' + page.next + '"'
    if not page.rows:
        return head + "}"
    return head + ',"objects":[' + ",".join(row[2] for row in page.rows) + "]}"


def _audit_filters(request) -> dict:
    return {key: request.GET.getlist(key) if key.startswith("match[") else request.GET[key]
            for key in request.GET if key != "next"}


@taxii_view(("GET", "POST"), stix=True)
def objects(request, user, token, root, collection_id):
    found = collections.api_root(root)
    chosen = collections.collection(user, found, collection_id, token)
    if request.method == "POST":
        return _add(request, user, token, found, chosen)
    filters = queries.parse_filters(request.GET, user, path=request.path)
    page = queries.objects(user, chosen, filters)
    if filters.after is None:
        services.record_read(request, user, chosen, "objects", len(page.rows),
                             _audit_filters(request))
    return response(_envelope(page), headers=_page_headers(page))


def _add(request, user, token, root, chosen):
    check_content_type(request)
    too_large = TaxiiError(413, _("Payload too large"),
                           _("This API root accepts at most %(n)d bytes per request.")
                           % {"n": root.max_content_length})
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0  # the body read below is bounded all the same
    if length > root.max_content_length:
        raise too_large
    if not chosen.can_write:
        raise TaxiiError(403, _("Forbidden"), _("You may not add objects to this collection."))
    # Read from the stream, bounded by the API root's own limit: request.body would apply
    # Django's 2.5 MB form limit and answer a larger envelope with an HTML page.
    raw = request.read(root.max_content_length + 1)
    if len(raw) > root.max_content_length:
        raise too_large
    envelope = services.parse_envelope(raw)
    row = services.add_objects(root, chosen, envelope, user=user, token=token, request=request)
    return status_response(row, 202)


def status_response(row, code: int):
    body = {"id": str(row.id), "status": row.status,
            "request_timestamp": queries.format_timestamp(row.request_timestamp),
            "total_count": row.total_count, "success_count": row.success_count,
            "failure_count": row.failure_count, "pending_count": row.pending_count}
    for name in ("successes", "failures", "pendings"):
        if getattr(row, name):
            body[name] = getattr(row, name)
    return response(body, code)


@taxii_view(("GET",), stix=True)
def object_detail(request, user, token, root, collection_id, object_id):
    found = collections.api_root(root)
    chosen = collections.collection(user, found, collection_id, token)
    filters = queries.parse_filters(request.GET, user, path=request.path)
    if filters.ids or filters.types:
        raise TaxiiError(400, _("Bad request"),
                         _("match[id] and match[type] do not apply to one object."))
    page = queries.objects(user, chosen, filters, object_id=object_id)
    if filters.after is None:
        services.record_read(request, user, chosen, "object", len(page.rows),
                             {"id": object_id, **_audit_filters(request)})
    return response(_envelope(page), headers=_page_headers(page))


@taxii_view(("GET",))
def object_versions(request, user, token, root, collection_id, object_id):
    found = collections.api_root(root)
    chosen = collections.collection(user, found, collection_id, token)
    filters = queries.parse_filters(request.GET, user, path=request.path, default_version="all")
    if filters.ids or filters.types or request.GET.getlist("match[version]"):
        raise TaxiiError(400, _("Bad request"),
                         _("Only added_after, limit, next and match[spec_version] apply to "
                           "versions."))
    page = queries.versions(user, chosen, object_id, filters)
    body = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.rows:
        body["versions"] = [queries.format_timestamp(row[2]) for row in page.rows]
    return response(body, headers=_page_headers(page))


@taxii_view(("GET",))
def manifest(request, user, token, root, collection_id):
    found = collections.api_root(root)
    chosen = collections.collection(user, found, collection_id, token)
    filters = queries.parse_filters(request.GET, user, path=request.path)
    page = queries.manifest(user, chosen, filters)
    if filters.after is None:
        services.record_read(request, user, chosen, "manifest", len(page.rows),
                             _audit_filters(request))
    body = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.rows:
        body["objects"] = [{"id": stix_id, "date_added": queries.format_timestamp(added),
                            "version": queries.format_timestamp(version),
                            "media_type": "application/stix+json;version=2.1"}
                           for added, _pk, stix_id, version in page.rows]
    return response(body, headers=_page_headers(page))


@taxii_view(("GET",))
def not_found(request, user, token, rest=""):
    raise TaxiiError(404, _("Not found"), _("No such TAXII resource."))
