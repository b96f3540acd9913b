"""Walk every URL pattern and every OpenAPI operation with ids and slugs of the suite's records.

Nothing here lists endpoints by hand: routes come from ``django.urls.get_resolver()`` and the
operations from the API's OpenAPI document, so what is added later is walked without edits.

A route's parameters are filled one at a time (the others keep their first value) from:

- ``int``: every fixture record's id, and an id that exists nowhere;
- ``uuid``: every UUID found in a fixture record's fields, and one that exists nowhere;
- ``slug``: the owner's slug (and ``PARAM_HINTS``);
- ``str``/``path``: hints, the owner's slug, all of the above.

For each request the walker remembers which fixture records the URL names, so a check can ask
"what would this answer be if those records did not exist?".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver

from .conftest import MARKER_PREFIX, NONEXISTENT_ID, PARAM_HINTS, Fixture, LeakWorld

PARAM_RE = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
OPENAPI_PARAM_RE = re.compile(r"\{(?P<name>[^}]+)\}")
NONEXISTENT_UUID = "00000000-0000-4000-8000-000000000000"
UNSAFE = ("post", "put", "patch", "delete")
SEARCH_QUERY = (("q", MARKER_PREFIX), ("search", MARKER_PREFIX))

# URL prefixes the URLconf walk leaves out, and why. Everything else is walked.
SKIPPED_PREFIXES = {
    "admin/": "Django's admin is open to hub administrators only (is_staff); "
              "test_admin_turns_members_away checks members and anonymous visitors are sent "
              "to the login page without any content",
    "i18n/": "Django's language switch: sets a cookie and redirects, reads no records",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str                        # path with "{name}" placeholders, leading "/"
    params: tuple[tuple[str, str], ...]  # (name, kind: int/uuid/slug/str/path)
    query: tuple[tuple[str, str], ...] = ()
    source: str = "urlconf"


@dataclass(frozen=True)
class Request:
    endpoint: Endpoint
    url: str
    query: tuple[tuple[str, str], ...]
    names: frozenset[Fixture]  # fixture records whose id/uuid the URL carries
    stand_in_url: str          # the same URL naming records that exist nowhere instead

    def stand_in(self) -> Request:
        return Request(self.endpoint, self.stand_in_url, self.query, frozenset(),
                       self.stand_in_url)

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.endpoint.method.upper()} {self.url}{'?' + query if query else ''}"


# --- Enumerating -----------------------------------------------------------------------------

def _walk_resolver(resolver, prefix: str = "") -> Iterator[tuple[str, object]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _walk_resolver(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _shape(template: str) -> str:
    return OPENAPI_PARAM_RE.sub("{}", template)


def urlconf_endpoints(openapi: list[Endpoint]) -> tuple[list[Endpoint], list[tuple[str, str]]]:
    """GET endpoints of the URLconf, and the routes skipped with the reason."""
    covered = {_shape(e.template) for e in openapi}
    endpoints, skipped, seen = [], [], set()
    for route, _ in _walk_resolver(get_resolver()):
        reason = next((why for prefix, why in SKIPPED_PREFIXES.items()
                       if route.startswith(prefix)), None)
        if reason is None and (route.startswith("^") or "(?P" in route):
            reason = "a regular-expression route; give it path() converters to have it walked"
        if reason:
            skipped.append((route, reason))
            continue
        params = tuple((m["name"], m["conv"] or "str") for m in PARAM_RE.finditer(route))
        template = "/" + PARAM_RE.sub(lambda m: "{" + m["name"] + "}", route)
        if _shape(template) in covered:
            continue  # an API operation: walked from the OpenAPI document with every method
        if template not in seen:
            seen.add(template)
            endpoints.append(Endpoint("get", template, params))
            if not params:  # list pages: also search for the markers, as a user could
                endpoints.append(Endpoint("get", template, params, SEARCH_QUERY))
    return endpoints, skipped


def openapi_endpoints(client) -> list[Endpoint]:
    cache.clear()
    document = json.loads(client.get("/api/v1/openapi.json").content)
    endpoints = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", *UNSAFE):
                continue
            params, query = [], []
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kind = ("int" if schema.get("type") == "integer"
                        else "uuid" if schema.get("format") == "uuid"
                        else "slug" if parameter["name"] == "slug" else "str")
                if parameter["in"] == "path":
                    params.append((parameter["name"], kind))
                elif parameter["in"] == "query":
                    if parameter.get("required"):
                        default = "1" if kind == "int" else PARAM_HINTS.get(
                            parameter["name"], ["LEAKMARK"])[0]
                        query.append((parameter["name"], default))
                    elif parameter["name"] in PARAM_HINTS:
                        query.append((parameter["name"], PARAM_HINTS[parameter["name"]][0]))
            endpoints.append(Endpoint(method, path, tuple(params), tuple(query), "openapi"))
    return endpoints


# --- Filling parameters ----------------------------------------------------------------------

Candidate = tuple[str, "Fixture | None", str]  # (value, record it names, stand-in if absent)


def _candidates(kind: str, name: str, leak: LeakWorld) -> list[Candidate]:
    missing_id, missing_uuid = str(NONEXISTENT_ID), NONEXISTENT_UUID
    ids = [(str(f.pk), f, missing_id) for f in leak.fixtures] + [(missing_id, None, missing_id)]
    uuids = ([(u, f, missing_uuid) for f in leak.fixtures for u in f.uuids]
             + [(missing_uuid, None, missing_uuid)])
    hints = [(value, None, value) for value in PARAM_HINTS.get(name, [])]
    slug = [(leak.world.thai.slug, None, leak.world.thai.slug)]
    if kind == "int":
        return ids
    if kind == "uuid":
        return uuids
    if kind == "slug":
        return hints + slug
    return hints + slug + ids + uuids


def requests_for(endpoint: Endpoint, leak: LeakWorld) -> Iterator[Request]:
    """One request per candidate value of each parameter, the others at their first value."""
    choices = [_candidates(kind, name, leak) for name, kind in endpoint.params]
    base = [options[0] for options in choices]
    variants = [tuple(base)]
    for position, options in enumerate(choices):
        for option in options[1:]:
            variant = list(base)
            variant[position] = option
            variants.append(tuple(variant))
    for variant in variants:
        url = stand_in = endpoint.template
        for (name, _), (value, _, absent) in zip(endpoint.params, variant, strict=True):
            url = url.replace("{" + name + "}", value)
            stand_in = stand_in.replace("{" + name + "}", absent)
        names = frozenset(f for _, f, _ in variant if f is not None)
        yield Request(endpoint, url, endpoint.query, names, stand_in)


# --- Requesting ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def fetch(client, request: Request) -> Answer:
    cache.clear()  # the per-user rate limit would otherwise turn the walk into 429s
    method = request.endpoint.method
    query = dict(request.query)
    if method == "get":
        response = client.get(request.url, query)
    else:
        url = request.url
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        response = getattr(client, method)(url, data="{}", content_type="application/json")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Answer(response.status_code, body.decode("utf-8", errors="replace"))


_VOLATILE = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'), 'name="csrfmiddlewaretoken"'),
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b\d\d:\d\d(:\d\d)?\b"), "<hh:mm>"),
]


def normalised(answer: Answer) -> tuple[int, str]:
    """The answer without what changes from one request to the next (tokens, nonces, times)."""
    body = answer.body
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    return answer.status, body
