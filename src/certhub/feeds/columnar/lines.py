"""An input read as batches of physical lines, with their line numbers and byte ranges.

Text is decoded a block (8 MiB) at a time and split in C; the line lengths in bytes give each
batch its byte range, so a batch that the columnar path declines is read again by the parser
over exactly those bytes (``Span``). A block that is not plain UTF-8, or that breaks lines with
a lone carriage return (which text mode takes as a line break), is handed out undecoded as one
batch: the parser reads it its own way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..connectors.parsers.base import Span

BLOCK = 8 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class LineBatch:
    """Lines [first_line, first_line + count) of the input, bytes [start, end). ``lines``: the
    lines without their line feed (a carriage return before it is kept), or None when the
    bytes must be read by the parser itself."""

    first_line: int
    count: int
    start: int
    end: int
    lines: pl.Series | None

    @property
    def last_line(self) -> int:
        return self.first_line + self.count - 1

    @property
    def span(self) -> Span:
        return Span(self.start, self.end, self.first_line)


def line_batches(path: Path, span: Span | None, size: int) -> Iterator[LineBatch]:
    """Batches of at most ``size`` lines of ``path`` (of ``span`` only, when given)."""
    with path.open("rb") as handle:
        if span is None:
            begin, end, number = 0, handle.seek(0, 2), 1
        else:
            begin, end, number = span.start, span.end, span.line
        handle.seek(begin)
        position, pending, remaining = begin, b"", end - begin
        while True:
            chunk = handle.read(min(BLOCK, remaining))
            remaining -= len(chunk)
            data = pending + chunk if pending else chunk
            if not data:
                return
            cut = len(data) if remaining <= 0 else data.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a block: read on
                pending = data
                continue
            block, pending = data[:cut], data[cut:]
            for batch in _block_batches(block, position, number, size):
                yield batch
                number = batch.last_line + 1
            position += cut


def _block_batches(block: bytes, position: int, number: int, size: int
                   ) -> Iterator[LineBatch]:
    count = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    skip = len(_BOM) if position == 0 and block.startswith(_BOM) else 0
    lone_return = b"\r" in block and block.count(b"\r") != block.count(b"\r\n")
    try:
        text = None if lone_return else block[skip:].decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None:
        yield LineBatch(number, count, position, position + len(block), None)
        return
    lines = text.split("\n")
    if block.endswith(b"\n"):
        lines.pop()
    series = pl.Series("text", lines, dtype=pl.String)
    ends = ((series.str.len_bytes().cast(pl.Int64) + 1).cum_sum() + position + skip).to_list()
    ends[-1] = position + len(block)  # the last line may have no line feed
    start = position
    for first in range(0, count, size):
        last = min(first + size, count) - 1
        yield LineBatch(number + first, last - first + 1, start, ends[last],
                        series.slice(first, last - first + 1))
        start = ends[last]
