"""Writing findings in bulk: one statement per batch, never one per row.

The ORM's bulk_create builds a model instance per row, which costs more than the rest of the
pipeline together at 100,000 rows a second. Rows come as columns here (lists, ``Same`` values
or a polars frame), written with multi-row ``INSERT`` statements on SQLite and ``COPY ... FROM
STDIN`` on PostgreSQL, inside the batch's transaction. Times are naive UTC (the pipeline's
convention; Django's connections use UTC).
"""

from __future__ import annotations

import io
import json
import sqlite3
from itertools import repeat

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
SQLITE_CHECKPOINT_PAGES = 16384


def prepare_connection() -> None:
    """Per-connection tuning for a run. SQLite: a 64 MiB page cache instead of 2 MiB, so the
    indexes are updated in memory rather than page by page from the file (memory stays
    bounded by it); and the write-ahead log checkpointed every 64 MiB instead of every 4 MiB,
    so that a batch's commit does not copy the pages it wrote back into the database file at
    once (pages written again by the next batches are copied once)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")


def time_adapter():
    """How the writer wants times (naive UTC datetimes): text on SQLite (as Django stores
    them there), the datetime itself elsewhere. Callers convert once per value they build."""
    return str if connection.vendor == "sqlite" else same_time


def same_time(value):
    return value


class Same:
    """A column whose every row holds the same value (the feed, the run, the batch's time)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


# Columns whose text may hold a tab, newline, carriage return or backslash (escaped for COPY).
_FREE_TEXT = frozenset({"raw", "value", "extra", "warninglists"})
_NULL = "\\N"
_SEPARATOR = "\x00"  # never in PostgreSQL text: a value holding it cannot be stored as is


def insert_findings(columns: list) -> None:
    """Insert findings given as columns laid out as COLUMNS: lists of equal length (None for
    NULL) or ``Same`` values; times already passed through ``time_adapter()``."""
    lengths = {len(column) for column in columns if not isinstance(column, Same)}
    if not lengths or lengths == {0}:
        return
    table = Finding._meta.db_table
    if connection.vendor == "sqlite":
        _insert_sqlite(table, columns, lengths.pop())
        return
    names = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    if connection.vendor == "postgresql":
        payload = copy_text(columns).encode()
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {table} ({names}) FROM STDIN") as copy:
            copy.write(payload)
        return
    rows = zip(*(repeat(column.value) if isinstance(column, Same) else column
                 for column in columns), strict=False)  # Same columns repeat without end
    # Other backends: portable, slower.
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(COLUMNS))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                           list(rows))


def insert_frame(rows) -> None:
    """Insert findings given as a polars frame whose columns are COLUMNS, in order (times as
    text in the writer's convention). PostgreSQL reads the frame's CSV, written in Rust."""
    if not rows.height:
        return
    table = Finding._meta.db_table
    names = ", ".join(connection.ops.quote_name(name) for name in COLUMNS)
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        rows.write_csv(buffer, include_header=False)
        payload = buffer.getvalue()
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(payload)
        return
    insert_findings([column.to_list() for column in rows.iter_columns()])


def _insert_sqlite(table: str, columns: list, count: int) -> None:
    """Multi-row INSERT statements, each of as many rows as SQLite takes parameters for: the
    parameters of ~2,000 rows are bound in one call, then SQLite works without the GIL.
    executemany takes the GIL back after every row, and waits for it whenever the thread
    preparing the next batch holds it (measured 2-10x slower beside a busy thread). Columns
    the same in every row are written into the statement as literals, but for the batch's
    times: a statement's text must recur from batch to batch, or each batch compiles its own
    (the connection caches them by the hundred, megabytes each)."""
    literals = [_sqlite_literal(column.value)
                if isinstance(column, Same) and name not in _BATCH_TIMES else None
                for name, column in zip(COLUMNS, columns, strict=True)]
    bound = [column for column, literal in zip(columns, literals, strict=True)
             if literal is None]
    names = ", ".join(connection.ops.quote_name(name) for name, literal
                      in zip(COLUMNS, literals, strict=True) if literal is None)
    constants = [(connection.ops.quote_name(name), literal) for name, literal
                 in zip(COLUMNS, literals, strict=True) if literal is not None]
    if constants:
        names += ", " + ", ".join(name for name, _literal in constants)
    row = "(" + ", ".join(["?"] * len(bound) + [literal for _name, literal in constants]) + ")"
    width = len(bound)
    connection.ensure_connection()
    db = connection.connection
    per = max(1, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // max(width, 1))
    for start, size in _chunks(count, per):
        values: list = [None] * (size * width)
        for at, column in enumerate(bound):  # interleaved by slice assignment (C loops)
            values[at::width] = (column[start:start + size] if not isinstance(column, Same)
                                 else [column.value] * size)
        db.execute(f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 (names from the model)
                   + ", ".join([row] * size), values)


_BATCH_TIMES = frozenset({"created", "expires_at"})


def _chunks(count: int, per: int) -> list[tuple[int, int]]:
    """(start, size) of statements for ``count`` rows: ``per`` rows each, the rest in powers of
    two, so that a run uses a dozen distinct statements (the connection caches them)."""
    rest = count % per
    sizes = [per] * (count // per) + [1 << bit for bit in range(rest.bit_length(), -1, -1)
                                      if rest >> bit & 1]
    chunks, start = [], 0
    for size in sizes:
        chunks.append((start, size))
        start += size
    return chunks


def _sqlite_literal(value) -> str | None:
    """``value`` as an SQLite literal (NULL, an integer or a quoted text); None for other
    values (bound as parameters)."""
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    if type(value) is str and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


def copy_text(columns: list) -> str:
    """The rows in PostgreSQL's COPY text format, built a column at a time: a free-text column
    is escaped in one pass over the column joined (four C-level replaces), not a call per
    value, and rows are joined by C-level ``map``: no Python code runs per row."""
    texts = []
    for name, column in zip(COLUMNS, columns, strict=True):
        if isinstance(column, Same):
            texts.append(repeat(_text_column(name, [column.value])[0]))
        else:
            texts.append(_text_column(name, column))
    rows = "\n".join(map("\t".join, zip(*texts, strict=False)))  # Same columns never end
    return rows + "\n" if rows else rows


def _text_column(name: str, column: list) -> list[str]:
    if name in _FREE_TEXT:
        if None in column:
            values = _escape(["" if value is None else value for value in column])
            return [_NULL if given is None else value
                    for given, value in zip(column, values, strict=True)]
        return _escape(column)
    if None in column:
        return [_NULL if value is None else value if type(value) is str else str(value)
                for value in column]
    kinds = set(map(type, column))
    if kinds == {str}:
        return column
    return list(map(str, column))  # numbers, times: their text is what COPY reads


def _escape(values: list[str]) -> list[str]:
    joined = _SEPARATOR.join(values)
    if joined.count(_SEPARATOR) != len(values) - 1:  # a value holds NUL: the exact path
        return [_escape_one(value) for value in values]
    if not ("\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined):
        return values
    return _escape_controls(joined).split(_SEPARATOR)


def _escape_one(text: str) -> str:
    """COPY text escaping; NUL becomes U+FFFD (PostgreSQL text cannot hold it)."""
    return _escape_controls(text).replace("\x00", "\ufffd")


def _escape_controls(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))
