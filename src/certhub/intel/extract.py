"""Indicators found in free text (an email, a blog post), for the analyst to review before
anything is saved.

Extraction is done by ``ioc-finder`` (PyPI, maintained, pure Python on pyparsing): it refangs
the usual defanging itself (via ``ioc-fanger``: ``hxxp``, ``[.]``, ``(dot)``, ``[@]``...),
validates top-level domains and finds hashes, addresses, URLs, CVE ids and more. It was chosen
over ``iocsearcher``, which pulls in PDF, HTML and language-detection stacks that a paste box
does not need. Every value it finds then goes through certhub's own normalisation, so what the
analyst saves compares equal to what the rest of certhub stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

from .normalise import ObservableType, defang, normalise_typed

T = ObservableType
MAX_TEXT = 2_000_000  # characters; a long report, not a data dump
_FINDER_KINDS = {
    "urls": T.URL, "ipv4s": T.IPV4, "ipv6s": T.IPV6, "ipv4_cidrs": T.PREFIX,
    "domains": T.DOMAIN, "email_addresses": T.EMAIL, "md5s": T.MD5, "sha1s": T.SHA1,
    "sha256s": T.SHA256, "sha512s": T.SHA512, "ssdeeps": T.SSDEEP, "asns": T.ASN,
    "cves": T.CVE, "registry_key_paths": T.REGISTRY_KEY, "mac_addresses": T.MAC,
}


@dataclass
class Candidate:
    """One value found in the text; ``defanged`` is how the UI shows it."""

    type: str
    value: str
    defanged: str
    warninglists: list[str] = field(default_factory=list)


def extract(text: str) -> list[Candidate]:
    """Distinct indicators in ``text``, in a stable order (by kind, then value)."""
    from ioc_finder import find_iocs

    if len(text) > MAX_TEXT:
        raise InvalidInput(_("The text is longer than %(n)d characters.") % {"n": MAX_TEXT},
                           field="text")
    found = find_iocs(text, included_ioc_types=list(_FINDER_KINDS))
    result: dict[tuple[str, str], Candidate] = {}
    for key, kind in _FINDER_KINDS.items():
        for raw in found.get(key) or []:
            try:
                actual, value = normalise_typed(kind, str(raw))
            except InvalidInput:
                continue
            result.setdefault((actual, value), Candidate(actual, value, defang(value, actual)))
    candidates = sorted(result.values(), key=lambda c: (T.values.index(c.type), c.value))
    from . import warninglists

    hits = warninglists.check_many((c.type, c.value) for c in candidates)
    for candidate in candidates:
        candidate.warninglists = hits.get((candidate.type, candidate.value), [])
    return candidates
