"""Reads of the TAXII client: the remote collections and runs a user may look at.

Hub administrators see every remote collection; other users see those whose reports their own
organisation owns. Nothing here is shared intelligence (the stored reports follow the sharing
rule like any other); a remote's address, schedule and run counts are its owner's business.
"""

from __future__ import annotations

from certhub.core.errors import NotFound
from certhub.intel.models import Report

from .models import PullRun, RemoteCollection


def remotes_for(user):
    remotes = RemoteCollection.objects.select_related("owner")
    if not user.is_authenticated or not user.is_active:
        return remotes.none()
    if user.is_hub_admin:
        return remotes
    return remotes.filter(owner_id=user.organisation_id)


def runs_for(user, *, remote: str = ""):
    runs = PullRun.objects.select_related("remote", "remote__owner").filter(
        remote__in=remotes_for(user))
    if remote:
        runs = runs.filter(remote__name=remote)
    return runs


def run_for(user, run_id: int) -> PullRun:
    run = runs_for(user).filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


def visible_reports(user, runs) -> dict[int, list[int]]:
    """Run id -> ids of the reports it created that ``user`` may see (the others are not
    mentioned: a report the reader may not see does not exist for them)."""
    links = list(PullRun.reports.through.objects.filter(
        pullrun__in=[run.pk for run in runs]).values_list("pullrun_id", "report_id"))
    visible = set(Report.objects.visible_to(user).filter(
        pk__in=[report for _run, report in links]).values_list("pk", flat=True))
    found: dict[int, list[int]] = {}
    for run, report in links:
        if report in visible:
            found.setdefault(run, []).append(report)
    return found
