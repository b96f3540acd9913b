"""MISP attribute types <-> observable types.

Composite MISP types ('domain|ip', 'filename|sha256') index one observable per part; parts with
no observable type (a port, a registry value) are None and kept only in the attribute's value.
"""

from __future__ import annotations

from ..normalise import ObservableType

T = ObservableType
IP = "ip"  # IPv4, IPv6 or a prefix: the value decides

PARTS: dict[str, tuple[str | None, ...]] = {
    "ip-src": (IP,), "ip-dst": (IP,), "ip-src|port": (IP, None), "ip-dst|port": (IP, None),
    "domain": (T.DOMAIN,), "hostname": (T.HOSTNAME,), "domain|ip": (T.DOMAIN, IP),
    "hostname|port": (T.HOSTNAME, None), "url": (T.URL,), "uri": (T.URL,),
    "email": (T.EMAIL,), "email-src": (T.EMAIL,), "email-dst": (T.EMAIL,),
    "email-reply-to": (T.EMAIL,), "target-email": (T.EMAIL,),
    "md5": (T.MD5,), "sha1": (T.SHA1,), "sha256": (T.SHA256,), "sha512": (T.SHA512,),
    "ssdeep": (T.SSDEEP,), "filename": (T.FILE_NAME,),
    "filename|md5": (T.FILE_NAME, T.MD5), "filename|sha1": (T.FILE_NAME, T.SHA1),
    "filename|sha256": (T.FILE_NAME, T.SHA256), "filename|sha512": (T.FILE_NAME, T.SHA512),
    "filename|ssdeep": (T.FILE_NAME, T.SSDEEP), "AS": (T.ASN,), "mutex": (T.MUTEX,),
    "regkey": (T.REGISTRY_KEY,), "regkey|value": (T.REGISTRY_KEY, None),
    "vulnerability": (T.CVE,), "mac-address": (T.MAC,),
}

# For observables that did not come from MISP: (type, category) of the attribute to export.
DEFAULT_ATTRIBUTE = {
    T.IPV4: ("ip-dst", "Network activity"), T.IPV6: ("ip-dst", "Network activity"),
    T.PREFIX: ("ip-dst", "Network activity"), T.DOMAIN: ("domain", "Network activity"),
    T.HOSTNAME: ("hostname", "Network activity"), T.URL: ("url", "Network activity"),
    T.EMAIL: ("email-src", "Payload delivery"), T.MD5: ("md5", "Payload delivery"),
    T.SHA1: ("sha1", "Payload delivery"), T.SHA256: ("sha256", "Payload delivery"),
    T.SHA512: ("sha512", "Payload delivery"), T.SSDEEP: ("ssdeep", "Payload delivery"),
    T.FILE_NAME: ("filename", "Payload delivery"), T.ASN: ("AS", "Network activity"),
    T.MUTEX: ("mutex", "Artifacts dropped"), T.REGISTRY_KEY: ("regkey", "Persistence mechanism"),
    T.CVE: ("vulnerability", "External analysis"), T.MAC: ("mac-address", "Network activity"),
}


def split(misp_type: str, value: str) -> list[tuple[str | None, str]]:
    """[(observable kind or None, part)] of an attribute value; [] if the type indexes none."""
    kinds = PARTS.get(misp_type)
    if kinds is None:
        return []
    parts = value.split("|", len(kinds) - 1) if len(kinds) > 1 else [value]
    if len(parts) != len(kinds):
        return []
    return list(zip(kinds, parts, strict=True))
