"""Streaming JSON reading for importers: ijson events, progress in bytes, broken JSON by line."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any

import ijson

from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.records import Progress

Opener = Callable[[], AbstractContextManager[IO[bytes]]]
Event = tuple[str, str, Any]

# The pure-Python backend reports where it stopped ("Unexpected symbol 'x' at 1234"); the fast
# C backend does not, so it is only run again on the error path to find the line.
_POSITION = re.compile(r" at (\d+)\s*$")
_CHUNK = 1 << 16


class _CountingReader:
    """A binary stream that reports every byte read to a Progress."""

    def __init__(self, stream: IO[bytes], progress: Progress | None) -> None:
        self.stream = stream
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if self.progress is not None and data:
            self.progress.advance(len(data))
        return data


def json_events(
    opener: Opener, where: Path | str, progress: Progress | None = None
) -> Iterator[Event]:
    """The ijson (prefix, event, value) stream of one JSON document, in bounded memory.

    Broken JSON raises ImportFormatError naming `where` and the line where parsing stopped.
    """
    try:
        with opener() as stream:
            yield from ijson.parse(_CountingReader(stream, progress), use_float=True)
    except ijson.JSONError as e:
        reason = str(e).splitlines()[0] if str(e) else "unexpected end of data"
        line = _error_line(opener)
        raise ImportFormatError(
            where, f"line {line}" if line else None, f"expected JSON ({reason})"
        ) from None


def _error_line(opener: Opener) -> int | None:
    """The line where the pure-Python parser stops, or None when it cannot tell."""
    backend = ijson.get_backend("python")
    position: int | None = None
    try:
        with opener() as stream:
            for _ in backend.basic_parse(stream):
                pass
    except ijson.JSONError as e:
        match = _POSITION.search(str(e))
        position = int(match.group(1)) if match else None
        if position is None and "ncomplete" in str(e):
            position = -1  # Truncated: the problem is at the very end.
    if position is None:
        return None
    # The position counts decoded characters from the start of the document.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line, seen = 1, 0
    with opener() as stream:
        while chunk := stream.read(_CHUNK):
            text = decoder.decode(chunk)
            if 0 <= position < seen + len(text):
                return line + text.count("\n", 0, position - seen)
            line += text.count("\n")
            seen += len(text)
    return line
