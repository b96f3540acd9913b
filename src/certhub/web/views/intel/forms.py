"""Forms of the intel pages: report filters, report create/edit, imports, sightings, lookup.

Forms only parse what a person typed; the intel services decide (and say why they refuse).
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from certhub.intel.models import ReportSource
from certhub.intel.normalise import ObservableType
from certhub.sharing.tlp import TLP

MAX_LOOKUP_LINES = 1000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # bigger files go through the API or the CLI
_SPLIT = re.compile(r"[\s,;]+")


def _with_any(choices, any_label):
    return [("", any_label), *choices]


def split_names(text: str) -> list[str]:
    return [part for part in _SPLIT.split(text or "") if part]


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def set_error(form: forms.Form, exc) -> None:
    """A service's refusal (InvalidInput & co.) shown on the field it names, else on top."""
    name = (exc.field or "").split(".")[0].split("[")[0]
    aliases = {"observables": "observables", "value": "value", "labels": "labels",
               "stix_id": None, "body": "text", "event": "text", "csv": "text"}
    name = aliases.get(name, name)
    form.add_error(name if name in form.fields else None, exc.message)


class ReportFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                      "placeholder": _("title or description")}))
    value = forms.CharField(label=_("Holding the value"), required=False, max_length=2048,
                            widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off",
                                                          "placeholder": "192.0.2.1"}))
    tlp = forms.ChoiceField(label="TLP", required=False,
                            choices=_with_any(TLP.choices, _("any TLP")))
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=300,
                          widget=forms.TextInput(attrs={"type": "search",
                                                        "placeholder": "PAP:GREEN"}))
    type = forms.ChoiceField(label=_("Holding a"), required=False,
                             choices=_with_any(ObservableType.choices, _("any indicator type")))
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=_with_any(ReportSource.choices, _("any source")))
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _with_any(list(owner_choices), _("any organisation"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class AudienceFields(forms.Form):
    """TLP and audience, as the sharing rule reads them (docs/sharing.md)."""

    tlp = forms.ChoiceField(label="TLP", choices=TLP.choices, initial=TLP.AMBER)
    audience_orgs = forms.CharField(
        label=_("Share with organisations"), required=False, max_length=2000,
        help_text=_("Short names, separated by spaces or commas (for TLP:GREEN, AMBER and "
                    "AMBER+STRICT). Empty GREEN goes to the whole community; empty AMBER stays "
                    "in your organisation."),
        widget=forms.TextInput(attrs={"placeholder": "MyCERT SingCERT"}))
    audience_groups = forms.CharField(
        label=_("Share with sharing groups"), required=False, max_length=2000,
        help_text=_("Sharing group slugs, separated by spaces or commas."))
    audience_users = forms.CharField(
        label=_("Named recipients (TLP:RED)"), required=False, max_length=4000,
        help_text=_("Email addresses, separated by spaces or commas."))

    def audience_names(self) -> dict:
        return {"groups": split_names(self.cleaned_data.get("audience_groups", "")),
                "orgs": split_names(self.cleaned_data.get("audience_orgs", "")),
                "users": split_names(self.cleaned_data.get("audience_users", ""))}


def _labels_field():
    return forms.CharField(
        label=_("Tags"), required=False, max_length=30_000,
        help_text=_("One a line: MISP taxonomy tags (PAP:GREEN, rsit:fraud=\"phishing\"), galaxy "
                    "clusters (misp-galaxy:threat-actor=\"APT32\") or free words. Use the tag "
                    "finder below."),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off",
                                     "class": "tag-list", "data-tag-list": "1"}))


class ReportForm(AudienceFields):
    title = forms.CharField(label=_("Title"), max_length=500)
    description = forms.CharField(label=_("Description"), required=False, max_length=200_000,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    labels = _labels_field()
    confidence = forms.IntegerField(label=_("Confidence (0-100)"), required=False, min_value=0,
                                    max_value=100)
    observables = forms.CharField(
        label=_("Indicators"), required=False, max_length=2_000_000,
        help_text=_("One a line; defanged values (hxxp://, 1.2.3[.]4) are refanged, the type is "
                    "recognised."),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false",
                                     "autocapitalize": "off"}))

    field_order = ["title", "description", "tlp", "audience_orgs", "audience_groups",
                   "audience_users", "labels", "confidence", "observables"]

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["observables"]


