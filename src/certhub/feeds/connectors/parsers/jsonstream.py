"""Stream the elements of a top-level JSON array without loading the whole document.

Feodo Tracker's ``ipblocklist.json`` is one array of flat objects; a large one must not be held
in memory at once. Elements are decoded one at a time from a sliding text window with
``json.JSONDecoder.raw_decode``; each comes with its position (1-based element number) and
the line it starts on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK = 1 << 20
_decoder = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


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
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                if buffer[position] == "\n":
                    line += 1
                position += 1
            if position < len(buffer) or eof:
                return
            fill()

    skip_space()
    if position >= len(buffer) or buffer[position] != "[":
        raise JsonStreamError("the document is not a JSON array")
    position += 1
    number = 0
    while True:
        skip_space()
        if position < len(buffer) and buffer[position] == "]":
            return
        if number:
            if position >= len(buffer) or buffer[position] != ",":
                raise JsonStreamError(f"expected ',' or ']' after element {number}")
            position += 1
            skip_space()
        while True:
            try:
                value, end = _decoder.raw_decode(buffer, position)
                break
            except json.JSONDecodeError as exc:
                if eof:
                    raise JsonStreamError(f"element {number + 1}: {exc.msg}") from None
                fill()  # the element may continue in the next chunk
        number += 1
        raw = buffer[position:end]
        yield number, line, raw, value
        line += raw.count("\n")
        position = end
        if len(buffer) - position < CHUNK // 4:
            fill()
