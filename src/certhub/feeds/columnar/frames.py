"""The experts and the store for a batch given as a frame (see the package docstring).

The same experts as the event path, called on columns: the deduplication keys
(``Deduplicator.keys_of``), warning-list flags (``WarninglistFlagger.flags_of``) and routes
(``Router.routes_of``, each distinct lookup value once), then the batch's rows written by
``storage.insert_frame``. Every row of a clean batch has the parser's classification defaults
and is a URL (the only value type ``urlhaus.frame`` makes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..connectors.events import URL
from ..storage import COLUMNS, json_or_none


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


def prepare(pipeline, events: pl.DataFrame) -> PreparedFrame:
    """Key, flag and route the events of ``urlhaus.frame`` (no database access)."""
    values = events["value"].to_list()
    ips = events["ip"].to_list()
    count = len(values)
    kinds = [URL] * count
    keys = pipeline.deduplicator.keys_of(URL, values)
    flags = pipeline.flagger.flags_of(values, kinds, ips)
    flag_texts = (None if flags is None else
                  [json_or_none(list(names)) if names else None for names in flags])
    lookups = [ip or value for ip, value in zip(ips, values, strict=True)]
    routes = pipeline.router.routes_of(lookups, [ip is not None for ip in ips])
    countries: list[str | None] = [None] * count
    asns: list[int | None] = [None] * count
    organisations: list[int | None] = [None] * count
    rules = [""] * count
    routed = np.zeros(count, dtype=bool)
    several = []
    for at, route in enumerate(routes):
        if route is None:
            continue
        country, asn, matches = route
        countries[at] = country or None
        asns[at] = asn
        if matches:
            routed[at] = True
            organisations[at] = matches[0].organisation_id
            rules[at] = matches[0].rule
            if len(matches) > 1:
                several.append(at)
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
    return PreparedFrame(rows, keys, routed, count, int(events["line"][-1]))


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


def stored_rows(pipeline, prepared: PreparedFrame, keep: np.ndarray,
                now: dt.datetime, as_time) -> pl.DataFrame:
    """The rows of the kept events, laid out as ``storage.COLUMNS``."""
    rows = prepared.rows
    if not keep.all():
        rows = rows.filter(pl.Series(keep).gather(rows["event"]))
    feed = pipeline.feed
    taxonomy, kind = pipeline.classifier.default
    constants = {"feed_id": pl.lit(feed.pk, pl.Int64), "run_id": pl.lit(pipeline.run.pk, pl.Int64),
                 "created": pl.lit(str(as_time(now))),
                 "expires_at": pl.lit(str(as_time(now + pipeline.expiry))),
                 "observed_at": pl.col("observed"), "taxonomy": pl.lit(taxonomy),
                 "type": pl.lit(kind), "value_type": pl.lit(URL),
                 "port": pl.lit(None, pl.Int64), "tlp": pl.lit(feed.tlp)}
    return rows.select([constants.get(name, pl.col(name)).alias(name) for name in COLUMNS])


def per_organisation(rows: pl.DataFrame) -> dict[str, int]:
    counts = (rows.filter(pl.col("organisation_id").is_not_null())
              .group_by("organisation_id").len())
    return {str(organisation): count for organisation, count in counts.iter_rows()}
