"""Writing findings in bulk: one statement per batch, never one per row.

The ORM's bulk_create builds a model instance per row, which costs more than the rest of the
pipeline together at 100,000 rows a second. Rows are plain tuples here, written with
``executemany`` on SQLite and ``COPY ... FROM STDIN`` on PostgreSQL, inside the batch's
transaction. Times are naive UTC (the pipeline's convention; Django's connections use UTC).
"""

from __future__ import annotations

import json

from django.db import connection

from .models import Finding

COLUMNS = ("feed_id", "run_id", "line", "raw", "created", "observed_at", "expires_at",
           "taxonomy", "type", "value_type", "value", "ip", "port", "asn", "country", "extra",
           "warninglists", "tlp", "dedupe_key", "organisation_id", "rule")

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


_string = json.encoder.encode_basestring  # what _dumps writes for a str (ensure_ascii=False)


def json_or_none(value) -> str | None:
    """JSON text of ``value`` (None when empty). The common case, a flat dict of strings
    (a row's details), is written directly: the same text as ``_dumps``, several times faster."""
    if not value:
        return None
    if type(value) is dict:
        try:
            return "{" + ",".join([_string(key) + ":" + _string(item)
                                   for key, item in value.items()]) + "}"
        except TypeError:  # a value that is not a string
            pass
    return _dumps(value)


SQLITE_CACHE_KIB = 65536


def prepare_connection() -> None:
    """Per-connection tuning for a run. SQLite: a 64 MiB page cache instead of 2 MiB, so the
    deduplication index (random 64-bit keys) is updated in memory rather than page by page
    from the file; memory stays bounded by it."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


def time_adapter():
    """How the writer wants times (naive UTC datetimes): text on SQLite (as Django stores
    them there), the datetime itself elsewhere. Callers convert once per value they build."""
    return str if connection.vendor == "sqlite" else _same


def _same(value):
    return value


def insert_findings(rows: list[tuple]) -> None:
    """Insert rows laid out as COLUMNS, times already passed through ``time_adapter()``."""
    if not rows:
        return
    table = Finding._meta.db_table
    columns = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        return
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        marks = ", ".join("?" * len(COLUMNS))
        connection.connection.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608
        return
    # Other backends: portable, slower.
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                           rows)
