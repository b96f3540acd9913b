"""URLhaus country/ASN feed lines (``"Dateadded","URL","URL_status","Threat","Host","IPaddress",
"ASnumber","Country"``) parsed and normalised as columns.

``frame`` accepts a batch only when every line is a comment, a blank line or a plain row: eight
quoted fields without quotes, backslashes or control characters inside, a printable-ASCII URL
with a scheme and a host that is not defanged, an empty or dotted-quad address, an empty or
decimal AS number, an empty, ISO date or date-and-time stamp that is a real time. For those
the event path (``URLhausCsv.items``, then ``Normaliser``) is a fixed sequence of string
operations, done here on whole columns with the same result. Anything else: None, and the
parser reads the batch itself.
"""

from __future__ import annotations

import polars as pl

from ..connectors.events import RAW_MAX

_NAMES = ("added", "url", "status", "threat", "host", "ip", "asn", "country")
ROW = "^" + ",".join(f'"(?P<{name}>[^"\\\\\\x00-\\x1f]*)"' for name in _NAMES) + "$"
# The markers detect.refang undoes (its _DEFANGED), in the Rust regex dialect.
_DEFANGED = (r"(?i)^hxxp|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[://\]|\[@\]|\[at\]|"
             r"\(at\)")
_URL = r"^(?P<scheme>.*?)://(?P<host>[^/]+)(?P<rest>.*)$"
# Scheme (up to the first "://") and host (up to the next "/") hold no upper-case letter.
_LOWER_SCHEME_AND_HOST = r"^[^A-Z]*?://[^/A-Z]*(?:/|$)"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
# Python's fromisoformat refuses a 60th second, which the Rust parser takes as a leap second.
_STAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_MAX_URL = 2048  # Normaliser's _MAX_VALUE


def frame(lines: pl.Series, first_line: int, after: int, *, online_only: bool
          ) -> pl.DataFrame | None:
    """The batch's events as columns line, raw, value, ip, asn, country, observed (text, naive
    UTC as Django writes it), extra (JSON text); lines at or before ``after`` left out. None
    when a line is not plainly well-formed."""
    rows = (pl.DataFrame({"text": lines})
            .with_row_index("line", offset=first_line)
            .with_columns(pl.col("line").cast(pl.Int64), pl.col("text").str.strip_suffix("\r"))
            .filter(pl.col("line") > after)
            .filter(~pl.col("text").str.starts_with("#"), pl.col("text").str.strip_chars() != ""))
    if not rows.height:
        return rows.select("line")
    rows = rows.with_columns(rows["text"].str.extract_groups(ROW).struct.unnest())
    if rows["added"].null_count():  # a line that is not a plain row (all fields are null)
        return None
    url, added, ip, asn = pl.col("url"), pl.col("added"), pl.col("ip"), pl.col("asn")
    stamp = (pl.when(added.str.len_bytes() == 10).then(added + " 00:00:00").otherwise(added))
    rows = rows.with_columns(stamp=pl.when(added == "").then(None).otherwise(stamp))
    parsed = pl.col("stamp").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    checks = rows.select(
        url=(url.str.contains(r"^[\x21-\x7e]+$") & (url.str.len_bytes() <= _MAX_URL)
             & ~url.str.contains(_DEFANGED) & url.str.contains(_URL)).all(),
        ip=((ip == "") | ip.str.contains(_IPV4)).all(),
        asn=((asn == "") | asn.str.contains(r"^[0-9]{1,10}$")).all(),
        country=(pl.col("country").str.len_chars() <= 2).all(),
        stamp=(pl.col("stamp").is_null()
               | (pl.col("stamp").str.contains(_STAMP)
                  & parsed.is_not_null() & (parsed.dt.year() >= 1))).all(),
    )
    if not all(checks.row(0)):
        return None
    if online_only:
        rows = rows.filter(pl.col("status") == "online")
    host_note = (pl.when((pl.col("host") != "") & (pl.col("host") != ip))
                 .then(pl.concat_str(pl.lit(',"host":"'), pl.col("host"), pl.lit('"')))
                 .otherwise(pl.lit("")))
    events = rows.select(
        "line",
        raw=pl.col("text").str.slice(0, RAW_MAX),
        value=url,
        ip=pl.when(ip == "").then(None).otherwise(ip),
        asn=pl.when(asn == "").then(None).otherwise(asn).cast(pl.Int64),
        country="country",
        observed="stamp",
        extra=pl.concat_str(pl.lit('{"url_status":"'), pl.col("status"), pl.lit('","threat":"'),
                            pl.col("threat"), pl.lit('"'), host_note, pl.lit("}")),
    )
    return _lower_scheme_and_host(events)


def _lower_scheme_and_host(events: pl.DataFrame) -> pl.DataFrame:
    """Normaliser's URL form: scheme and host in lower case. Most URLs have them so already;
    the others are rewritten in Python (the same partitions as the Normaliser's)."""
    values = events["value"]
    upper = (~values.str.contains(_LOWER_SCHEME_AND_HOST)).arg_true()
    if not len(upper):
        return events
    fixed = []
    for value in values.gather(upper).to_list():
        scheme, _sep, rest = value.partition("://")
        host, slash, path = rest.partition("/")
        fixed.append(f"{scheme.lower()}://{host.lower()}{slash}{path}")
    return events.with_columns(values.scatter(upper, fixed))
