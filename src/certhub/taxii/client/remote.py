"""Reading a remote TAXII 2.1 collection with the OASIS ``taxii2-client`` library.

``pages()`` yields one ``Page`` per Get Objects response, following ``more``/``next``, with the
``X-TAXII-Date-Added-Last`` header the server sent (the resume point once the page is stored).
Every failure becomes ``RemoteError`` with a reason fit for a run's record: it names the URL
and the HTTP status, never the credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import requests
from django.utils.translation import gettext as _

from .models import AuthKind

USER_AGENT = "certhub-taxii-client"


class RemoteError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Page:
    objects: list[dict]
    date_added_last: str


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` (taxii2-client's own TokenAuth says ``Token``)."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request

    def __repr__(self) -> str:  # never the token, in a traceback or a log line
        return "BearerAuth(***)"


def _credentials(remote) -> dict:
    if remote.auth == AuthKind.BASIC:
        return {"user": remote.username, "password": remote.secret}
    if remote.auth == AuthKind.BEARER:
        return {"auth": BearerAuth(remote.secret)}
    return {}


def _reason(exc: Exception, url: str) -> str:
    from taxii2client.exceptions import AccessError, TAXIIServiceException

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status in (401, 403):
            return _("%(url)s refused the credentials (HTTP %(status)d).") % {
                "url": url, "status": status}
        if status == 404:
            return _("%(url)s does not exist (HTTP 404): check the API root and the "
                     "collection id.") % {"url": url}
        return _("%(url)s answered HTTP %(status)d.") % {"url": url, "status": status}
    if isinstance(exc, requests.Timeout):
        return _("%(url)s did not answer in time.") % {"url": url}
    if isinstance(exc, requests.ConnectionError):
        return _("Cannot reach %(url)s: the connection failed.") % {"url": url}
    if isinstance(exc, AccessError):
        return _("%(url)s: the collection cannot be read with these credentials.") % {
            "url": url}
    if isinstance(exc, (TAXIIServiceException, ValueError)):
        return _("%(url)s did not answer as a TAXII 2.1 server: %(reason)s") % {
            "url": url, "reason": str(exc)[:300]}
    return _("%(url)s: %(reason)s") % {"url": url, "reason": type(exc).__name__}


def pages(remote, *, added_after: str = "") -> Iterator[Page]:
    """Every page of objects added after ``added_after`` (all objects if empty)."""
    from taxii2client.exceptions import TAXIIServiceException
    from taxii2client.v21 import Collection, as_pages

    url = remote.collection_url
    last_seen: dict[str, str] = {}

    def remember(response, *args, **kwargs):
        last = (response.headers.get("X-TAXII-Date-Added-Last")
                or response.headers.get("X-TAXII-Date-Added-First") or "")
        last_seen["value"] = last
        return response

    try:
        collection = Collection(url, verify=remote.verify_tls, **_credentials(remote))
        session = collection._conn.session  # the library's requests session: add a hook
        session.headers["User-Agent"] = USER_AGENT
        session.hooks["response"].append(remember)
        original = session.request

        def with_timeout(method, target, **kwargs):
            kwargs.setdefault("timeout", remote.timeout)
            return original(method, target, **kwargs)

        session.request = with_timeout
        filters = {"added_after": added_after} if added_after else {}
        with collection:
            for envelope in as_pages(collection.get_objects, per_request=remote.page_size,
                                     **filters):
                objects = envelope.get("objects") or []
                if not isinstance(objects, list):
                    raise RemoteError(_("%(url)s sent an envelope without a list of "
                                        "objects.") % {"url": url})
                yield Page(objects, last_seen.pop("value", ""))
    except RemoteError:
        raise
    except (requests.RequestException, TAXIIServiceException, ValueError) as exc:
        raise RemoteError(_reason(exc, url)) from None
