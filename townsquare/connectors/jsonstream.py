"""Streaming JSON for importers: ijson in bounded memory, progress in bytes, errors by line."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

import ijson

from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.records import Progress

Opener = Callable[[], AbstractContextManager[IO[bytes]]]
Event = tuple[str, str, Any]

# ijson's C backend hands the parser one buffer at a time; keeping the last two lets an error
# be placed exactly, whatever the file's size, without reading the file again.
CHUNK = 64 * 1024
# The C backend reports bad UTF-8 as a JSONError, the pure-Python one as a UnicodeDecodeError.
PARSE_ERRORS = (ijson.JSONError, UnicodeDecodeError)


class JsonReader:
    """A binary stream read through by ijson: it reports every byte read to a Progress, and
    remembers the lines gone by and the last two buffers, to place a parse error."""

    def __init__(self, raw: IO[bytes], progress: Progress | None = None) -> None:
        self.raw = raw
        self.progress = progress
        self.lines_before = 0
        self.previous = b""
        self.current = b""

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.lines_before += self.current.count(b"\n")
        self.previous, self.current = self.current, data
        if self.progress is not None and data:
            self.progress.advance(len(data))
        return data

    def locate(self, error: Exception | None = None) -> str:
        """Where a parse error happened: "line L column C" when the parser's quoted context
        can be found in what was last read, else the stretch of lines being read."""
        window = self.previous + self.current
        window_lines = self.lines_before - self.previous.count(b"\n")
        offset = None if error is None else _error_offset(_message(error), window)
        if offset is None:
            if not self.current:
                return f"line {self.lines_before + 1} (end of file)"
            first = self.lines_before + 1
            last = self.lines_before + self.current.count(b"\n") + 1
            return f"line {first}" if first == last else f"lines {first}-{last}"
        line = window_lines + window.count(b"\n", 0, offset) + 1
        column = offset - (window.rfind(b"\n", 0, offset) + 1) + 1
        return f"line {line} column {column}"


@contextmanager
def reading(
    where: Path | str, raw: IO[bytes], progress: Progress | None = None
) -> Iterator[JsonReader]:
    """A JsonReader over `raw`; broken JSON parsed from it raises ImportFormatError naming
    `where` and the line and column."""
    reader = JsonReader(raw, progress)
    try:
        yield reader
    except PARSE_ERRORS as e:
        raise _format_error(where, reader, e) from None


def json_events(
    opener: Opener, where: Path | str, progress: Progress | None = None
) -> Iterator[Event]:
    """The ijson (prefix, event, value) stream of one JSON document, in bounded memory."""
    with opener() as raw, reading(where, raw, progress) as reader:
        yield from ijson.parse(reader, use_float=True, buf_size=CHUNK)


def items(
    opener: Opener, where: Path | str, prefix: str, progress: Progress | None = None
) -> Iterator[Any]:
    """Every value at `prefix` (e.g. "messages.item"), streamed; broken JSON also names the
    item being read (e.g. "messages[3]")."""
    index = 0
    with opener() as raw:
        reader = JsonReader(raw, progress)
        try:
            for value in ijson.items(reader, prefix, use_float=True, buf_size=CHUNK):
                yield value
                index += 1
        except PARSE_ERRORS as e:
            item = f"{prefix.rsplit('.', 1)[0]}[{index}]"
            raise _format_error(where, reader, e, item) from None


def first_item(opener: Opener, where: Path | str, prefix: str) -> Any:
    """The first value at `prefix` (e.g. "channel"), or None; the file is read only as far as
    needed, so an object written before a long array costs nothing."""
    with opener() as raw, reading(where, raw) as reader:
        for value in ijson.items(reader, prefix, use_float=True, buf_size=CHUNK):
            return value
    return None


def describe(error: Exception) -> str:
    """The parser's complaint in one line, without the quoted context."""
    first = _message(error).decode("utf-8", "replace").strip().split("\n", 1)[0]
    reason = first.removeprefix("parse error: ").removeprefix("lexical error: ")
    return reason or "unexpected end of data"


def _format_error(
    where: Path | str, reader: JsonReader, error: Exception, item: str | None = None
) -> ImportFormatError:
    location = reader.locate(error)
    if item:
        location = f"{location}, in {item}"
    return ImportFormatError(where, location, f"expected JSON ({describe(error)})")


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