class AddObservablesForm(forms.Form):
    values = forms.CharField(
        label=_("Add indicators"), max_length=2_000_000,
        help_text=_("One a line; the type is recognised."),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"}))


class _Upload(AudienceFields):
    file = forms.FileField(label=_("File"), required=False)
    text = forms.CharField(label=_("…or paste it"), required=False, strip=False,
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false",
                                                        "autocapitalize": "off"}))

    def content(self) -> bytes:
        upload = self.cleaned_data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    _("The file is larger than %(n)d MB; use the API or the command line.")
                    % {"n": MAX_UPLOAD_BYTES // (1024 * 1024)})
            return upload.read()
        text = self.cleaned_data.get("text") or ""
        if not text.strip():
            raise forms.ValidationError(_("Choose a file or paste the content."))
        return text.encode("utf-8")


class StixImportForm(_Upload):
    title = forms.CharField(label=_("Title"), required=False, max_length=500,
                            help_text=_("Empty: the bundle's report name, or its file name."))
    allow_custom = forms.BooleanField(label=_("Accept custom objects and properties"),
                                      required=False)
    field_order = ["file", "text", "title", "tlp", "audience_orgs", "audience_groups",
                   "audience_users", "allow_custom"]


class MispImportForm(_Upload):
    field_order = ["file", "text", "tlp", "audience_orgs", "audience_groups", "audience_users"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tlp"].required = False
        self.fields["tlp"].choices = [("", _("from the event's tlp tag (else TLP:AMBER)")),
                                      *TLP.choices]
        self.fields["tlp"].initial = ""
        self.fields["tlp"].help_text = _("A TLP chosen here can only make an event stricter.")


class CsvImportForm(_Upload):
    title = forms.CharField(label=_("Title"), max_length=500)
    description = forms.CharField(label=_("Description"), required=False, max_length=200_000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    labels = _labels_field()
    delimiter = forms.ChoiceField(label=_("Delimiter"), choices=[
        (",", _("comma")), (";", _("semicolon")), ("\t", _("tab")), ("|", _("vertical bar"))])
    has_header = forms.BooleanField(label=_("The first line names the columns"), required=False,
                                    initial=True)
    field_order = ["file", "text", "title", "description", "tlp", "audience_orgs",
                   "audience_groups", "audience_users", "labels", "delimiter", "has_header"]


class CsvMappingForm(forms.Form):
    """Which column holds what; choices are the file's columns."""

    value = forms.ChoiceField(label=_("Value"))
    type = forms.ChoiceField(label=_("Type"), required=False)
    comment = forms.ChoiceField(label=_("Comment"), required=False)
    first_seen = forms.ChoiceField(label=_("First seen"), required=False)
    last_seen = forms.ChoiceField(label=_("Last seen"), required=False)
    to_ids = forms.ChoiceField(label=_("For detection (yes/no)"), required=False)
    default_type = forms.ChoiceField(
        label=_("Type when no column says"), required=False,
        choices=_with_any(ObservableType.choices, _("recognise each value")))

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("value", "type", "comment", "first_seen", "last_seen", "to_ids"):
            none = [] if name == "value" else [("", _("none"))]
            self.fields[name].choices = [*none, *columns]

    def mapping(self) -> dict:
        return {name: self.cleaned_data[name] for name in
                ("value", "type", "comment", "first_seen", "last_seen", "to_ids")
                if self.cleaned_data.get(name)}


class TextImportForm(AudienceFields):
    text = forms.CharField(label=_("Text"), max_length=2_000_000, strip=False,
                           help_text=_("An email, a blog post, a report: indicators are found "
                                       "in it, and you choose which to keep."),
                           widget=forms.Textarea(attrs={"rows": 12}))


class TextConfirmForm(AudienceFields):
    title = forms.CharField(label=_("Title"), max_length=500)
    description = forms.CharField(label=_("Description"), required=False, max_length=2_000_000,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    labels = _labels_field()
    extra = forms.CharField(label=_("More indicators"), required=False, max_length=200_000,
                            help_text=_("One a line, if the text missed some."),
                            widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}))
    field_order = ["title", "description", "tlp", "audience_orgs", "audience_groups",
                   "audience_users", "labels", "extra"]


class SightingForm(AudienceFields):
    value = forms.CharField(widget=forms.HiddenInput, max_length=2048)
    type = forms.CharField(widget=forms.HiddenInput, required=False, max_length=30)
    count = forms.IntegerField(label=_("Times seen"), min_value=1, initial=1)
    first_seen = forms.DateTimeField(label=_("First seen"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    last_seen = forms.DateTimeField(label=_("Last seen"), required=False,
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    country = forms.CharField(label=_("Country"), required=False, max_length=60,
                              widget=forms.TextInput(attrs={"placeholder": "TH"}))
    sector = forms.CharField(label=_("Sector"), required=False, max_length=100)
    source = forms.CharField(label=_("Where"), required=False, max_length=200,
                             help_text=_("Sensor, feed or system that saw it."))
    field_order = ["value", "type", "count", "first_seen", "last_seen", "country", "sector",
                   "source", "tlp", "audience_orgs", "audience_groups", "audience_users"]


class IntelLookupForm(forms.Form):
    values = forms.CharField(
        label=_("Values to look up"), max_length=MAX_LOOKUP_LINES * 2100,
        error_messages={"required": _("Enter at least one value.")},
        help_text=_("One a line: addresses, domains, URLs, hashes, email addresses…; defanged "
                    "values are understood."),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocapitalize": "off",
                                     "placeholder": "hxxp://evil[.]example/x\n192.0.2[.]1"}))

    def clean_values(self) -> list[str]:
        lines = split_lines(self.cleaned_data["values"])
        if not lines:
            raise forms.ValidationError(_("Enter at least one value."))
        if len(lines) > MAX_LOOKUP_LINES:
            raise forms.ValidationError(ngettext(
                "At most %(limit)d value at a time here; use the API for bigger batches.",
                "At most %(limit)d values at a time here; use the API for bigger batches.",
                MAX_LOOKUP_LINES) % {"limit": MAX_LOOKUP_LINES})
        return lines
