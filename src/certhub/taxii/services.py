"""Every write of the TAXII server: adding a POSTed envelope to a collection, and the audit
entries of reads.

A POSTed envelope is stored through intel's STIX import (``intel.services.import_stix``): one
new report of the poster's organisation holding the objects, with the collection's TLP (raised
to the strictest TLP marking the objects carry) and audience. The import is all or nothing, so
when it refuses the envelope each object is checked on its own, and the valid ones are imported
while the others are reported as failures with the validator's reason. Object versions the
organisation already holds in the collection are reported as successes without a second copy.
"""

from __future__ import annotations

import json
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import CerthubError, InvalidInput, PermissionDenied
from certhub.intel import services as intel_services
from certhub.intel.plan import parse_timestamp
from certhub.intel.stix import importer as stix_importer

from . import queries
from .collections import CollectionView
from .models import ApiRoot, Collection, CollectionKind, Status, StatusState

HUB_ROOT = "hub"
# The hub's standing collections (also created by migration 0002, which may not import this).
DEFAULT_COLLECTIONS = [
    ("2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a01", CollectionKind.VISIBLE, "Everything I may see",
     "Every STIX object shared with you on certhub, under the platform's TLP rules.", ""),
    ("2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a02", CollectionKind.OWN, "My organisation's own",
     "STIX objects your organisation shared. What you add is stored as TLP:AMBER for your "
     "organisation.", "amber"),
    ("2f2c5b4e-8d51-4c55-9a0e-6b1b5a3b7a03", CollectionKind.FINDINGS,
     "Feed findings for my organisation",
     "Findings of certhub's feeds routed to your organisation, as STIX indicators.", ""),
]


def ensure_defaults() -> ApiRoot:
    """The hub's API root and standing collections, created if missing (idempotent)."""
    with transaction.atomic():
        root, _created = ApiRoot.objects.get_or_create(
            slug=HUB_ROOT, defaults={"title": "certhub hub", "default": True,
                                     "description": "The hub's TAXII 2.1 API root."})
        for pk, kind, title, description, tlp in DEFAULT_COLLECTIONS:
            Collection.objects.get_or_create(
                id=uuid.UUID(pk), defaults={"api_root": root, "kind": kind, "title": title,
                                            "alias": kind.value, "description": description,
                                            "write_tlp": tlp})
    return root


def parse_envelope(body: bytes) -> list:
    """The ``objects`` of a TAXII envelope; InvalidInput if the body is not one."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(_("The body is not JSON: %(error)s") % {"error": exc},
                           field="envelope") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise InvalidInput(_('Not a TAXII envelope: expected an object with an "objects" list.'),
                           field="envelope")
    if not envelope["objects"]:
        raise InvalidInput(_("The envelope holds no objects."), field="envelope.objects")
    return envelope["objects"]


def _version(obj) -> str:
    if isinstance(obj, dict):
        return str(obj.get("modified") or obj.get("created") or "")
    return ""


def _detail(obj, message: str = "") -> dict:
    detail = {"id": str(obj.get("id", "")) if isinstance(obj, dict) else ""}
    version = _version(obj)
    if version:
        detail["version"] = version
    if message:
        detail["message"] = message
    return detail


def _object_failure(obj) -> str | None:
    """Why the import would refuse this object alone, or None."""
    try:
        stix_importer.validate([obj])
    except InvalidInput as exc:
        return exc.message.split(": ", 1)[-1]
    return None


def add_objects(root: ApiRoot, collection: CollectionView, objects: list, *, user, token=None,
                request=None) -> Status:
    """Store ``objects`` in ``collection`` for ``user``; the status resource of the request."""
    if not collection.can_write:
        raise PermissionDenied(_("You may not add objects to this collection."))
    status = Status(api_root=root, collection_id=uuid.UUID(collection.id), user=user,
                    total_count=len(objects))
    failures: list[dict] = []
    keys = []
    for obj in objects:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) \
                or not isinstance(obj.get("type"), str):
            failures.append(_detail(obj, _("Not a STIX object: it needs a type and an id.")))
            keys.append(None)
            continue
        keys.append((obj["id"], obj.get("modified")))
    held = queries.stored_versions(user, collection, user.organisation_id,
                                   sorted({key[0] for key in keys if key}))
    held = {(stix_id, modified) for stix_id, modified in held}
    fresh, already = [], []
    for obj, key in zip(objects, keys, strict=True):
        if key is None:
            continue
        try:
            stored = (key[0], parse_timestamp(key[1]) if key[1] else None) in held
        except ValueError:
            stored = False
        (already if stored else fresh).append(obj)
    successes = [_detail(obj, _("already in the collection")) for obj in already]
    report = None
    if fresh:
        report, imported, refused = _import(collection, fresh, user=user, request=request)
        successes += [_detail(obj) for obj in imported]
        failures += refused
    status.successes, status.failures, status.pendings = successes, failures, []
    status.success_count, status.failure_count = len(successes), len(failures)
    status.pending_count = 0
    status.status = StatusState.COMPLETE
    status.report = report
    status.save()
    return status


def _import(collection: CollectionView, objects: list, *, user, request):
    """(report, objects imported, failure details)."""
    title = _("TAXII: %(collection)s, %(time)s") % {
        "collection": collection.title, "time": timezone.now().strftime("%Y-%m-%d %H:%M:%S UTC")}

    groups, orgs = collection.write_audience()

    def run(chosen: list):
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": chosen}
        return intel_services.import_stix(
            bundle, user=user, tlp=collection.write_tlp, audience_groups=groups,
            audience_orgs=orgs, title=title, report_stix_id=f"report--{uuid.uuid4()}",
            request=request)

    try:
        return run(objects), objects, []
    except InvalidInput as exc:
        if exc.code != "invalid_stix":
            return None, [], [_detail(obj, exc.message) for obj in objects]
    except CerthubError as exc:
        return None, [], [_detail(obj, exc.message) for obj in objects]
    good, failures = [], []
    for obj in objects:
        reason = _object_failure(obj)
        if reason is None:
            good.append(obj)
        else:
            failures.append(_detail(obj, reason))
    if not good:
        return None, [], failures
    try:
        return run(good), good, failures
    except CerthubError as exc:  # e.g. two versions that clash only with each other
        return None, [], failures + [_detail(obj, exc.message) for obj in good]


def record_read(request, user, collection: CollectionView, endpoint: str, count: int,
                filters: dict) -> None:
    """One audit entry per read of a collection (the first page of each paging)."""
    with transaction.atomic():
        record(Action.EXPORT, user=user, request=request, object_type="taxii.collection",
               object_id=collection.id, object_repr=collection.title[:300],
               details={"format": "taxii", "endpoint": endpoint, "objects": count,
                        **{k: v for k, v in filters.items() if v}})
