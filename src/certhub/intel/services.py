"""Every write to intel: imports, reports, observables, sightings; and exports (audited reads).

Each function runs in one transaction, checks ``editable_by`` inside it, and records an audit
entry that commits or rolls back with the change. Converters build an ImportPlan in memory
first, so a bad object is found before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.audit.services import Action, record
from certhub.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from certhub.directory.normalise import country as normalise_country
from certhub.sharing import services as sharing_services
from certhub.sharing.rules import user_may_write
from certhub.sharing.tlp import TLP

from . import csvimport, exports, normalise, plan, queries
from .misp import exporter as misp_exporter
from .misp import feed as misp_feed
from .misp import importer as misp_importer
from .models import Observable, Report, ReportSource, Sighting
from .stix import exporter as stix_exporter
from .stix import importer as stix_importer


def _require_writer(user) -> None:
    if not user_may_write(user):
        raise PermissionDenied(_("Your role cannot write threat intelligence."))


_tlp = sharing_services.clean_tlp


def _new_report(user, built: plan.ImportPlan, *, tlp: str, source: str, audience: dict,
                pk: int | None = None) -> Report:
    """The saved report; ``pk``: an id reserved from its sequence (``plan.object_stream``)."""
    report = Report(pk=pk, owner_id=user.organisation_id, created_by=user,
                    tlp=built.strictest_tlp(_tlp(tlp)), stix_id=built.stix_id,
                    title=built.title[:500], description=built.description,
                    published=built.published, labels=built.labels,
                    confidence=built.confidence, source=source, misp=built.misp)
    try:
        with transaction.atomic():
            report.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("Your organisation already shared a report with id %(id)s; update it "
                         "instead.") % {"id": built.stix_id}, field="stix_id") from None
    sharing_services.set_audience(report, tlp=report.tlp, **audience)
    return report


def _audience(audience_groups, audience_orgs, audience_users) -> dict:
    return {"groups": list(audience_groups), "orgs": list(audience_orgs),
            "users": list(audience_users)}


def import_stix(data, *, user, tlp: str, audience_groups: Iterable = (),
                audience_orgs: Iterable = (), audience_users: Iterable = (), title: str = "",
                allow_custom: bool = False, report_stix_id: str = "", request=None) -> Report:
    """Store a STIX 2.1 bundle as one report of the user's organisation; all or nothing.

    ``report_stix_id`` names the new report (TAXII posts: a fresh id, even when the objects
    hold one STIX report, whose id would otherwise name it)."""
    _require_writer(user)
    with plan.bulk_work():
        bundle = stix_importer.load(data)
        with transaction.atomic():
            # On PostgreSQL, objects are written while later ones are still checked (see
            # plan.ObjectStream); a bad object still stores nothing: the error rolls back.
            with plan.object_stream(len(bundle["objects"])) as stream:
                built = stix_importer.plan(bundle, title=title, allow_custom=allow_custom,
                                           sink=stream.write if stream else None)
            if report_stix_id:
                built.stix_id = report_stix_id
            report = _new_report(user, built, tlp=tlp, source=ReportSource.STIX,
                                 audience=_audience(audience_groups, audience_orgs,
                                                    audience_users),
                                 pk=stream.report_id if stream else None)
            counts = plan.store(report, built, stream)
            record(Action.CREATE, user=user, request=request, obj=report,
                   details={"import": "stix", **counts})
    return report


def import_misp(data, *, user, tlp: str | None = None, audience_groups: Iterable = (),
                audience_orgs: Iterable = (), audience_users: Iterable = (),
                request=None) -> list[Report]:
    """Store MISP events: one ``{"Event": ...}`` document, or a feed (``{"manifest.json": ...,
    "<uuid>.json": ...}`` as parsed JSON), all or nothing.

    An event's ``tlp:*`` tag sets its TLP; ``tlp``, if given, can only make it stricter (an
    untagged event takes ``tlp``, or TLP:AMBER)."""
    _require_writer(user)
    with plan.bulk_work():
        return _import_misp(data, user=user, tlp=tlp, request=request,
                            audience=_audience(audience_groups, audience_orgs, audience_users))


def _import_misp(data, *, user, tlp, request, audience) -> list[Report]:
    plans = [misp_importer.plan(event) for event in misp_importer.events(data)]
    reports = []
    with transaction.atomic():
        for built in plans:
            if built.misp.get("tlp"):
                built.tlp_found.add(built.misp["tlp"])
            report = _new_report(user, built, tlp=tlp or built.misp.get("tlp") or TLP.AMBER,
                                 source=ReportSource.MISP,
                                 audience=audience)
            counts = plan.store(report, built)
            record(Action.CREATE, user=user, request=request, obj=report,
                   details={"import": "misp", **counts})
            reports.append(report)
    return reports


def import_csv(text: str, mapping: dict, *, user, tlp: str, title: str,
               has_header: bool = True, default_type: str = "", delimiter: str = ",",
               description: str = "", labels: Iterable[str] = (),
               audience_groups: Iterable = (), audience_orgs: Iterable = (),
               audience_users: Iterable = (), request=None) -> Report:
    """A CSV of indicators read through a column mapping (see csvimport), all or nothing."""
    _require_writer(user)
    if not title.strip():
        raise InvalidInput(_("A report needs a title."), field="title")
    built = csvimport.plan(text, mapping, title=title.strip(), stix_id=f"report--{uuid.uuid4()}",
                           has_header=has_header, default_type=default_type,
                           delimiter=delimiter)
    built.description, built.labels = description, list(labels)
    with transaction.atomic():
        report = _new_report(user, built, tlp=tlp, source=ReportSource.CSV,
                             audience=_audience(audience_groups, audience_orgs, audience_users))
        counts = plan.store(report, built)
        record(Action.CREATE, user=user, request=request, obj=report,
               details={"import": "csv", **counts})
    return report


def create_report(*, user, title: str, tlp: str, description: str = "",
                  labels: Iterable[str] = (), confidence: int | None = None,
                  observables: Iterable[tuple[str, str]] = (), audience_groups: Iterable = (),
                  audience_orgs: Iterable = (), audience_users: Iterable = (),
                  source: str = ReportSource.MANUAL, request=None) -> Report:
    """A report entered by hand (or reviewed after extraction from free text: ``source`` TEXT),
    with (type, value) observables (refanged and normalised)."""
    _require_writer(user)
    if not title.strip():
        raise InvalidInput(_("A report needs a title."), field="title")
    built = plan.ImportPlan(stix_id=f"report--{uuid.uuid4()}", title=title.strip(),
                            description=description, labels=list(labels),
                            confidence=_confidence(confidence))
    built.observables = _planned_observables(observables)
    with transaction.atomic():
        report = _new_report(user, built, tlp=tlp, source=source,
                             audience=_audience(audience_groups, audience_orgs, audience_users))
        counts = plan.store(report, built)
        record(Action.CREATE, user=user, request=request, obj=report,
               details={"import": source, **counts} if source != ReportSource.MANUAL
               else counts)
    return report


def _confidence(value) -> int | None:
    if value is None or value == "":
        return None
    if not str(value).isdigit() or not 0 <= int(value) <= 100:
        raise InvalidInput(_("Confidence is a number from 0 to 100."), field="confidence")
    return int(value)


def _planned_observables(pairs: Iterable[tuple[str, str]]) -> list[plan.PlannedObservable]:
    found: dict[tuple[str, str], plan.PlannedObservable] = {}
    for index, (kind, value) in enumerate(pairs):
        try:
            kind, canonical = (normalise.normalise_typed(kind, value) if kind
                               else normalise.detect(value))
        except InvalidInput as exc:
            raise InvalidInput(f"observable {index + 1}: {exc.message}",
                               field=f"observables[{index}]") from None
        found.setdefault((kind, canonical), plan.PlannedObservable(type=kind, value=canonical))
    return list(found.values())


def _editable_report(user, report_id: int) -> Report:
    """The report, locked, if the user may change it; 404 if invisible, 403 if only visible."""
    report = Report.objects.editable_by(user).select_for_update().filter(pk=report_id).first()
    if report is None:
        queries.report(user, report_id)  # raises NotFound when not even visible
        raise PermissionDenied(_("Only your organisation's writers can change this report."))
    return report


_EDITABLE = {"title", "description", "labels", "confidence", "published", "tlp"}


def update_report(report_id: int, *, user, audience_groups: Iterable | None = None,
                  audience_orgs: Iterable | None = None, audience_users: Iterable | None = None,
                  request=None, **changes) -> Report:
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}",
                           field=sorted(unknown)[0])
    with transaction.atomic():
        report = _editable_report(user, report_id)
        before = {name: getattr(report, name) for name in changes}
        if "tlp" in changes:
            changes["tlp"] = _tlp(changes["tlp"])
        if "confidence" in changes:
            changes["confidence"] = _confidence(changes["confidence"])
        if "title" in changes and not str(changes["title"]).strip():
            raise InvalidInput(_("A report needs a title."), field="title")
        for name, value in changes.items():
            setattr(report, name, value)
        report.save()
        # The audience is checked against the label it ends up with, changed or not.
        sharing_services.set_audience(
            report, tlp=report.tlp,
            groups=report.audience_groups.all() if audience_groups is None else audience_groups,
            orgs=report.audience_orgs.all() if audience_orgs is None else audience_orgs,
            users=report.audience_users.all() if audience_users is None else audience_users)
        _sync_sightings(report)
        record(Action.CHANGE, user=user, request=request, obj=report,
               details={"changed": sorted(changes), "before": {k: str(v) for k, v in
                                                              before.items()}})
    return report


def _sync_sightings(report: Report) -> None:
    """Sightings that arrived with a report are shared exactly as the report is now."""
    arrived = list(Sighting.unrestricted.filter(report=report))
    if not arrived:
        return
    Sighting.unrestricted.filter(report=report).update(tlp=report.tlp)
    for name in ("audience_groups", "audience_orgs", "audience_users"):
        through = Sighting._meta.get_field(name).remote_field.through
        through.objects.filter(sighting__in=arrived).delete()
    plan.copy_audience(report, arrived)


def delete_report(report_id: int, *, user, request=None) -> None:
    with transaction.atomic():
        report = _editable_report(user, report_id)
        record(Action.DELETE, user=user, request=request, obj=report)
        Report.unrestricted.filter(pk=report.pk).delete()


def add_observables(report_id: int, pairs: Iterable[tuple[str, str]], *, user,
                    request=None) -> int:
    """Add (type, value) observables to a report the user may edit; returns how many."""
    planned = _planned_observables(pairs)
    with transaction.atomic():
        report = _editable_report(user, report_id)
        existing = set(Observable.objects.of_visible(report).values_list("type", "value"))
        new = [Observable(report=report, type=p.type, value=p.value) for p in planned
               if (p.type, p.value) not in existing]
        Observable.unrestricted.bulk_create(new, batch_size=plan.BATCH)
        report.save(update_fields=["modified"])
        record(Action.CHANGE, user=user, request=request, obj=report,
               details={"observables_added": len(new)})
    return len(new)


def add_sighting(*, user, value: str = "", type: str = "", indicator_stix_id: str = "",
                 count: int = 1, first_seen: datetime | None = None,
                 last_seen: datetime | None = None, country: str = "", sector: str = "",
                 source: str = "", tlp: str = TLP.AMBER, audience_groups: Iterable = (),
                 audience_orgs: Iterable = (), audience_users: Iterable = (),
                 request=None) -> Sighting:
    """The user's organisation saw ``value`` (or the indicator ``indicator_stix_id``)."""
    _require_writer(user)
    if not value and not indicator_stix_id:
        raise InvalidInput(_("Say what was seen: a value or an indicator id."), field="value")
    kind = ""
    if value:
        kind, value = (normalise.normalise_typed(type, value) if type
                       else normalise.detect(value))
    if indicator_stix_id and not indicator_stix_id.startswith("indicator--"):
        raise InvalidInput(_("An indicator id looks like indicator--<uuid>."),
                           field="indicator_stix_id")
    if int(count) < 1:
        raise InvalidInput(_("A sighting counts at least one event."), field="count")
    now = timezone.now()
    first_seen = first_seen or last_seen or now
    last_seen = last_seen or first_seen
    if last_seen < first_seen:
        raise InvalidInput(_("Last seen cannot be before first seen."), field="last_seen")
    if country:
        country = normalise_country(country)
    with transaction.atomic():
        sighting = Sighting.objects.create(
            owner_id=user.organisation_id, created_by=user, tlp=_tlp(tlp),
            stix_id=f"sighting--{uuid.uuid4()}", observable_type=kind, value=value,
            indicator_stix_id=indicator_stix_id, count=int(count), first_seen=first_seen,
            last_seen=last_seen, country=country, sector=sector[:100], source=source[:200],
            seen_by_id=user.organisation_id)
        sharing_services.set_audience(sighting, tlp=sighting.tlp, groups=audience_groups,
                                      orgs=audience_orgs, users=audience_users)
        record(Action.CREATE, user=user, request=request, obj=sighting)
    return sighting


