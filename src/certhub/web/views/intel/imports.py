"""Import pages: STIX bundle, MISP event, CSV with column mapping, free text.

Each import is shown first (what would be stored: title, TLP, tags, indicators, warning-list
hits) and saved only when the analyst confirms. The preview reads the input with the same
converters the import uses, without writing anything; the upload waits in the shared cache
between the two steps. Saving goes through ``certhub.intel.services``: one transaction, all or
nothing, and a clear message naming what is wrong.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from certhub.core.errors import CerthubError, InvalidInput
from certhub.intel import csvimport, extract, services, tags, warninglists
from certhub.intel.misp import importer as misp_importer
from certhub.intel.models import ReportSource
from certhub.intel.normalise import defang
from certhub.intel.stix import importer as stix_importer

from ._helpers import audience, stage, staged, unstage, writer_required
from .forms import (
    CsvImportForm,
    CsvMappingForm,
    MispImportForm,
    StixImportForm,
    TextConfirmForm,
    TextImportForm,
    set_error,
    split_lines,
)

PREVIEW_ROWS = 200


@writer_required
@require_GET
def import_index(request):
    return render(request, "web/intel/import_index.html", {})


def _summary(built) -> dict:
    """What one planned report holds, for the preview."""
    shown = built.observables[:PREVIEW_ROWS]
    hits = warninglists.check_many({(o.type, o.value) for o in shown})
    return {
        "title": built.title, "description": built.description[:2000],
        "tags": tags.resolve_many(built.labels), "tlp_found": sorted(built.tlp_found),
        "objects": sorted(Counter(o.type for o in built.objects).items()),
        "object_count": len(built.objects),
        "observable_types": sorted(Counter(o.type for o in built.observables).items()),
        "observable_count": len(built.observables),
        "observables": [{"type": o.type, "defanged": defang(o.value, o.type),
                         "to_ids": o.to_ids, "comment": o.comment,
                         "warninglists": hits.get((o.type, o.value), [])} for o in shown],
        "sighting_count": len(built.sightings), "skipped": built.skipped_values,
    }


def _check_audience(form) -> bool:
    """Refuse unknown organisations, groups or people already at the preview."""
    try:
        audience(form)
    except CerthubError as exc:
        set_error(form, exc)
        return False
    return True


def _two_step(request, kind: str, form_class, preview, save, template: str):
    """Upload/paste -> preview (nothing saved) -> save, for STIX and MISP."""
    action = request.POST.get("action", "")
    token = request.POST.get("token", "")
    form = form_class(request.POST or None, request.FILES or None)
    context = {"form": form, "kind": kind}
    if request.method != "POST":
        return render(request, template, context)
    if action == "save":
        held = staged(request.user, kind, token)
        if held is None:
            messages.error(request, _("The preview has expired: choose the file again."))
            return redirect(request.path)
        if form.is_valid() and _check_audience(form):
            try:
                reports = save(held["content"], form)
            except CerthubError as exc:
                set_error(form, exc)
            else:
                unstage(request.user, token)
                messages.success(request, _("Imported: %(n)d report(s).") % {"n": len(reports)})
                return redirect("web:intel-report", pk=reports[0].pk)
        # The options were wrong: show the preview again with the message.
        try:
            context["plans"] = [_summary(b) for b in preview(held["content"], form)]
        except CerthubError as exc:
            set_error(form, exc)
        context["token"] = token
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context)
    try:
        content = form.content()
    except ValidationError as exc:  # no file, or too large
        form.add_error(None, exc)
        return render(request, template, context)
    try:
        plans = preview(content, form)
    except CerthubError as exc:
        set_error(form, exc)
        return render(request, template, context)
    _check_audience(form)
    context.update(plans=[_summary(b) for b in plans], token=stage(request.user, kind, content))
    return render(request, template, context)


def _options(form) -> dict:
    return {"tlp": form.cleaned_data.get("tlp") or None, **audience(form)}


@writer_required
@require_http_methods(["GET", "POST"])
def import_stix(request):
    def preview(content, form):
        return [stix_importer.plan(stix_importer.load(content),
                                   title=form.cleaned_data.get("title", ""),
                                   allow_custom=form.cleaned_data.get("allow_custom", False))]

    def save(content, form):
        options = _options(form)
        return [services.import_stix(content, user=request.user, tlp=options.pop("tlp"),
                                     title=form.cleaned_data.get("title", ""),
                                     allow_custom=form.cleaned_data.get("allow_custom", False),
                                     request=request, **options)]

    return _two_step(request, "stix", StixImportForm, preview, save,
                     "web/intel/import_stix.html")


def _misp_data(content: bytes):
    return misp_importer.feed_from_zip(content) if content[:4] == b"PK\x03\x04" else content


@writer_required
@require_http_methods(["GET", "POST"])
def import_misp(request):
    def preview(content, form):
        planned = []
        for event in misp_importer.events(_misp_data(content)):
            built = misp_importer.plan(event)
            if built.misp.get("tlp"):
                built.tlp_found.add(built.misp["tlp"])
            planned.append(built)
        return planned

    def save(content, form):
        options = _options(form)
        return services.import_misp(_misp_data(content), user=request.user,
                                    tlp=options.pop("tlp"), request=request, **options)

    return _two_step(request, "misp", MispImportForm, preview, save,
                     "web/intel/import_misp.html")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("The file is not UTF-8 text."), field="text") from None


def _columns(text: str, delimiter: str, has_header: bool) -> tuple[list, list[list[str]]]:
    rows = []
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if any(cell.strip() for cell in row):
            rows.append(row)
        if len(rows) > 6:
            break
    if not rows:
        raise InvalidInput(_("The CSV is empty."), field="text")
    width = max(len(row) for row in rows)
    if has_header:
        header = rows[0]
        return [(name, name) for name in header if name.strip()], rows[1:]
    return [(str(n), _("column %(n)d") % {"n": n}) for n in range(1, width + 1)], rows[:5]


def _guess_mapping(columns) -> dict:
    """Pre-select the obvious columns (value, type, comment...) by their header names."""
    wanted = {"value": ("value", "indicator", "ioc", "observable", "attribute"),
              "type": ("type", "kind", "indicator_type"), "comment": ("comment", "note",
                                                                      "description"),
              "first_seen": ("first_seen", "first seen", "first"),
              "last_seen": ("last_seen", "last seen", "last"),
              "to_ids": ("to_ids", "ids", "block")}
    initial = {}
    for field, names in wanted.items():
        for key, label in columns:
            if str(label).strip().lower() in names:
                initial[field] = key
                break
    if "value" not in initial and columns:
        initial["value"] = columns[0][0]
    return initial


@writer_required
@require_http_methods(["GET", "POST"])
def import_csv(request):
    """Upload -> choose the columns (with the first rows shown) -> preview -> save."""
    action = request.POST.get("action", "")
    token = request.POST.get("token", "")
    form = CsvImportForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    template = "web/intel/import_csv.html"
    if request.method != "POST":
        return render(request, template, context)
    held = None
    if action in ("preview", "save"):
        held = staged(request.user, "csv", token)
        if held is None:
            messages.error(request, _("The preview has expired: choose the file again."))
            return redirect(request.path)
    valid = form.is_valid()
    if not valid and held is None:
        return render(request, template, context)
    # With the file already staged, a mistake in the options shows the mapping step again.
    data = form.cleaned_data
    delimiter = data.get("delimiter") or request.POST.get("delimiter", ",")[:1] or ","
    has_header = data.get("has_header", bool(request.POST.get("has_header")))
    try:
        if held is None:
            text = _decode(form.content())
            token = stage(request.user, "csv", text.encode("utf-8"))
        else:
            text = held["content"].decode("utf-8")
        columns, sample_rows = _columns(text, delimiter, has_header)
    except CerthubError as exc:
        set_error(form, exc)
        return render(request, template, context)
    except ValidationError as exc:  # no file, or too large
        form.add_error(None, exc)
        return render(request, template, context)
    mapping_form = CsvMappingForm(request.POST if held is not None else None, columns=columns,
                                  initial=_guess_mapping(columns))
    context.update(token=token, mapping_form=mapping_form, sample_rows=sample_rows,
                   columns=columns)
    if held is None or not valid or not mapping_form.is_valid():
        return render(request, template, context)
    mapping = mapping_form.mapping()
    if action == "save" and _check_audience(form):
        try:
            report = services.import_csv(
                text, mapping, user=request.user, tlp=data["tlp"], title=data["title"],
                has_header=data["has_header"],
                default_type=mapping_form.cleaned_data.get("default_type", ""),
                delimiter=data["delimiter"], description=data["description"],
                labels=tags.clean(split_lines(data["labels"])), request=request,
                **audience(form))
        except CerthubError as exc:
            set_error(form, exc)
        else:
            unstage(request.user, token)
            messages.success(request, _("Imported: %(n)d report(s).") % {"n": 1})
            return redirect("web:intel-report", pk=report.pk)
    try:
        built = csvimport.plan(text, mapping, title=data["title"],
                               stix_id=f"report--{uuid.uuid4()}",
                               has_header=data["has_header"],
                               default_type=mapping_form.cleaned_data.get("default_type", ""),
                               delimiter=data["delimiter"])
        built.labels = tags.clean(split_lines(data["labels"]))
    except CerthubError as exc:
        set_error(form, exc)
        return render(request, template, context)
    _check_audience(form)
    context["plans"] = [_summary(built)]
    return render(request, template, context)


def _candidate_key(kind: str, value: str) -> str:
    return f"{kind}|{value}"


@writer_required
@require_http_methods(["GET", "POST"])
def import_text(request):
    """Paste -> review the indicators found (tick the ones to keep) -> save."""
    action = request.POST.get("action", "")
    template = "web/intel/import_text.html"
    if request.method != "POST":
        return render(request, template, {"form": TextImportForm()})
    if action != "save":
        form = TextImportForm(request.POST)
        if not form.is_valid():
            return render(request, template, {"form": form})
        try:
            candidates = extract.extract(form.cleaned_data["text"])
        except CerthubError as exc:
            set_error(form, exc)
            return render(request, template, {"form": form})
        text = form.cleaned_data["text"]
        confirm = TextConfirmForm(initial={
            "title": next((line.strip()[:200] for line in text.splitlines() if line.strip()),
                          ""),
            "description": text, "tlp": form.cleaned_data["tlp"],
            "audience_orgs": form.cleaned_data["audience_orgs"],
            "audience_groups": form.cleaned_data["audience_groups"],
            "audience_users": form.cleaned_data["audience_users"]})
        return render(request, template, {
            "confirm": confirm, "candidates": _shown(candidates, None)})
    confirm = TextConfirmForm(request.POST)
    chosen = request.POST.getlist("observable")
    candidates = _posted_candidates(request.POST.getlist("candidate"))
    if confirm.is_valid():
        pairs = [tuple(item.split("|", 1)) for item in chosen if "|" in item]
        pairs += [("", value) for value in split_lines(confirm.cleaned_data["extra"])]
        if not pairs:
            confirm.add_error(None, _("Choose at least one indicator to keep."))
        else:
            data = confirm.cleaned_data
            try:
                report = services.create_report(
                    user=request.user, title=data["title"], tlp=data["tlp"],
                    description=data["description"],
                    labels=tags.clean(split_lines(data["labels"])), observables=pairs,
                    source=ReportSource.TEXT, request=request, **audience(confirm))
            except CerthubError as exc:
                set_error(confirm, exc)
            else:
                messages.success(request, _("The report is saved."))
                return redirect("web:intel-report", pk=report.pk)
    return render(request, template, {"confirm": confirm,
                                      "candidates": _shown(candidates, set(chosen))})


def _posted_candidates(items: list[str]) -> list[extract.Candidate]:
    """The candidates the preview offered, sent back with the form (to show them again)."""
    found = []
    for item in items[:20_000]:
        kind, sep, value = item.partition("|")
        if sep:
            found.append(extract.Candidate(kind, value, defang(value, kind)))
    hits = warninglists.check_many((c.type, c.value) for c in found)
    for candidate in found:
        candidate.warninglists = hits.get((candidate.type, candidate.value), [])
    return found


def _shown(candidates, chosen: set[str] | None) -> list[dict]:
    """Candidates with their checkbox state: at first, all but those on a warning list."""
    return [{"key": _candidate_key(c.type, c.value), "type": c.type, "defanged": c.defanged,
             "warninglists": c.warninglists,
             "checked": (not c.warninglists) if chosen is None
             else _candidate_key(c.type, c.value) in chosen} for c in candidates]
