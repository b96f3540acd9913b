"""Who is responsible for this IP / prefix / domain / URL / email / ASN / country?

Public interface (used by the API, the CLI, the web form and, later, feed routing):

    resolve(value: str) -> Resolution            raises InvalidInput for malformed input
    resolve_many(values: Iterable[str]) -> list[Resolution]   never raises per item
    invalidate()                                 forget the in-memory index (rebuilt on demand)
    route_addresses(values) -> list[Route | None]  the country, AS number and matches of many
                                                 addresses at once (feed routing); None for a
                                                 value that is not about an address

Most specific wins: a registered prefix (longest match) beats an ASN, which beats a domain
suffix (longest match), which beats the country (from offline IP-to-country data, or the ccTLD).
Only the winning tier's organisations are returned (all of them when several share it); the
country and the AS number are reported even when nobody is responsible.

- An address is matched against registered prefixes, then the AS announcing it (settings.ASN_DB;
  skipped, with a note, when unset), then its country (iptocc, or settings.COUNTRY_DB).
- A prefix is matched against registered prefixes that *contain* it (registered prefixes inside
  it are not responsible for all of it), then the AS announcing all of it, then the country of
  its first address.
- A domain, hostname, URL host or email domain is matched against registered domain suffixes
  (whole labels, longest wins), then the country its ccTLD stands for (.th → TH, .uk → GB).
  Names are never resolved through DNS: lookups are offline.
- An AS number is matched against registered ASNs, then the country the IP-to-ASN data
  registers it in. A country code is matched against registered countries.

Changes to the directory by any process are seen by the next call (one freshness query per
call); the index and the IP data are built lazily, once, and shared by all threads.
"""

from .index import invalidate
from .resolver import resolve, resolve_many
from .results import Match, Resolution
from .routes import Route, route_addresses

__all__ = ["Match", "Resolution", "Route", "invalidate", "resolve", "resolve_many",
           "route_addresses"]
