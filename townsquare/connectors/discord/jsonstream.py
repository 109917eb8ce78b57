"""Streaming JSON reads that can say where a broken file breaks, in lines and columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from townsquare.connectors.base import ImportFormatError

# ijson's C backend hands the parser one buffer at a time; keeping the last two lets an error
# be placed exactly, whatever the file's size.
CHUNK = 64 * 1024


class LineCountingReader:
    """A binary file read through by ijson, remembering how many bytes and lines went by."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.bytes_before = 0
        self.lines_before = 0
        self.previous = b""
        self.current = b""

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.bytes_before += len(self.current)
        self.lines_before += self.current.count(b"\n")
        self.previous, self.current = self.current, data
        return data

    @property
    def consumed(self) -> int:
        return self.bytes_before + len(self.current)

    def locate(self, error: Exception) -> str:
        """Where a parse error happened: "line L column C" when the parser's quoted context
        can be found in what was last read, else the stretch of lines being read."""
        window = self.previous + self.current
        window_lines = self.lines_before - self.previous.count(b"\n")
        offset = _error_offset(_message(error), window)
        if offset is None:
            if not self.current:
                end = self.lines_before + 1
                return f"line {end} (end of file)"
            first = self.lines_before + 1
            last = self.lines_before + self.current.count(b"\n") + 1
            return f"line {first}" if first == last else f"lines {first}-{last}"
        line = window_lines + window.count(b"\n", 0, offset) + 1
        column = offset - (window.rfind(b"\n", 0, offset) + 1) + 1
        return f"line {line} column {column}"


def _error_offset(message: bytes, window: bytes) -> int | None:
    """The byte offset in `window` that yajl's "(right here) ------^" arrow points at."""
    lines = message.split(b"\n")
    arrow = next((i for i, line in enumerate(lines) if b"(right here)" in line), None)
    if not arrow or b"^" not in lines[arrow]:
        return None
    context = lines[arrow - 1]
    caret = lines[arrow].index(b"^")
    start = len(context) - len(context.lstrip(b" "))
    snippet = context[start:]
    if not snippet or caret < start:
        return None
    # yajl prints line breaks in its quoted context as spaces.
    found = re.sub(rb"[\r\n]", b" ", window).rfind(snippet)
    return None if found < 0 else found + caret - start


def _message(error: Exception) -> bytes:
    # ijson's C backend gives yajl's message as bytes when the input was not valid UTF-8.
    arg = error.args[0] if error.args else ""
    return arg if isinstance(arg, bytes) else str(arg).encode("utf-8", "replace")


def describe(error: Exception) -> str:
    """The parser's complaint in one line, without the quoted context."""
    first = _message(error).decode("utf-8", "replace").strip().split("\n", 1)[0]
    return first.removeprefix("parse error: ").removeprefix("lexical error: ")


def first_item(path: Path, prefix: str) -> Any:
    """The first value at `prefix` (e.g. "channel"), or None; the file is read only as far as
    needed, so an object written before a long array costs nothing."""
    with path.open("rb") as raw:
        reader = LineCountingReader(raw)
        try:
            for value in ijson.items(reader, prefix, use_float=True, buf_size=CHUNK):
                return value
        except (ijson.JSONError, UnicodeDecodeError) as e:
            raise json_error(path, reader, e) from None
    return None


def json_error(path: Path, reader: LineCountingReader, error: Exception) -> ImportFormatError:
    return ImportFormatError(path, reader.locate(error), f"expected JSON ({describe(error)})")


def items(path: Path, prefix: str) -> Iterator[tuple[int, Any, LineCountingReader]]:
    """(index, value, reader) of every item at `prefix` (e.g. "messages.item"), streamed."""
    with path.open("rb") as raw:
        reader = LineCountingReader(raw)
        index = -1
        try:
            for index, value in enumerate(
                ijson.items(reader, prefix, use_float=True, buf_size=CHUNK)
            ):
                yield index, value, reader
        except (ijson.JSONError, UnicodeDecodeError) as e:
            where = f"{reader.locate(e)}, in {prefix.rsplit('.', 1)[0]}[{index + 1}]"
            raise ImportFormatError(path, where, f"expected JSON ({describe(e)})") from None