def _record_export(user, request, fmt: str, reports: list[Report], **details) -> None:
    """One audit entry per export: who took what, in which format."""
    with transaction.atomic():
        if len(reports) == 1:
            record(Action.EXPORT, user=user, request=request, obj=reports[0],
                   details={"format": fmt, **details})
            return
        record(Action.EXPORT, user=user, request=request, object_type="intel.report",
               object_id=",".join(str(r.pk) for r in reports[:20]),
               object_repr=_("%(format)s export of %(n)d report(s)")
               % {"format": fmt, "n": len(reports)},
               details={"format": fmt, "reports": len(reports), **details})


def _chosen(report_ids: Iterable[int] | None, user) -> list[Report]:
    """The visible reports named (NotFound if one is not visible), or every visible one."""
    reports = queries.reports(user)
    ids = None
    if report_ids is not None:
        ids = list(report_ids)
        reports = reports.filter(pk__in=ids)
    found = list(reports)
    if ids is not None and len(found) != len(set(ids)):
        raise NotFound()
    return found


def export_stix(report_ids: Iterable[int] | None, *, user, request=None) -> dict:
    """A STIX bundle of the given reports (or every report the user sees), audited."""
    reports = _chosen(report_ids, user)
    result = stix_exporter.bundle(reports)
    _record_export(user, request, "stix", reports, objects=len(result["objects"]))
    return result


