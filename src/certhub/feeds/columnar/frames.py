"""The experts and the store for a batch given as a frame (see the package docstring).

The same experts as the event path, called on columns: the deduplication keys
(``Deduplicator.keys_of``), warning-list flags (``WarninglistFlagger.flags_of``) and routes
(``Router.routes_of``, each distinct lookup value once), then the batch's rows written by
``storage.insert_frame`` (PostgreSQL: the frame as CSV) or ``storage.insert_findings`` (SQLite:
the columns as lists). Every row of a clean batch has the parser's classification defaults and
is a URL (the only value type ``urlhaus.frame`` makes).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_not

import numpy as np
import polars as pl
from django.db import connection

from ..connectors.events import URL
from ..storage import COLUMNS, Same, insert_findings, insert_frame, json_or_none, time_adapter

# The frame's columns that become columns of the findings table (under another name for one).
_SOURCE = {"observed_at": "observed"}
_PER_ROW = ("line", "raw", "observed", "value", "ip", "asn", "country", "extra", "warninglists",
            "dedupe_key", "organisation_id", "rule")
_NUMBERS = frozenset({"feed_id", "run_id", "port"})


@dataclass
class PreparedFrame:
    """A batch ready to commit: one row per finding to store (an event routed to several
    organisations has one row each; ``event`` says which event a row is of), the events'
    deduplication keys and whether each is routed, the lines read and the last position."""

    rows: pl.DataFrame
    keys: np.ndarray
    routed: np.ndarray
    read: int
    position: int
    # The rows' own columns as Python lists, made here for a database written row by row
    # (SQLite), so that the writer thread only binds them.
    lists: dict[str, list] | None = None


def prepare(pipeline, events: pl.DataFrame) -> PreparedFrame:
    """Key, flag and route the events of ``urlhaus.frame`` (no database access)."""
    values = events["value"].to_list()
    ips = events["ip"].to_list()
    count = len(values)
    keys = pipeline.deduplicator.keys_of(URL, values)
    flag_texts = _flags(pipeline.flagger, events, values, ips)
    lookups = [ip or value for ip, value in zip(ips, values, strict=True)]
    # Each distinct lookup value, whether it is an address (the event's own address is one).
    addresses = dict(zip(lookups, map(is_not, ips, repeat(None)), strict=True))
    routes = pipeline.router.routes_of(lookups, addresses)
    countries = [route[0] or None if route else None for route in routes]
    asns = [route[1] if route else None for route in routes]
    found = [route[2] if route else () for route in routes]
    routed = np.fromiter(map(bool, found), dtype=bool, count=count)
    first = [matches[0] if matches else None for matches in found]
    organisations = [match.organisation_id if match else None for match in first]
    rules = [match.rule if match else "" for match in first]
    several = [at for at in np.flatnonzero(routed).tolist() if len(found[at]) > 1]
    rows = events.with_columns(
        pl.Series("event", np.arange(count, dtype=np.int64)),
        pl.Series("dedupe_key", keys, dtype=pl.Int64),
        warninglists=(pl.lit(None, pl.String) if flag_texts is None
                      else pl.Series(flag_texts, dtype=pl.String)),
        country=pl.coalesce(pl.Series(countries, dtype=pl.String), pl.col("country")),
        asn=pl.coalesce(pl.Series(asns, dtype=pl.Int64), pl.col("asn")),
    )
    if several:
        rows, organisations, rules = _fan_out(rows, routes, organisations, rules, several)
    rows = rows.with_columns(pl.Series("organisation_id", organisations, dtype=pl.Int64),
                             pl.Series("rule", rules, dtype=pl.String))
    prepared = PreparedFrame(rows, keys, routed, count, int(events["line"][-1]))
    if connection.vendor != "postgresql":
        if several:
            prepared.lists = {name: rows[name].to_list() for name in _PER_ROW}
        else:  # one row per event: the lists made above serve as they are
            prepared.lists = {
                **{name: rows[name].to_list() for name in ("line", "raw", "observed", "asn",
                                                           "country", "extra")},
                "value": values, "ip": ips, "dedupe_key": keys.tolist(),
                "warninglists": [None] * count if flag_texts is None else flag_texts,
                "organisation_id": organisations, "rule": rules}
    return prepared


def _flags(flagger, events: pl.DataFrame, values: list[str], ips: list[str | None]
           ) -> list[str | None] | None:
    """Warning-list flags of the batch's URLs as JSON texts (None: none flagged). The lower-case
    URLs and their hosts are computed on the columns (as ``warninglists._url_host``)."""
    if not flagger.available:
        return None
    lower = pl.col("value").str.to_lowercase()
    host = (lower.str.splitn("://", 2).struct.field("field_1")
            .str.splitn("/", 2).struct.field("field_0").str.replace(r"^.*@", ""))
    octets = pl.col("ip").str.split_exact(".", 3)  # dotted quads (urlhaus.frame checked)
    number = sum(octets.struct.field(f"field_{at}").cast(pl.Int64) * (1 << 8 * (3 - at))
                 for at in range(4))
    columns = events.select(lower=lower, host=host, number=number.fill_null(-1)).select(
        "lower", "number", host=pl.when(pl.col("host").str.count_matches(":", literal=True) == 1)
        .then(pl.col("host").str.replace(r":[^:]*$", ""))
        .otherwise(pl.col("host").str.strip_chars("[]")))
    flags = flagger.flags_of(values, [URL] * len(values), ips,
                             texts=columns["lower"].to_list(), hosts=columns["host"].to_list(),
                             numbers=columns["number"].to_numpy())
    if flags is None:
        return None
    return [json_or_none(list(names)) if names else None for names in flags]


def _fan_out(rows: pl.DataFrame, routes: list, organisations: list, rules: list,
             several: list[int]) -> tuple[pl.DataFrame, list, list]:
    """One row per responsible organisation for the events routed to several, in order."""
    extra = {at: routes[at][2] for at in several}
    order, orgs, names = [], [], []
    for at, (organisation, rule) in enumerate(zip(organisations, rules, strict=True)):
        matches = extra.get(at)
        if matches is None:
            order.append(at)
            orgs.append(organisation)
            names.append(rule)
            continue
        for match in matches:
            order.append(at)
            orgs.append(match.organisation_id)
            names.append(match.rule)
    return rows[order], orgs, names


def store(pipeline, prepared: PreparedFrame, keep: np.ndarray, now: dt.datetime
          ) -> dict[str, int]:
    """Insert the rows of the kept events (``keep``: per event); returns rows per
    organisation id. In the batch's transaction."""
    rows = prepared.rows
    kept_rows = keep[rows["event"].to_numpy()]  # per row (an event may have several)
    as_time = time_adapter()
    feed = pipeline.feed
    taxonomy, kind = pipeline.classifier.default
    constants = {"feed_id": feed.pk, "run_id": pipeline.run.pk, "created": as_time(now),
                 "expires_at": as_time(now + pipeline.expiry), "taxonomy": taxonomy,
                 "type": kind, "value_type": URL, "port": None, "tlp": feed.tlp}
    if prepared.lists is None:  # PostgreSQL: the frame as CSV
        if not kept_rows.all():
            rows = rows.filter(pl.Series(kept_rows))
        literals = {name: pl.lit(value, pl.Int64) if name in _NUMBERS
                    else pl.lit(str(value), pl.String) for name, value in constants.items()}
        insert_frame(rows.select([literals[name].alias(name) if name in literals
                                  else pl.col(_SOURCE.get(name, name)).alias(name)
                                  for name in COLUMNS]))
        organisations = rows["organisation_id"].drop_nulls().to_list()
    else:
        lists = prepared.lists
        if not kept_rows.all():
            mask = kept_rows.tolist()
            lists = {name: list(compress(column, mask)) for name, column in lists.items()}
        insert_findings([Same(constants[name]) if name in constants
                         else lists[_SOURCE.get(name, name)] for name in COLUMNS])
        organisations = [org for org in lists["organisation_id"] if org is not None]
    return {str(organisation): count for organisation, count in Counter(organisations).items()}
