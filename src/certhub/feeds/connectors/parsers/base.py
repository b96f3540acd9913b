"""The parser contract, and the helpers parsers share (streaming CSV with line numbers, times).

A parser turns one input (a file, or a folder for MISP feeds) into a stream of ``Event`` and
``Bad`` items, each carrying its *position*: the physical line number for text formats, the
record number for JSON and MISP. Positions only grow; a run resumed at position P skips every
item at or before P, so parsers are restartable without keeping any state of their own.
Parsers stream: memory does not grow with the input.

Parts: a parser whose records never span lines is ``splittable``; several workers may then
read one large input as *parts*, byte ranges that start and end at line boundaries
(``Span``). ``items(path, start, span)`` reads one part through ``open_text(path, span)``:
the file's header lines (``header_end``), then the part's own lines, numbered as if they were
the whole file; ``part_items`` turns those numbers into the physical line numbers, so a finding
has the same line whether its input was split or not.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from socket import AF_INET, AF_INET6, inet_pton
from typing import ClassVar, TextIO

from django.utils.translation import gettext as _

from ..events import RAW_MAX, Bad, Event
from ..params import Param, validate

Item = Event | Bad
# Characters of text CsvLines reads at a time (readlines' hint): small enough that a chunk's
# rows stay in the processor's cache while the parser turns them into events (1 MB chunks
# measured slower than reading line by line), large enough to make the per-chunk work vanish.
_CHUNK = 1 << 14


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

    # Records never span lines: a large input may be read as parts by several workers.
    splittable: ClassVar[bool] = False

    # The parser has a columnar path (``columnar``; see the feeds.columnar package).
    columnar_path: ClassVar[bool] = False

    def items(self, path: Path, start: int = 0, span: Span | None = None) -> Iterator[Item]:
        raise NotImplementedError

    def columnar(self, lines, first_line: int, after: int):
        """The events of a batch of lines (a polars Series, the first being physical line
        ``first_line``) after line ``after``, as the frame ``feeds.columnar`` describes, when
        every line is plainly well-formed; None otherwise (``items`` then reads them)."""
        return None

    def open_text(self, path: Path, span: Span | None = None) -> TextIO:
        # utf-8-sig: some feeds start with a byte-order mark; undecodable bytes become U+FFFD
        # so one bad byte spoils one line (reported), not the run.
        if span is not None:
            return open_span(path, span)
        return path.open(encoding="utf-8-sig", errors="replace", newline="")

    def can_split(self) -> bool:
        """Whether this configuration of the parser may read its input as parts."""
        return self.splittable

    def header_end(self, path: Path) -> int | None:
        """Bytes at the start of ``path`` every part reads first (the header); 0: none;
        None: the header was not found (the input is not split)."""
        return 0

    def part_items(self, path: Path, start: int, span: Span) -> Iterator[Item]:
        """The items of one part of ``path`` after the physical line ``start``, with their
        physical line numbers."""
        header_lines = span_header_lines(path, span)
        offset = span.line - 1 - header_lines
        items = self.items(path, max(start - offset, header_lines), span)
        if not offset:
            yield from items
            return
        for item in items:
            item.line += offset
            yield item


def clip(text: str) -> str:
    text = text.rstrip("\r\n")
    return text if len(text) <= RAW_MAX else text[:RAW_MAX]


class CsvLines:
    """Rows of a CSV file with the physical line number and raw text of each.

    Iterating gives ``(line, raw, row)``: ``raw`` is the row's last physical line as read (its
    line break included: pass it through ``clip``), ``row`` the list of fields or, for a line
    the csv module refuses, the ``csv.Error``. Skips comment lines, blank lines, the first
    ``skip`` lines and (when resuming) every line at or before ``start``; ``header=True`` reads
    the first remaining row as ``header`` (set before the first row is handed out) even when it
    is at or before ``start``. Comment and blank lines are dropped even inside a quoted field
    that spans lines, as the line-by-line filter in front of ``csv.reader`` always did.

    Speed (issue 5: parsing gets ~2-3 microseconds a line): text is read ~16 KB at a time, the
    chunk's lines are filtered by a comprehension and parsed by one ``csv.reader`` over the
    list, and the rows go out through ``chain``/``zip`` (no Python frame resumed per row).
    That is exact when the reader gives one row per line (a trailing blank line shows that no
    quoted field is left open); otherwise (a quoted field spanning lines, a csv error) the
    chunk takes the line-by-line path (``_exact``), which may read on into the next chunks.
    ``str.split`` shortcuts were measured and lost: csv's C parser costs what the
    allocations do, and proving a split equal to it costs more than the parse.
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

    def __iter__(self) -> Iterator[tuple[int, str, list[str] | csv.Error]]:
        # A C-level chain over per-chunk iterators: no Python frame is resumed per row.
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[Iterator[tuple[int, str, list[str] | csv.Error]]]:
        chunks = self._kept_chunks()
        pushed_back: list[tuple] = []
        header_pending = self.want_header
        while True:
            if pushed_back:
                numbers, lines = pushed_back.pop()
            else:
                chunk = next(chunks, None)
                if chunk is None:
                    return
                numbers, lines = chunk
            if header_pending:
                # The header goes the exact way (it may span lines; an error in it raises).
                batch, leftover = self._exact(numbers, lines, chunks, header=True)
                header_pending = False
                if not batch:
                    return
                self.header = [name.strip() for name in batch[0][2]]
                batch = batch[1:]
            else:
                batch = self._fast(numbers, lines)
                leftover = None
                if batch is None:
                    batch, leftover = self._exact(numbers, lines, chunks)
            if leftover and leftover[1]:
                pushed_back.append(leftover)
            if batch:
                yield batch

    def _kept_chunks(self) -> Iterator[tuple[range | list[int], list[str]]]:
        """(physical line numbers, lines) of the lines csv parsing sees, a chunk at a time."""
        read, comment = self.handle.readlines, self.comment
        floor = max(self.skip, self.start)
        need_header = self.want_header
        number = 0  # physical lines read so far
        while chunk := read(_CHUNK):
            first = number + 1
            number += len(chunk)
            if need_header:  # the header: first line past skip, even at or before start
                for index, line in enumerate(chunk):
                    if (first + index > self.skip and not (comment and line.startswith(comment))
                            and not line.isspace()):
                        break
                else:
                    continue
                need_header = False
                numbers, lines = _keep(chunk[index + 1:], first + index + 1, floor, comment)
                yield [first + index, *numbers], [line, *lines]
                continue
            numbers, lines = _keep(chunk, first, floor, comment)
            if lines:
                yield numbers, lines

    def _fast(self, numbers, lines: list[str]) -> Iterator | None:
        """The chunk's items when every line is exactly one row and csv accepts each: one
        ``csv.reader`` over the chunk's list (no Python frame per line)."""
        count = len(lines)
        lines.append("\n")  # a blank line: [] if every row closed, absorbed if one is open
        try:
            rows = list(csv.reader(lines, delimiter=self.delimiter, quotechar=self.quotechar,
                                   strict=False))
        except csv.Error:
            return None
        finally:
            lines.pop()
        if len(rows) != count + 1:  # each row takes one line at least: equal means one each
            return None
        rows.pop()
        return zip(numbers, lines, rows, strict=True)

    def _exact(self, numbers, lines: list[str], chunks: Iterator, header: bool = False
               ) -> tuple[list, tuple | None]:
        """Line by line through one ``csv.reader``, as the rows come: the chunk's rows, then
        the kept lines after the last of them (a row open at the chunk's end reads on into the
        next chunks). With ``header``, the first row only; a csv error in it raises."""
        numbers, lines, end = list(numbers), list(lines), len(lines)
        fed = 0

        def feed() -> Iterator[str]:
            nonlocal fed
            while True:
                if fed == len(lines):
                    more = next(chunks, None)
                    if more is None:
                        return
                    numbers.extend(more[0])
                    lines.extend(more[1])
                    continue
                fed += 1
                yield lines[fed - 1]

        reader = csv.reader(feed(), delimiter=self.delimiter, quotechar=self.quotechar,
                            strict=False)
        batch: list = []
        while fed < end:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if header:
                    raise
                row = exc
            batch.append((numbers[fed - 1], lines[fed - 1], row))
            if header:
                break
        return batch, (numbers[fed:], lines[fed:])


