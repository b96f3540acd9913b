"""HTTP(S) sources with conditional GET (ETag / Last-Modified), streamed to the spool folder."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.core.errors import InvalidInput

from ..params import Param
from .base import Collected, Collector, Input

CHUNK = 1 << 16


class FetchError(InvalidInput):
    code = "fetch_failed"


class HttpCollector(Collector):
    kind = "http"
    params = (
        Param("timeout", int, 60, help=gettext_lazy("Seconds to wait for the server.")),
        Param("headers", dict, {}, help=gettext_lazy("Extra request headers (e.g. an API key).")),
        Param("max_mb", int, 2048, help=gettext_lazy("Refuse downloads larger than this.")),
        Param("verify_tls", bool, True, help=gettext_lazy("Check the server's certificate.")),
    )

    @classmethod
    def check_location(cls, location: str) -> None:
        if not location.lower().startswith(("http://", "https://")):
            raise InvalidInput(_("An HTTP source needs an http:// or https:// URL."),
                               field="location")

    def collect(self, feed, spool: Path, *, folder_input: bool) -> Collected:
        headers = {"User-Agent": "certhub-feeds", **self.options["headers"]}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        target = spool / "download"
        response = fetch(self.location, target, headers=headers, timeout=self.options["timeout"],
                         max_bytes=self.options["max_mb"] << 20,
                         verify=self.options["verify_tls"])
        if response is None:
            return Collected([], not_modified=True, etag=feed.etag,
                             last_modified=feed.last_modified)
        etag, last_modified = response
        return Collected([Input.of(target, self.location)], etag=etag,
                         last_modified=last_modified)


def fetch(url: str, target: Path, *, headers: dict, timeout: int, max_bytes: int,
          verify: bool = True) -> tuple[str, str] | None:
    """Download ``url`` into ``target``; None on 304 Not Modified; FetchError with the reason."""
    import requests

    try:
        with requests.get(url, headers=headers, timeout=timeout, stream=True,
                          verify=verify) as response:
            if response.status_code == 304:
                return None
            if response.status_code != 200:
                raise FetchError(_("%(url)s answered HTTP %(status)d.")
                                 % {"url": url, "status": response.status_code},
                                 field="location")
            size = 0
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as handle:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(_("%(url)s is larger than the limit of %(mb)d MB.")
                                         % {"url": url, "mb": max_bytes >> 20},
                                         field="location")
                    handle.write(chunk)
            return (response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
    except requests.RequestException as exc:
        raise FetchError(_("Cannot fetch %(url)s: %(reason)s") % {"url": url, "reason": exc},
                         field="location") from None