def export_misp(report_id: int, *, user, request=None) -> dict:
    """One visible report as a MISP event document ``{"Event": ...}``, audited."""
    report = queries.report(user, report_id)
    result = misp_exporter.event(report)
    _record_export(user, request, "misp", [report],
                   attributes=len(result["Event"]["Attribute"]))
    return result


def export_misp_events(report_ids: Iterable[int] | None, *, user, request=None) -> list[dict]:
    """Several visible reports as a list of ``{"Event": ...}`` documents, audited."""
    reports = _chosen(report_ids, user)
    result = [misp_exporter.event(report) for report in reports]
    _record_export(user, request, "misp", reports)
    return result


def export_csv(report_ids: Iterable[int] | None, *, user, types: Iterable[str] = (),
               request=None) -> str:
    reports, rows = queries.export_rows(user, None if report_ids is None else list(report_ids),
                                        types=types)
    by_id = {report.pk: report for report in reports}
    text = exports.csv_text(
        (by_id[r.report_id].pk, by_id[r.report_id].stix_id, by_id[r.report_id].title,
         by_id[r.report_id].tlp, r.type, r.value, r.to_ids, r.first_seen, r.last_seen, r.comment)
        for r in rows.iterator(chunk_size=5000))
    _record_export(user, request, "csv", reports)
    return text