def _keep(chunk: list[str], first: int, floor: int, comment: str
          ) -> tuple[range | list[int], list[str]]:
    """The lines of ``chunk`` (numbered from ``first``) past ``floor``, neither comments nor
    blank, with their numbers."""
    if first > floor:
        if comment:
            kept = [line for line in chunk if not line.startswith(comment) and not line.isspace()]
        else:
            kept = [line for line in chunk if not line.isspace()]
        if len(kept) == len(chunk):  # nothing dropped: the numbers run on
            return range(first, first + len(chunk)), kept
    pairs = [(number, line) for number, line in enumerate(chunk, first)
             if number > floor and not (comment and line.startswith(comment))
             and not line.isspace()]
    return [number for number, _line in pairs], [line for _number, line in pairs]


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
        # A final "Z" is UTC, given as an offset (a string test, not a regex: once a row).
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] == "Z" else text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def reason_from(exc: Exception, field: str) -> str:
    return _("%(field)s is not valid: %(value)s") % {"field": field, "value": str(exc)[:200]}


# --- parts of an input ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    """One part of an input: the bytes [start, end), which begin at physical line ``line``
    (1-based) and end after a line break (or at the end of the file). ``header``: how many
    bytes of the file's start to read before them (the header of a CSV; 0 for none)."""

    start: int
    end: int
    line: int
    header: int = 0


