"""Fixtures of the lookup tests: a clean index per test and IP-to-ASN data in the real layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from certhub.directory import lookup

# Rows in the iptoasn.com layout (range_start, range_end, AS_number, country_code,
# AS_description); AS 0 is "not routed". A test sample, not a statement about who routes what.
IPTOASN_ROWS = [
    ("1.0.0.0", "1.0.0.255", 13335, "US", "CLOUDFLARENET"),
    ("1.0.1.0", "1.0.3.255", 0, "None", "Not routed"),
    ("1.0.128.0", "1.0.191.255", 23969, "TH", "TOT-NET TOT Public Company Limited"),
    ("1.0.192.0", "1.0.255.255", 23969, "TH", "TOT-NET TOT Public Company Limited"),
    ("8.8.8.0", "8.8.8.255", 15169, "US", "GOOGLE"),
    ("175.136.0.0", "175.143.255.255", 4788, "MY", "TMNET-AS-AP TM Net"),
    ("203.116.0.0", "203.116.127.255", 7473, "SG", "SINGTEL-AS-AP Singapore Telecommunications"),
    ("203.116.128.0", "203.116.255.255", 3758, "SG", "SINGNET SingNet"),
    ("2001:c38::", "2001:c38:ffff:ffff:ffff:ffff:ffff:ffff", 9931, "TH", "CAT-AP CAT Telecom"),
    ("2001:4860::", "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", 15169, "US", "GOOGLE"),
]


def write_iptoasn(path: Path, rows=IPTOASN_ROWS) -> Path:
    text = "".join("\t".join(str(field) for field in row) + "\n" for row in rows)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _fresh_index(settings):
    """Each test starts without a cached index and without IP-to-ASN data."""
    settings.ASN_DB = ""
    settings.COUNTRY_DB = ""
    lookup.invalidate()
    yield
    lookup.invalidate()


@pytest.fixture
def asn_db(settings, tmp_path):
    """settings.ASN_DB pointing at a small ip2asn-combined.tsv."""
    settings.ASN_DB = str(write_iptoasn(tmp_path / "ip2asn-combined.tsv"))
    return Path(settings.ASN_DB)
