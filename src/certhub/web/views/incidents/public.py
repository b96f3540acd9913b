"""The public report form: anyone, signed in or not, reports an incident to the hub.

Anonymous, rate-limited and protected by the incidents app's challenge (a proof of work that
static/web/incidents/challenge.js solves, or an arithmetic question for visitors without
JavaScript). The challenge is kept in the visitor's session until it is spent, so reloading the
page does not issue a new one (and the page does not change from one request to the next).
Malformed or oversized input is refused with a message at the field, and nothing is stored.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from certhub.core.errors import InvalidInput
from certhub.incidents import services

from . import forms

SESSION_KEY = "incidents_public_challenge"
REFRESH_AFTER = 3600  # seconds; the incidents app accepts a token for two hours


def _challenge(request, *, fresh: bool = False) -> dict:
    kept = request.session.get(SESSION_KEY)
    if fresh or not kept or time.time() - kept.get("issued", 0) > REFRESH_AFTER:
        new = services.new_challenge()
        kept = {"token": new.token, "bits": new.bits, "question": new.question,
                "issued": int(time.time())}
        request.session[SESSION_KEY] = kept
    return kept


def client_address(request) -> str:
    """The visitor's address: behind our own proxy the last X-Forwarded-For hop (the one our
    proxy added), never a value the client chose."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "")


def _render(request, form, *, status: int = 200, problem: str = ""):
    challenge = _challenge(request)
    return render(request, "web/incidents/report.html", {
        "form": form, "challenge": challenge, "problem": problem}, status=status)


@require_http_methods(["GET", "POST"])
def report(request):
    if request.method == "GET":
        return _render(request, forms.PublicReportForm())
    # A body past DATA_UPLOAD_MAX_MEMORY_SIZE never gets here: reading it (the CSRF check does
    # first) is refused with the 400 page. Below that, the fields' own limits speak.
    form = forms.PublicReportForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400, problem=_(
            "The report was not sent: correct the fields marked below."))
    clean = form.cleaned_data
    kept = request.session.get(SESSION_KEY) or {}
    token = clean["challenge_token"] or kept.get("token", "")
    try:
        services.submit_public_report(
            title=clean["title"], description=clean["description"], challenge_token=token,
            challenge_solution=clean["challenge_solution"],
            challenge_answer=clean["challenge_answer"], reporter_name=clean["reporter_name"],
            reporter_email=clean["reporter_email"],
            countries=[clean["country"]] if clean["country"] else [],
            client_address=client_address(request))
    except InvalidInput as error:
        status = 429 if error.code == "rate_limited" else 400
        field = {"countries": "country", "challenge": "challenge_answer"}.get(
            error.field, error.field)
        if error.field == "challenge":
            _challenge(request, fresh=True)
        form.add_error(field if field in form.fields else None, error.message)
        return _render(request, form, status=status, problem=_(
            "The report was not sent: correct the fields marked below.")
            if status == 400 else error.message)
    request.session.pop(SESSION_KEY, None)
    return redirect("web:incident_report_sent")


@require_GET
def report_sent(request):
    return render(request, "web/incidents/report_sent.html")
