"""Who is responsible for this IP / prefix / domain / URL / email / ASN / country?

Public interface (used by the API, the CLI, the web form and, later, feed routing):

    resolve(value: str) -> Resolution            raises InvalidInput for malformed input
    resolve_many(values: Iterable[str]) -> list[Resolution]   never raises per item

Most specific wins: a registered prefix (longest match) beats an ASN, which beats a domain
suffix (longest match), which beats the country (from offline IP-to-country data, or the ccTLD).
"""