class _ByteRanges(io.RawIOBase):
    """A readable stream of the given byte ranges of a file, one after the other."""

    def __init__(self, path: Path, ranges: list[tuple[int, int]]):
        self.file = path.open("rb", buffering=0)
        self.ranges = [(start, end) for start, end in ranges if end > start]

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self.ranges:
            start, end = self.ranges[0]
            self.file.seek(start)
            count = self.file.readinto(memoryview(buffer)[:min(len(buffer), end - start)])
            if not count:  # the file is shorter than planned: nothing more of this range
                self.ranges.pop(0)
                continue
            self.ranges[0] = (start + count, end)
            if start + count >= end:
                self.ranges.pop(0)
            return count
        return 0

    def close(self) -> None:
        self.file.close()
        super().close()


def open_span(path: Path, span: Span) -> TextIO:
    """The text of the span's header bytes then of its own bytes (as ``Parser.open_text``)."""
    ranges = [(0, span.header)] if span.header and span.start > 0 else []
    ranges.append((span.start, span.end))
    return io.TextIOWrapper(io.BufferedReader(_ByteRanges(path, ranges), 1 << 20),
                            encoding="utf-8-sig", errors="replace", newline="")


def span_header_lines(path: Path, span: Span) -> int:
    """How many lines the span's header bytes hold."""
    if not span.header or span.start == 0:
        return 0
    with path.open("rb") as handle:
        return count_lines(handle.read(span.header))


def count_lines(data: bytes) -> int:
    """The lines text mode reads from ``data`` (line breaks: \\n, \\r\\n and a lone \\r)."""
    if not data:
        return 0
    breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return breaks + (0 if data.endswith((b"\n", b"\r")) else 1)


def csv_header_end(path: Path, *, comment: str = "#", skip: int = 0) -> int | None:
    """The byte just after the header row of a CSV read by ``CsvLines(header=True)``: the
    first line past ``skip`` that is neither blank nor a comment. None when there is none in
    the first megabyte (the input is then not split)."""
    marker = comment.encode()
    with path.open("rb") as handle:
        number = 0
        while handle.tell() < 1 << 20:
            line = handle.readline()
            if not line:
                return None
            number += 1
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if number <= skip or (marker and line.startswith(marker)) or not line.strip():
                continue
            return handle.tell()
    return None
