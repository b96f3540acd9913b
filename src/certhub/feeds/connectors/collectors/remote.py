"""Remote intelligence sources: a TAXII 2.1 collection and a MISP feed served over HTTP(S).

TAXII: every page of ``<collection>/objects/`` (``added_after`` the last run, following
``next``) is written into one STIX bundle in the spool folder, for the stix2-bundle parser.
MISP feed: ``manifest.json`` and the event files it lists are fetched into the spool folder,
for the misp-feed parser. A MISP feed on disk is read in place.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.core.errors import InvalidInput

from ..params import Param
from .base import Collected, Collector, Input
from .http import FetchError, fetch

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
MAX_PAGES = 10_000


class TaxiiCollector(Collector):
    kind = "taxii"
    params = (
        Param("timeout", int, 60, help=gettext_lazy("Seconds to wait for the server.")),
        Param("headers", dict, {}, help=gettext_lazy("Extra request headers (authorisation).")),
        Param("page_size", int, 1000, help=gettext_lazy("Objects asked for per request.")),
        Param("verify_tls", bool, True, help=gettext_lazy("Check the server's certificate.")),
    )

    @classmethod
    def check_location(cls, location: str) -> None:
        if not location.lower().startswith(("http://", "https://")) or "/collections/" not in \
                location:
            raise InvalidInput(_("A TAXII source needs the collection's URL "
                                 "(https://…/collections/<id>/)."), field="location")

    def collect(self, feed, spool: Path, *, folder_input: bool) -> Collected:
        import requests

        base = self.location.rstrip("/") + "/objects/"
        headers = {"Accept": TAXII_MEDIA_TYPE, "User-Agent": "certhub-feeds",
                   **self.options["headers"]}
        params = {"limit": self.options["page_size"]}
        if feed.last_modified:  # the X-TAXII-Date-Added-Last of the previous run
            params["added_after"] = feed.last_modified
        target = spool / "bundle.json"
        spool.mkdir(parents=True, exist_ok=True)
        last_added = feed.last_modified
        count = 0
        with target.open("w", encoding="utf-8") as handle:
            handle.write('{"type": "bundle", "id": "bundle--00000000-0000-4000-8000-'
                         '000000000000", "objects": [\n')
            for _page in range(MAX_PAGES):
                try:
                    response = requests.get(base, headers=headers, params=params,
                                            timeout=self.options["timeout"],
                                            verify=self.options["verify_tls"])
                except requests.RequestException as exc:
                    raise FetchError(_("Cannot fetch %(url)s: %(reason)s")
                                     % {"url": base, "reason": exc}, field="location") from None
                if response.status_code != 200:
                    raise FetchError(_("%(url)s answered HTTP %(status)d.")
                                     % {"url": base, "status": response.status_code},
                                     field="location")
                try:
                    envelope = response.json()
                except ValueError:
                    raise FetchError(_("%(url)s did not answer with JSON.") % {"url": base},
                                     field="location") from None
                for stix_object in envelope.get("objects") or []:
                    handle.write(("," if count else "") + json.dumps(stix_object) + "\n")
                    count += 1
                last_added = response.headers.get("X-TAXII-Date-Added-Last", last_added)
                if not envelope.get("more") or not envelope.get("next"):
                    break
                params["next"] = envelope["next"]
            handle.write("]}\n")
        return Collected([Input.of(target, self.location)], not_modified=count == 0,
                         etag="", last_modified=last_added or "")


class MispFeedCollector(Collector):
    kind = "misp-feed"
    params = (
        Param("timeout", int, 60, help=gettext_lazy("Seconds to wait for the server.")),
        Param("headers", dict, {}, help=gettext_lazy("Extra request headers.")),
        Param("max_mb", int, 512, help=gettext_lazy("Refuse event files larger than this.")),
    )

    def collect(self, feed, spool: Path, *, folder_input: bool) -> Collected:
        if "://" not in self.location:
            folder = Path(self.location)
            if not (folder / "manifest.json").is_file():
                raise InvalidInput(_("%(path)s has no manifest.json.") % {"path": folder},
                                   field="location")
            return Collected([Input.of(folder, str(folder))])
        base = self.location.rstrip("/") + "/"
        folder = spool / "misp-feed"
        options = {"headers": {"User-Agent": "certhub-feeds", **self.options["headers"]},
                   "timeout": self.options["timeout"], "max_bytes": self.options["max_mb"] << 20}
        fetch(base + "manifest.json", folder / "manifest.json", **options)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except ValueError:
            raise FetchError(_("The feed's manifest.json is not JSON."), field="location") from None
        for uuid in manifest:
            if len(uuid) == 36 and all(c in "0123456789abcdefABCDEF-" for c in uuid):
                fetch(f"{base}{uuid}.json", folder / f"{uuid}.json", **options)
        return Collected([Input.of(folder, self.location)])
