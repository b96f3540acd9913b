"""TAXII pages: how to connect MISP, OpenCTI or a script to the hub's TAXII 2.1 server (with
this site's own URLs and the collections the reader may use), and the pulls from partners'
TAXII servers (certhub.taxii.client) that the reader's organisation owns."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from certhub.taxii import collections
from certhub.taxii.client import queries as client_queries
from certhub.taxii.models import ApiRoot

PAGE_SIZE = 50


@login_required
@require_GET
def connect(request):
    discovery = request.build_absolute_uri(reverse("taxii:discovery"))
    roots = []
    for root in ApiRoot.objects.order_by("-default", "slug"):
        url = request.build_absolute_uri(reverse("taxii:api_root", args=[root.slug]))
        found = collections.collections_for(request.user, root)
        roots.append({"root": root, "url": url, "collections": [
            {"view": view, "url": f"{url}collections/{view.id}/"} for view in found]})
    example_root = roots[0]["url"] if roots else discovery + "<api-root>/"
    example_collection = next((c["view"].id for r in roots for c in r["collections"]),
                              "<collection-id>")
    writable = next((c["url"] for r in roots for c in r["collections"] if c["view"].can_write),
                    "")
    return render(request, "web/taxii/connect.html", {
        "example_write_url": writable,
        "discovery": discovery, "roots": roots, "example_root": example_root,
        "example_collection": example_collection,
        "example_collection_url": f"{example_root}collections/{example_collection}/",
        "tokens_url": request.build_absolute_uri(reverse("accounts:tokens")),
        "runs_url": reverse("web:taxii-runs"),
    })


@login_required
@require_GET
def pull_runs(request):
    remotes = list(client_queries.remotes_for(request.user))
    chosen = request.GET.get("remote", "")
    runs = client_queries.runs_for(request.user, remote=chosen)
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    reports = client_queries.visible_reports(request.user, page.object_list)
    for run in page.object_list:
        run.visible_reports = reports.get(run.pk, [])
    return render(request, "web/taxii/runs.html", {"remotes": remotes, "chosen": chosen,
                                                   "page": page})