def _kinds(types: Iterable[str]) -> list[str]:
    kinds = [kind.strip() for kind in types if kind and kind.strip()]
    unknown = [kind for kind in kinds if kind not in normalise.ObservableType.values]
    if unknown:
        raise InvalidInput(_("Unknown indicator type: %(type)s.") % {"type": unknown[0]},
                           field="type")
    return kinds


def export_values(report_ids: Iterable[int] | None, *, user, types: Iterable[str],
                  detection_only: bool = True, request=None) -> str:
    """Values of the given types, one per line, for block lists."""
    kinds = _kinds(types)
    if not kinds:
        raise InvalidInput(_("Choose the indicator type(s) to list."), field="type")
    reports, rows = queries.export_rows(user, None if report_ids is None else list(report_ids),
                                        types=kinds, detection_only=detection_only)
    text = exports.value_list(rows.values_list("value", flat=True).iterator(chunk_size=5000))
    _record_export(user, request, "values", reports, types=kinds)
    return text


def export_suricata(report_ids: Iterable[int] | None, *, user, detection_only: bool = True,
                    request=None) -> str:
    """Suricata rules for the network indicators of the given (or all visible) reports."""
    reports, rows = queries.export_rows(user, None if report_ids is None else list(report_ids),
                                        types=sorted(exports.SURICATA_TYPES),
                                        detection_only=detection_only)
    text = exports.suricata_rules(rows.values_list("type", "value").iterator(chunk_size=5000))
    _record_export(user, request, "suricata", reports)
    return text


def feed_manifest(*, user, request=None) -> dict:
    """The MISP feed manifest of every report the user sees."""
    reports = _chosen(None, user)
    _record_export(user, request, "misp-feed-manifest", reports)
    return misp_feed.manifest(reports)


def feed_hashes(*, user, request=None) -> str:
    text = misp_feed.hashes_csv(queries.feed_hash_rows(user))
    with transaction.atomic():
        record(Action.EXPORT, user=user, request=request, object_type="intel.report",
               object_repr=_("MISP feed hashes"), details={"format": "misp-feed-hashes"})
    return text


def feed_event(event_uuid: str, *, user, request=None) -> dict:
    """One feed event file: the visible report whose STIX id carries this uuid."""
    try:
        canonical = str(uuid.UUID(event_uuid))
    except ValueError:
        raise NotFound() from None
    report = queries.report_by_stix_id(user, f"report--{canonical}")
    result = misp_exporter.event(report)
    _record_export(user, request, "misp-feed", [report])
    return result
