"""Most specific wins: registered prefix > ASN > domain suffix > country (address or ccTLD).

A batch is resolved in three passes: recognise every value (detect.parse), look up the country
of every address in one call (iptocc is vectorised), then walk the index tier by tier. Match
objects, "why" texts and country names are built once per batch and shared between results.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput
from certhub.core.gc import collector_paused
from certhub.directory import normalise

from . import detect, ipdata
from .detect import T_ASN, T_COUNTRY, T_DOMAIN, T_IP, Parsed
from .index import Index, Registered, current
from .results import ASN, CCTLD, COUNTRY, DOMAIN, PREFIX, Match, Resolution

# Codes CLDR lists that are not ISO 3166-1 countries (EU, UN, ...): no ccTLD stands for them.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN",
                            "XA", "XB", "XK", "ZZ"})


def resolve(value: str) -> Resolution:
    """Who is responsible for ``value``. Raises InvalidInput when it is not a lookup value."""
    parsed = detect.parse(value)
    return _Batch().run([value], [parsed], {})[0]


def resolve_many(values: Iterable[str]) -> list[Resolution]:
    """One Resolution per value, in order; a malformed value gets ``error`` instead of raising."""
    values = list(values)
    parsed: list[Parsed | None] = []
    errors: dict[int, str] = {}
    parse = detect.parse
    with _no_gc_pauses(len(values)):
        for position, value in enumerate(values):
            try:
                parsed.append(parse(value))
            except InvalidInput as exc:
                parsed.append(None)
                errors[position] = exc.message
        results = _Batch().run(values, parsed, errors)
        del parsed  # freed now, not scanned by the collector when it resumes
    return results


def _no_gc_pauses(size: int):
    """No collector pauses for a batch of 1,000 values or more (a third of the time for
    100,000 values, measured)."""
    return collector_paused(size >= 1000)


def cctld_country(domain: str) -> str | None:
    """The country a name's top-level domain stands for: example.co.th → TH, example.uk → GB."""
    tld = domain.rpartition(".")[2]
    if len(tld) != 2:
        return None
    code = "GB" if tld == "uk" else tld.upper()
    return code if code in normalise.country_codes() and code not in _NOT_COUNTRIES else None


