"""Forms of the incident pages: list filters, the incident's actions, the public report form.

Forms only parse and say what is wrong with the input; the incidents services validate again
and decide (a form never replaces a service check).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certhub.feeds import classification
from certhub.incidents import sectors
from certhub.incidents.models import RequestKind, Severity, Status
from certhub.sharing.tlp import TLP

# The public form: what a page of text needs, not more (a bigger report is an email with files).
PUBLIC_TITLE_MAX = 200
PUBLIC_DESCRIPTION_MAX = 20_000
PUBLIC_NAME_MAX = 200
COMMENT_MAX = 20_000


def _with_any(choices, any_label):
    return [("", any_label), *choices]


class PageForm(forms.Form):
    """A form sharing a page with others: its own prefix in element ids (no duplicate ids)."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class IncidentFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={
                            "type": "search", "autocomplete": "off",
                            "placeholder": _("title, description or indicator")}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=_with_any(Status.choices, _("any status")))
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=_with_any(Severity.choices, _("any severity")))
    taxonomy = forms.ChoiceField(label=_("Classification"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    tlp = forms.ChoiceField(label=_("TLP"), required=False,
                            choices=_with_any([(t.value, t.label) for t in TLP], _("any label")))

    def __init__(self, *args, organisation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taxonomy"].choices = _with_any(classification.taxonomy_choices(),
                                                    _("any classification"))
        self.fields["organisation"].choices = _with_any(list(organisation_choices),
                                                        _("any organisation"))


class CommentForm(PageForm):
    id_prefix = "comment"
    text = forms.CharField(label=_("Comment"), max_length=COMMENT_MAX,
                           help_text=_("Markdown. Everyone who sees the incident sees it."),
                           widget=forms.Textarea(attrs={"rows": 4, "data-shortcut": "c",
                                                        "aria-keyshortcuts": "c"}))


class StatusForm(PageForm):
    id_prefix = "status"
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices,
                               widget=forms.Select(attrs={"data-shortcut": "s",
                                                          "aria-keyshortcuts": "s"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.TextInput())


class ClassifyForm(PageForm):
    """Severity, classification, affected countries and sectors."""

    id_prefix = "classify"
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    taxonomy = forms.ChoiceField(label=_("RSIT taxonomy"), required=False)
    type = forms.ChoiceField(label=_("RSIT type"), required=False)
    countries = forms.CharField(label=_("Affected countries"), required=False, max_length=500,
                                help_text=_("ISO codes separated by spaces or commas, e.g. TH MY"))
    sectors = forms.MultipleChoiceField(label=_("Affected sectors"), required=False,
                                        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taxonomy"].choices = _with_any(classification.taxonomy_choices(), "—")
        self.fields["type"].choices = _with_any(classification.type_choices(), "—")
        self.fields["sectors"].choices = [
            (s.code, f"{s.label} (CII)" if s.cii else s.label) for s in sectors.SECTORS]

    def clean_countries(self) -> list[str]:
        text = self.cleaned_data["countries"].replace(",", " ")
        return [code.strip().upper() for code in text.split() if code.strip()]


class AudienceForm(PageForm):
    id_prefix = "audience"
    tlp = forms.ChoiceField(label=_("TLP"), choices=[(t.value, t.label) for t in TLP])
    audience_orgs = forms.CharField(
        label=_("Organisations in the audience"), required=False, max_length=2000,
        help_text=_("Short names separated by spaces or commas, e.g. MyCERT SingCERT"))

    def clean_audience_orgs(self) -> list[str]:
        text = self.cleaned_data["audience_orgs"].replace(",", " ")
        return [name for name in text.split() if name]


class TaskForm(PageForm):
    id_prefix = "task"
    title = forms.CharField(label=_("Task"), max_length=300)
    assignee = forms.ChoiceField(label=_("Owner"), required=False)
    due = forms.DateTimeField(label=_("Due"), required=False,
                              widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                         format="%Y-%m-%dT%H:%M"),
                              help_text=_("In your time zone."))

    def __init__(self, *args, assignee_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _with_any(list(assignee_choices), _("nobody yet"))


class AttachmentForm(PageForm):
    id_prefix = "attachment"
    file = forms.FileField(label=_("File"))


class LookupValueForm(PageForm):
    """"Add address or domain": stored as an indicator, and the directory names who is
    responsible for it."""

    id_prefix = "lookup"
    value = forms.CharField(label=_("Address, domain, URL, email or AS number"), max_length=2048,
                            widget=forms.TextInput(attrs={"autocomplete": "off",
                                                          "spellcheck": "false",
                                                          "placeholder": "203.0.113.7",
                                                          "data-shortcut": "a",
                                                          "aria-keyshortcuts": "a"}))


class RequestForm(PageForm):
    id_prefix = "request"
    to_org = forms.ChoiceField(label=_("Recipient"))
    kind = forms.ChoiceField(label=_("What you ask"), choices=RequestKind.choices)
    text = forms.CharField(label=_("Request"), max_length=COMMENT_MAX,
                           widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, recipient_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_org"].choices = _with_any(list(recipient_choices), _("choose…"))


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason for declining"), max_length=2000,
                             widget=forms.TextInput())


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("What was done"), required=False, max_length=2000,
                           widget=forms.TextInput())


class AssignForm(forms.Form):
    organisation = forms.ChoiceField(label=_("Assign to"))

    def __init__(self, *args, organisation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = _with_any(list(organisation_choices),
                                                        _("choose…"))


class TimelinessFilterForm(forms.Form):
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organisation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = _with_any(list(organisation_choices),
                                                        _("every organisation"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class PublicReportForm(forms.Form):
    """Anyone may report an incident; it lands in the hub's triage queue."""

    title = forms.CharField(
        label=_("What happened, in one line"), max_length=PUBLIC_TITLE_MAX,
        error_messages={"max_length": _("Keep the summary to %(limit_value)d characters "
                                        "(it has %(show_value)d); put details below.")})
    description = forms.CharField(
        label=_("Details"), max_length=PUBLIC_DESCRIPTION_MAX,
        error_messages={"max_length": _("The details are too long: at most %(limit_value)d "
                                        "characters (it has %(show_value)d). Send long logs "
                                        "by email instead.")},
        widget=forms.Textarea(attrs={"rows": 8}))
    reporter_name = forms.CharField(label=_("Your name"), required=False,
                                    max_length=PUBLIC_NAME_MAX)
    reporter_email = forms.EmailField(
        label=_("Your email address"), required=False, max_length=254,
        help_text=_("Optional, so that we can ask you questions or tell you what we did."))
    country = forms.CharField(label=_("Country concerned"), required=False, max_length=60,
                              help_text=_("Two-letter code, e.g. TH"))
    # The challenge (certhub.incidents.challenge): token and proof of work are filled in by
    # the page; the question is for visitors without JavaScript.
    challenge_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=500)
    challenge_solution = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    challenge_answer = forms.CharField(label=_("Anti-robot question"), required=False,
                                       max_length=16,
                                       widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                                     "autocomplete": "off"}))
    # A honeypot: hidden from people, filled by naive bots.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].help_text = _(
            "When it started, what you saw, addresses, domains or links involved; at most "
            "%(n)d characters. Do not paste passwords or personal data you need not share."
        ) % {"n": PUBLIC_DESCRIPTION_MAX}

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("Say in one line what happened."))
        return title

    def clean_description(self) -> str:
        text = self.cleaned_data["description"]
        if "\x00" in text:
            raise forms.ValidationError(_("The details contain a character that is not text."))
        return text.strip()

    def clean_country(self) -> str:
        code = self.cleaned_data["country"].strip().upper()
        if code and not (len(code) == 2 and code.isalpha()):
            raise forms.ValidationError(_("Give the country as two letters, e.g. TH."))
        return code

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise forms.ValidationError(_("Leave this field empty."))
        return ""


class NewIncidentForm(ClassifyForm):
    """A member opens an incident of their organisation."""

    id_prefix = "incident"
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(label=_("Description"), required=False, max_length=50_000,
                                  help_text=_("Markdown."),
                                  widget=forms.Textarea(attrs={"rows": 8}))
    tlp = forms.ChoiceField(label=_("TLP"), choices=[(t.value, t.label) for t in TLP],
                            initial=TLP.AMBER.value,
                            help_text=_("Who may see it: the owner organisation and the "
                                        "audience; organisations you send requests to join."))
    indicators = forms.CharField(
        label=_("Addresses, domains, URLs, hashes"), required=False, max_length=200_000,
        help_text=_("One per line."),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}))

    field_order = ["title", "description", "severity", "tlp", "taxonomy", "type", "countries",
                   "sectors", "indicators"]

    def clean_indicators(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["indicators"].splitlines()
                if line.strip()]


class InvolvedForm(PageForm):
    id_prefix = "involved"
    organisation = forms.ChoiceField(label=_("Organisation"))

    def __init__(self, *args, organisation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = _with_any(list(organisation_choices), _("choose…"))


class LinkForm(PageForm):
    """Link an intel report, an observable or a feed finding the user may see, by number."""

    id_prefix = "link"
    what = forms.ChoiceField(label=_("Link"), choices=[("report", _("intel report")),
                                                       ("observable", _("intel observable")),
                                                       ("finding", _("feed finding"))])
    number = forms.IntegerField(label=_("Number"), min_value=1)
