"""The parser contract, and the helpers parsers share (streaming CSV with line numbers, times).

A parser turns one input (a file, or a folder for MISP feeds) into a stream of ``Event`` and
``Bad`` items, each carrying its *position*: the physical line number for text formats, the
record number for JSON and MISP. Positions only grow; a run resumed at position P skips every
item at or before P, so parsers are restartable without keeping any state of their own.
Parsers stream: memory does not grow with the input.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from socket import AF_INET, AF_INET6, inet_pton
from typing import ClassVar, TextIO

from django.utils.translation import gettext as _

from ..events import RAW_MAX, Bad, Event
from ..params import Param, validate

Item = Event | Bad


class Parser:
    """Subclasses declare ``name``, ``label``, ``params`` and implement ``items``."""

    name: ClassVar[str]
    label: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    # "file": a single file; "folder": a directory (MISP feed: manifest.json + event files).
    input_kind: ClassVar[str] = "file"
    # RSIT (taxonomy, type) the format implies, used when a feed does not say.
    classification: ClassVar[tuple[str, str] | None] = None

    def __init__(self, **given):
        self.options = self.check(given)

    @classmethod
    def check(cls, given: dict | None) -> dict:
        """The static configuration check: typed parameters or InvalidInput."""
        return validate(cls.params, given, owner=_("Parser %(name)s") % {"name": cls.name})

    def items(self, path: Path, start: int = 0) -> Iterator[Item]:
        raise NotImplementedError

    def open_text(self, path: Path) -> TextIO:
        # utf-8-sig: some feeds start with a byte-order mark; undecodable bytes become U+FFFD
        # so one bad byte spoils one line (reported), not the run.
        return path.open(encoding="utf-8-sig", errors="replace", newline="")


def clip(text: str) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= RAW_MAX else text[:RAW_MAX]


class CsvLines:
    """Rows of a CSV file with the physical line number and raw text of each.

    Skips comment lines, blank lines, the first ``skip`` lines and (when resuming) every line
    at or before ``start``; ``header=True`` reads the first remaining row as the header even
    when it is at or before ``start``.
    """

    def __init__(self, handle: TextIO, *, delimiter: str = ",", quotechar: str = '"',
                 comment: str = "#", skip: int = 0, start: int = 0, header: bool = False):
        self.handle = handle
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.comment = comment
        self.skip = skip
        self.start = start
        self.want_header = header
        self.header: list[str] | None = None
        self.line = 0
        self.raw = ""

    def _lines(self) -> Iterator[str]:
        comment, skip, start = self.comment, self.skip, self.start
        need_header = self.want_header
        number = 0
        for line in self.handle:
            number += 1
            if number <= skip or (comment and line.startswith(comment)) or not line.strip():
                continue
            if number <= start and not need_header:
                continue
            need_header = False
            self.line = number
            self.raw = line
            yield line

    def __iter__(self) -> Iterator[tuple[int, str, list[str]]]:
        reader = csv.reader(self._lines(), delimiter=self.delimiter, quotechar=self.quotechar,
                            strict=False)
        if self.want_header:
            try:
                self.header = [name.strip() for name in next(reader)]
            except StopIteration:
                return
            if self.line <= self.start:
                pass  # the header itself is never an item
        while True:  # the reader goes on after a csv.Error: report that line, keep reading
            try:
                for row in reader:
                    yield self.line, self.raw, row
                return
            except csv.Error as exc:
                yield self.line, self.raw, exc  # type: ignore[misc]


def bad(line: int, raw: str, reason: str) -> Bad:
    return Bad(line, reason, clip(raw))


# --- values --------------------------------------------------------------------------------------
def valid_ip(text: str) -> str | None:
    """The address in canonical form (IPv4 as given, IPv6 compressed), None if not one."""
    try:
        inet_pton(AF_INET, text)
        return text
    except OSError:
        pass
    if ":" in text:
        try:
            import ipaddress

            return str(ipaddress.IPv6Address(text))
        except ValueError:
            return None
    return None


def is_ipv4(text: str) -> bool:
    try:
        inet_pton(AF_INET, text)
    except OSError:
        return False
    return True


def is_ipv6(text: str) -> bool:
    try:
        inet_pton(AF_INET6, text)
    except OSError:
        return False
    return True


def port_or_none(text: str | int | None) -> int | None:
    """A TCP/UDP port (0-65535); None when empty; ValueError when not a port."""
    if text is None or text == "":
        return None
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(text)
    return port


def asn_or_none(text: str | int | None) -> int | None:
    if text is None or text == "":
        return None
    if isinstance(text, str) and text[:2].upper() == "AS":
        text = text[2:]
    number = int(text)
    if not 0 < number < 2**32:
        raise ValueError(text)
    return number


_ISO_Z = re.compile(r"Z\Z")


def parse_time(text: str, fmt: str = "") -> dt.datetime | None:
    """A naive UTC datetime (the pipeline's convention); None when empty; ValueError if wrong.

    Without ``fmt``: ISO 8601 ("2025-01-01 12:00:00", "2025-01-01T12:00:00Z",
    "...+07:00"), a date alone, or Unix seconds. Times without a zone are taken as UTC.
    """
    if not text:
        return None
    if fmt:
        moment = dt.datetime.strptime(text, fmt)
    elif text.isdigit():
        return dt.datetime.fromtimestamp(int(text), dt.UTC).replace(tzinfo=None)
    else:
        moment = dt.datetime.fromisoformat(_ISO_Z.sub("+00:00", text))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def reason_from(exc: Exception, field: str) -> str:
    return _("%(field)s is not valid: %(value)s") % {"field": field, "value": str(exc)[:200]}
