"""The importer interface every platform folder implements."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from townsquare.connectors.records import Progress, Record, RejectedRecordInfo


class ImportFormatError(Exception):
    """The export cannot be read at all: the message names the file, the place and what was
    expected. Records that are merely unusable are rejected instead, and the import goes on."""

    def __init__(self, path: Path | str, location: str | None, expected: str) -> None:
        self.path = str(path)
        self.location = location
        self.expected = expected
        where = f"{self.path}:{location}" if location else self.path
        super().__init__(f"{where}: {expected}")


class Importer(ABC):
    """Reads one export and yields typed records, streaming, in bounded memory."""

    # The value stored in Source.platform for sources this importer fills.
    platform: ClassVar[str]
    # Options a user may pass (`--option key=value`), with a one-line description each;
    # a key ending in ".*" accepts any key with that prefix (e.g. "map.*").
    options_help: ClassVar[Mapping[str, str]] = {}

    def __init__(self, path: Path, options: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.options = dict(options or {})
        prefixes = tuple(k[:-1] for k in self.options_help if k.endswith(".*"))
        unknown = {
            k
            for k in self.options
            if k not in self.options_help and not k.startswith(prefixes or ("\0",))
        }
        if unknown:
            known = ", ".join(sorted(self.options_help)) or "none"
            raise ImportFormatError(
                path, None, f"unknown option {', '.join(sorted(unknown))} (known: {known})"
            )
        self.progress = Progress()
        if not path.exists():
            raise ImportFormatError(path, None, "no such file or folder")

    def default_source_name(self) -> str:
        """The source name used when the user gives none: the platform and the export's name."""
        return f"{self.platform}:{self.path.stem}"

    @abstractmethod
    def records(self) -> Iterator[Record]:
        """Yield every record of the export, calling self.progress.advance() as work is done."""


def reject(location: str, reason: str, payload: Any = None) -> RejectedRecordInfo:
    """Build a rejection with a short, readable excerpt of the offending payload."""
    if payload is None:
        excerpt = ""
    elif isinstance(payload, str | bytes):
        excerpt = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
    else:
        try:
            excerpt = json.dumps(payload, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            excerpt = repr(payload)
    return RejectedRecordInfo(location=location, reason=reason, excerpt=excerpt[:2000])


def from_timestamp(value: float | int | str) -> datetime:
    """A Unix timestamp (seconds, possibly fractional, possibly as text) as an aware UTC time."""
    return datetime.fromtimestamp(float(value), tz=UTC)


def parse_iso(value: str) -> datetime:
    """An ISO 8601 time as an aware datetime; a time without zone is taken as UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def first_line(text: str, limit: int = 120) -> str:
    """A short title made from the first non-empty line of a message."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""