class _Batch:
    """Per-call state: the index (one freshness query), the IP data, and shared texts."""

    def __init__(self):
        self.index: Index = current()
        self.language = get_language() or "en"
        try:
            self.asn_source = ipdata.asn_source()
            self.asn_note = None if self.asn_source else _(
                "No IP-to-ASN data is configured (CERTHUB_ASN_DB), so the autonomous-system "
                "rule was not applied to addresses.")
        except ipdata.Unavailable:
            self.asn_source = None
            self.asn_note = _("The configured IP-to-ASN data cannot be read, so the "
                              "autonomous-system rule was not applied to addresses.")
        try:
            self.country_source = ipdata.country_source()
            self.country_note = None
        except ipdata.Unavailable:
            self.country_source = ipdata.CountrySource()
            self.country_note = _("The configured country database cannot be read; the "
                                  "built-in IP-to-country data was used instead.")
        self._matches: dict[tuple, tuple[Match, ...]] = {}
        self._names: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._ip_notes_cache: dict[tuple, tuple[str, ...]] = {}

    def run(self, values: list[str], parsed: list[Parsed | None],
            errors: dict[int, str]) -> list[Resolution]:
        ips = [item for item in parsed if item is not None and item.target == T_IP]
        # Both IP data sources answer for the whole batch at once.
        countries = iter(self.country_source.countries([item.address for item in ips]))
        asn_hits = iter(self.asn_source.lookup_many(
            [(item.version, item.start, item.end, item.address) for item in ips])
            if self.asn_source is not None else [None] * len(ips))
        results = []
        append = results.append
        by_target = {T_DOMAIN: self._domain, T_ASN: self._asn, T_COUNTRY: self._country}
        ip = self._ip
        for position, (value, item) in enumerate(zip(values, parsed, strict=True)):
            if item is None:
                append(Resolution(input=value, error=errors[position]))
            elif item.target == T_IP:  # the hot path: most values of a feed are addresses
                append(ip(value, item, next(countries), next(asn_hits)))
            else:
                append(by_target[item.target](value, item))
        return results

    # --- the four targets -----------------------------------------------------------------------
    def _ip(self, value: str, item: Parsed, country: str | None,
            hit: ipdata.AsnHit | None) -> Resolution:
        registered = self.index.prefixes[item.version].containing(item.start, item.end)
        asn = hit.asn if hit is not None else None
        matches = self.ip_matches(registered, asn, country)
        notes = self._ip_notes_cache.get((item.kind, country is None))
        if notes is None or item.host_bits_ignored:
            notes = self._ip_notes(item, country)
        return Resolution(value, item.kind, item.normalised, country,
                          self._names.get(country) or self._country_name(country), asn,
                          hit.name if hit is not None else "", matches, notes)

    def _domain(self, value: str, item: Parsed) -> Resolution:
        index = self.index
        country = cctld_country(item.domain)
        suffix = index.domain_suffix(item.domain)
        if suffix is not None:
            matches = self._match(suffix[1], DOMAIN, suffix[0], "domain")
        elif country is not None and country in index.countries:
            matches = self._match(index.countries[country], CCTLD, country, "domain")
        else:
            matches = ()
        notes = () if matches else (self._text("no-dns"),)
        return Resolution(input=value, kind=item.kind, normalised=item.normalised,
                          country=country, country_name=self._country_name(country),
                          matches=matches, notes=notes)

    def _asn(self, value: str, item: Parsed) -> Resolution:
        index = self.index
        source = self.asn_source
        country = source.country(item.asn) if source is not None else None
        if item.asn in index.asns:
            matches = self._match(index.asns[item.asn], ASN, str(item.asn), "asn")
        elif country is not None and country in index.countries:
            matches = self._match(index.countries[country], COUNTRY, country, "asn")
        else:
            matches = ()
        return Resolution(input=value, kind=item.kind, normalised=item.normalised,
                          country=country, country_name=self._country_name(country),
                          asn=item.asn, asn_name=source.name(item.asn) if source else "",
                          matches=matches)

    def _country(self, value: str, item: Parsed) -> Resolution:
        orgs = self.index.countries.get(item.country)
        matches = self._match(orgs, COUNTRY, item.country, "country") if orgs else ()
        return Resolution(input=value, kind=item.kind, normalised=item.normalised,
                          country=item.country, country_name=self._country_name(item.country),
                          matches=matches)

    # --- shared pieces --------------------------------------------------------------------------
    def ip_matches(self, registered: Registered | None, asn: int | None, country: str | None
                   ) -> tuple[Match, ...]:
        """The winning tier for an address or prefix (also routes.route_addresses' rule)."""
        index = self.index
        if registered is not None:
            return self._match(registered.orgs, PREFIX, registered.text, "ip")
        if asn is not None and asn in index.asns:
            return self._match(index.asns[asn], ASN, str(asn), "ip")
        if country is not None and country in index.countries:
            return self._match(index.countries[country], COUNTRY, country, "ip")
        return ()

    def _match(self, orgs: tuple[int, ...], rule: str, matched: str, seen_as: str
               ) -> tuple[Match, ...]:
        key = (orgs, rule, matched, seen_as)
        found = self._matches.get(key)
        if found is None:
            why = self._why(rule, matched, seen_as)
            info = self.index.orgs
            found = tuple(Match(pk, info[pk].short_name, info[pk].slug, info[pk].name,
                                info[pk].kind, rule, matched, why) for pk in orgs)
            self._matches[key] = found
        return found

    def _why(self, rule: str, matched: str, seen_as: str) -> str:
        if rule == PREFIX:
            return _("%(prefix)s is the most specific registered IP range containing it.") % {
                "prefix": matched}
        if rule == ASN:
            if seen_as == "asn":
                return _("AS%(asn)s is a registered autonomous system.") % {"asn": matched}
            return _("It is announced by AS%(asn)s, a registered autonomous system.") % {
                "asn": matched}
        if rule == DOMAIN:
            return _("%(suffix)s is the longest registered domain suffix of the name.") % {
                "suffix": "." + matched}
        country = f"{self._country_name(matched)} ({matched})"
        if rule == CCTLD:
            return _("Its top-level domain stands for %(country)s, a registered country.") % {
                "country": country}
        if seen_as == "ip":
            return _("The IP-to-country data places it in %(country)s, a registered "
                     "country.") % {"country": country}
        if seen_as == "asn":
            return _("The autonomous system is registered in %(country)s, a registered "
                     "country.") % {"country": country}
        return _("%(country)s is a registered country.") % {"country": country}

    def _ip_notes(self, item: Parsed, country: str | None) -> tuple[str, ...]:
        key = (item.kind, country is None)
        notes = self._ip_notes_cache.get(key)
        if notes is None:
            notes = tuple(note for note in (
                self.asn_note, self.country_note,
                self._text("prefix-country") if item.kind == detect.PREFIX else None,
                self._text("no-country") if country is None else None) if note)
            self._ip_notes_cache[key] = notes
        if item.host_bits_ignored:
            notes = (_("Host bits were ignored: the prefix is %(prefix)s.")
                     % {"prefix": item.normalised}, *notes)
        return notes

    def _text(self, key: str) -> str:
        text = self._texts.get(key)
        if text is None:
            text = {
                "no-dns": _("Names are not resolved to addresses: a name is routed by its "
                            "registered domain suffix, else by its top-level domain."),
                "prefix-country": _("The country shown is that of the prefix's first "
                                    "address."),
                "no-country": _("The IP-to-country data knows no country for this address "
                                "(a private, reserved or unallocated address)."),
            }[key]
            self._texts[key] = text
        return text

    def _country_name(self, code: str | None) -> str | None:
        if code is None:
            return None
        name = self._names.get(code)
        if name is None:
            name = normalise.country_name(code, self.language)
            self._names[code] = name
        return name
