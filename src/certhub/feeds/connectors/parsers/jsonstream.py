"""Stream the elements of a top-level JSON array without loading the whole document.

Feodo Tracker's ``ipblocklist.json`` is one array of flat objects; a large one must not be held
in memory at once. Elements are decoded one at a time from a sliding text window with
``json.JSONDecoder.raw_decode``; each comes with its position (1-based element number) and
the line it starts on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK = 1 << 20
_decoder = json.JSONDecoder()
# The C scanner behind raw_decode, called directly on the hot path (raw_decode adds a Python
# frame and turns StopIteration into JSONDecodeError; failures go the raw_decode way).
_scan = _decoder.scan_once
_space = re.compile(r"[ \t\r\n]*").match
_separator = re.compile(r"[ \t\r\n]*,[ \t\r\n]*").match
# What may follow a number cut at the window's end ("12" of "1234", "-0" of "-0.5"): when the
# rest of the window is only this, the element is decoded again with more text.
_number_tail = re.compile(r"[0-9.eE+-]*").fullmatch


class JsonStreamError(ValueError):
    pass


def array_items(handle: TextIO) -> Iterator[tuple[int, int, str, Any]]:
    """(element number, line number, raw text, value) for each element of the array.

    A malformed element raises JsonStreamError (the rest of the document cannot be trusted:
    JSON has no line structure to resynchronise on).
    """
    buffer = handle.read(CHUNK)
    line = 1
    position = 0
    eof = False

    def fill() -> None:
        nonlocal buffer, position, eof
        if eof:
            return
        more = handle.read(CHUNK)
        if not more:
            eof = True
        buffer = buffer[position:] + more
        position = 0

    def skip_space() -> None:
        nonlocal position, line
        while True:
            end = _space(buffer, position).end()
            if end != position:
                line += buffer.count("\n", position, end)
                position = end
            if position < len(buffer) or eof:
                return
            fill()

    def decode() -> tuple[Any, int]:
        """The element at ``position`` and where it ends, reading more text while it may
        continue past the end of the window."""
        while True:
            try:
                value, end = _decoder.raw_decode(buffer, position)
                if eof or not _number_tail(buffer, end):
                    return value, end
            except json.JSONDecodeError as exc:
                if eof:
                    raise JsonStreamError(f"element {number + 1}: {exc.msg}") from None
            fill()

    skip_space()
    if position >= len(buffer) or buffer[position] != "[":
        raise JsonStreamError("the document is not a JSON array")
    position += 1
    number = 0
    separated = False  # the "," before this element is read already (the hot path)
    while True:
        if not separated:
            skip_space()
            if position < len(buffer) and buffer[position] == "]":
                return
            if number:
                if position >= len(buffer) or buffer[position] != ",":
                    raise JsonStreamError(f"expected ',' or ']' after element {number}")
                position += 1
                skip_space()
        try:
            value, end = _scan(buffer, position)
            if len(buffer) - end < 64 and not eof:  # near the window's end: may go on
                value, end = decode()
        except (StopIteration, json.JSONDecodeError):
            value, end = decode()
        number += 1
        raw = buffer[position:end]
        yield number, line, raw, value
        if "\n" in raw:
            line += raw.count("\n")
        position = end
        if len(buffer) - position < CHUNK // 4:
            fill()
        # The common case in one regex call: a "," between spaces, the next element after it.
        found = _separator(buffer, position)
        separated = found is not None and found.end() < len(buffer)
        if separated:
            line += buffer.count("\n", position, found.end())
            position = found.end()
