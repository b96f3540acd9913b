"""Forms of the web UI: directory filters, the lookup box and the audit log filters."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from certhub.audit.models import Action
from certhub.directory.models import Membership, OrganisationKind

# A web page shows every result in a table; bigger batches belong to the API or the CLI.
MAX_LOOKUP_LINES = 1000
MAX_LOOKUP_LINES_ANONYMOUS = 100


def _with_any(choices, any_label):
    return [("", any_label), *choices]


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={
                            "type": "search", "autocomplete": "off",
                            "placeholder": _("name, short name, ASN, prefix, domain or country")}))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=_with_any(OrganisationKind.choices, _("all kinds")))
    country = forms.ChoiceField(label=_("Country"), required=False)
    membership = forms.ChoiceField(label=_("Membership"), required=False,
                                   choices=_with_any(Membership.choices, _("any membership")))

    def __init__(self, *args, country_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _with_any(list(country_choices), _("all countries"))

    def clean_q(self) -> str:
        # ASNs are stored as bare numbers: "AS4788" finds the organisation registering 4788.
        text = self.cleaned_data["q"].strip()
        return re.sub(r"^AS(\d+)$", r"\1", text, flags=re.IGNORECASE)


class LookupForm(forms.Form):
    values = forms.CharField(
        label=_("Values to look up"), max_length=MAX_LOOKUP_LINES * 300,
        help_text=_("One per line: IPv4/IPv6 address or prefix, domain, host name, URL, email "
                    "address, AS number (AS4788 or 4788) or country code."),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocapitalize": "off",
                                     "placeholder": "1.0.128.1\nexample.co.th\nAS4788"}),
    )

    def __init__(self, *args, max_lines: int = MAX_LOOKUP_LINES, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_lines = max_lines

    def clean_values(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["values"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError(_("Enter at least one value."))
        if len(lines) > self.max_lines:
            raise forms.ValidationError(ngettext(
                "At most %(limit)d value at a time here; use the API or the command line for "
                "bigger batches.",
                "At most %(limit)d values at a time here; use the API or the command line for "
                "bigger batches.", self.max_lines) % {"limit": self.max_lines})
        return lines


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=_with_any(Action.choices, _("all actions")))
    actor = forms.CharField(label=_("Who"), required=False, max_length=254,
                            widget=forms.TextInput(attrs={"type": "search",
                                                          "placeholder": _("email")}))
    object_type = forms.CharField(label=_("Record type"), required=False, max_length=100,
                                  widget=forms.TextInput(attrs={
                                      "type": "search", "placeholder": "directory.contact"}))
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
