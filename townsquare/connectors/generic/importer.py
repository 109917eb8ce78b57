"""CSV and JSON Lines exports of any tool: one row or line is one interaction, read through a
mapping from Townsquare's fields to the export's columns."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.base import Importer, ImportFormatError, first_line, reject
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

# The Townsquare fields a mapping can fill, with what each holds.
FIELDS: dict[str, str] = {
    "id": "the interaction's id in the export (required)",
    "created_at": "when it happened (required)",
    "text": "what was said",
    "kind": "post, reply, comment, message, reaction, share, mention, join, edit...",
    "author_id": "the author's id",
    "author_name": "the author's display name",
    "author_handle": "the author's handle or username",
    "author_email": "the author's email address",
    "author_url": "the author's profile URL",
    "author_is_bot": "true when the author is a bot",
    "channel": "the channel's id",
    "channel_name": "the channel's name",
    "conversation_id": "the thread or conversation it belongs to",
    "conversation_title": "the conversation's title",
    "parent_id": "the id of the interaction it answers",
    "url": "a link to the interaction",
    "edited_at": "when it was last edited",
}
# In order of preference as the external id of the author's identity.
AUTHOR_FIELDS = ("author_id", "author_handle", "author_email", "author_name")
ID_FIELDS = ("id", "author_id", "channel", "conversation_id", "parent_id")
TIME_FIELDS = ("created_at", "edited_at")
# Settings a mapping file may hold besides "fields"; options of the same name win over them.
SETTINGS = (
    "time_format",
    "timezone",
    "kind",
    "channel",
    "delimiter",
    "encoding",
    "allow_anonymous",
)
KINDS = [k.value for k in InteractionKind]
STARTS_CONVERSATION = (InteractionKind.POST, InteractionKind.MESSAGE)

TRUE = {"true", "yes", "y", "1", "t"}
FALSE = {"false", "no", "n", "0", "f", ""}
EPOCH = re.compile(r"[+-]?\d+(\.\d+)?")
# As seconds this is the year 5138, as milliseconds 1973: larger numbers are milliseconds.
MILLISECONDS_FROM = 100_000_000_000
# Enough to remember every author and channel of a typical export, bounded for huge ones; an
# author forgotten and seen again is simply described again.
RECENT_SIZE = 100_000
# Cells of long forum posts exceed the csv module's default limit of 128 KiB.
CSV_FIELD_LIMIT = 64 * 1024 * 1024
PROGRESS_EVERY = 1000

Row = dict[str, Any]
K = TypeVar("K")
V = TypeVar("V")


class _RowError(Exception):
    """One row cannot be used: the message is the rejection's reason."""


class _Recent(Generic[K, V]):
    """The most recently used keys, at most `size` of them: memory stays flat on any export."""

    def __init__(self, size: int = RECENT_SIZE) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


def _valid_fields() -> str:
    return ", ".join(FIELDS)


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__


def _parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
    return None


def _from_epoch(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{value!r} is out of the range of Unix times") from None


def parse_time(value: Any, time_format: str, zone: ZoneInfo) -> datetime:
    """A cell as an aware UTC time: ISO 8601, epoch seconds or milliseconds, or time_format.

    Raises ValueError saying what was expected."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a time, got {_type_name(value)}")
    if not isinstance(value, str):
        return _from_epoch(value)
    text = value.strip()
    if time_format:
        try:
            # Naive on purpose: a zone-less format takes the `timezone` option just below.
            parsed = datetime.strptime(text, time_format)  # noqa: DTZ007
        except ValueError:
            raise ValueError(f"{value!r} does not match time_format {time_format!r}") from None
    elif EPOCH.fullmatch(text):
        return _from_epoch(float(text))
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a time: expected ISO 8601 (2024-05-01T14:30:00Z), Unix epoch "
                "seconds or milliseconds, or set the time_format option (strptime codes)"
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


class TabularImporter(Importer):
    """What CSV and JSON Lines share: the mapping, and turning one row into records."""

    options_help: ClassVar[Mapping[str, str]] = {
        "mapping": 'a JSON file: {"fields": {"text": "COLUMN", ...}, "time_format": ...}',
        "map.*": "map.FIELD=COLUMN maps one Townsquare field to a column (wins over the file)",
        "time_format": "strptime format of the times, e.g. %d/%m/%Y %H:%M (default: ISO or epoch)",
        "timezone": "zone of times written without one, e.g. Europe/Paris (default UTC)",
        "kind": f"kind of rows without a kind column (default message); one of {', '.join(KINDS)}",
        "channel": "a fixed channel id for every row",
        "encoding": "the file's text encoding (default utf-8-sig)",
        "allow_anonymous": "true to import rows with no author (default false: rejected)",
    }

    def __init__(self, path: Path, options: Mapping[str, str] | None = None) -> None:
        super().__init__(path, options)
        file_settings, self.mapping = self._read_mapping()
        for key, column in self.options.items():
            if key.startswith("map."):
                field = key[len("map.") :]
                if field not in FIELDS:
                    raise ImportFormatError(
                        path,
                        None,
                        f"unknown field {field!r} in --map {field}={column}; "
                        f"valid fields: {_valid_fields()}",
                    )
                self.mapping[field] = column.strip()
        settings = {**file_settings, **{k: v for k, v in self.options.items() if k in SETTINGS}}

        self.time_format = str(settings.get("time_format") or "")
        self._check_time_format()
        zone_name = str(settings.get("timezone") or "UTC")
        try:
            self.zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ImportFormatError(
                path, None, f"unknown timezone {zone_name!r}: expected a name like Europe/Paris"
            ) from None
        self.default_kind: InteractionKind | None = None
        if settings.get("kind"):
            self.default_kind = self._kind(settings["kind"])
            if self.default_kind is None:
                raise ImportFormatError(
                    path,
                    None,
                    f"unknown kind {settings['kind']!r}; expected one of: " + ", ".join(KINDS),
                )
        self.fixed_channel = str(settings.get("channel") or "").strip()
        self.encoding = str(settings.get("encoding") or "utf-8-sig")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ImportFormatError(path, None, f"unknown encoding {self.encoding!r}") from None
        allow = _parse_bool(settings.get("allow_anonymous", False))
        if allow is None:
            raise ImportFormatError(
                path,
                None,
                f"allow_anonymous: expected true or false, got {settings['allow_anonymous']!r}",
            )
        self.allow_anonymous = allow
        self.delimiter = str(settings.get("delimiter") or "")

        self._identities: _Recent[str, IdentityRecord] = _Recent()
        self._channels: _Recent[str, str] = _Recent()
        self._conversations: _Recent[str, bool] = _Recent()

    def _read_mapping(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The settings and the field → column mapping of the --mapping file, if any."""
        name = self.options.get("mapping")
        if not name:
            return {}, {}
        mapping_path = Path(name)
        try:
            data = json.loads(mapping_path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ImportFormatError(mapping_path, None, "no such mapping file") from None
        except OSError as e:
            raise ImportFormatError(
                mapping_path, None, f"cannot read the mapping file ({e})"
            ) from e
        except UnicodeDecodeError:
            raise ImportFormatError(mapping_path, None, "expected a UTF-8 JSON file") from None
        except json.JSONDecodeError as e:
            raise ImportFormatError(
                mapping_path, f"line {e.lineno} column {e.colno}", f"expected JSON ({e.msg})"
            ) from None
        if not isinstance(data, dict):
            raise ImportFormatError(
                mapping_path, None, 'expected a JSON object like {"fields": {"text": "COLUMN"}}'
            )
        unknown = sorted(set(data) - {"fields", *SETTINGS})
        if unknown:
            raise ImportFormatError(
                mapping_path,
                None,
                f"unknown key {', '.join(map(repr, unknown))}; "
                f"valid keys: fields, {', '.join(SETTINGS)}",
            )
        fields = data.get("fields") or {}
        if not isinstance(fields, dict):
            raise ImportFormatError(mapping_path, None, '"fields" must be an object')
        mapping: dict[str, str] = {}
        for field, column in fields.items():
            if field not in FIELDS:
                raise ImportFormatError(
                    mapping_path,
                    None,
                    f'unknown field {field!r} in "fields"; valid fields: {_valid_fields()}',
                )
            if not isinstance(column, str):
                raise ImportFormatError(
                    mapping_path, None, f'"fields": {field!r} must name a column (a string)'
                )
            mapping[field] = column.strip()
        settings = {k: data[k] for k in SETTINGS if data.get(k) is not None}
        for key, value in settings.items():
            if not isinstance(value, str) and not (key == "allow_anonymous" and value in (1, 0)):
                raise ImportFormatError(mapping_path, None, f"{key!r} must be a string")
        return settings, mapping

    def _check_time_format(self) -> None:
        if not self.time_format:
            return
        try:
            sample = datetime.now(UTC).strftime(self.time_format)
            datetime.strptime(sample, self.time_format)  # noqa: DTZ007
        except ValueError as e:
            raise ImportFormatError(
                self.path, None, f"time_format {self.time_format!r} is not a strptime format ({e})"
            ) from None

    @staticmethod
    def _kind(value: Any) -> InteractionKind | None:
        text = str(value).strip().lower()
        return InteractionKind(text) if text in KINDS else None

    # What the formats provide

    @abstractmethod
    def rows(self) -> Iterator[tuple[str, Row, Mapping[str, str]] | Record]:
        """Yield (location, row, field → column) for every row, or a rejection."""

    def lookup(self, row: Row, column: str) -> Any:
        return row.get(column)

    # Rows to records

    def records(self) -> Iterator[Record]:
        for item in self.rows():
            if not isinstance(item, tuple):
                yield item
                continue
            location, row, columns = item
            try:
                yield from self._row_records(row, columns)
            except _RowError as e:
                yield reject(location, str(e), row)

    def _value(self, row: Row, columns: Mapping[str, str], field: str) -> Any:
        column = columns.get(field)
        return None if not column else self.lookup(row, column)

    def _text(self, row: Row, columns: Mapping[str, str], field: str, *, strip: bool = True) -> str:
        value = self._value(row, columns, field)
        if type(value) is str:  # every CSV cell: the fast path
            return value.strip() if strip else value
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _RowError(
                f"{field} (column {columns[field]!r}) must be text, got {_type_name(value)}"
            )
        if isinstance(value, float) and value.is_integer() and field in ID_FIELDS:
            value = int(value)
        text = str(value)
        return text.strip() if strip else text

    def _time(self, row: Row, columns: Mapping[str, str], field: str) -> datetime | None:
        value = self._value(row, columns, field)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return parse_time(value, self.time_format, self.zone)
        except ValueError as e:
            raise _RowError(f"{field} (column {columns[field]!r}): {e}") from None

    def _row_records(self, row: Row, columns: Mapping[str, str]) -> Iterator[Record]:
        external_id = self._text(row, columns, "id")
        if not external_id:
            raise _RowError(self._missing(columns, "id"))
        created_at = self._time(row, columns, "created_at")
        if created_at is None:
            raise _RowError(self._missing(columns, "created_at"))
        edited_at = self._time(row, columns, "edited_at")
        text = self._text(row, columns, "text", strip=False)
        url = self._text(row, columns, "url")
        parent_id = self._text(row, columns, "parent_id") or None

        kind_value = self._text(row, columns, "kind")
        if kind_value:
            kind = self._kind(kind_value)
            if kind is None:
                raise _RowError(
                    f"unknown kind {kind_value!r} (column {columns['kind']!r}); "
                    f"expected one of: {', '.join(KINDS)}"
                )
        else:
            kind = self.default_kind or (
                InteractionKind.REPLY if parent_id else InteractionKind.MESSAGE
            )

        author = self._author(row, columns)
        channel_id = self.fixed_channel or self._text(row, columns, "channel") or None
        channel_name = self._text(row, columns, "channel_name")
        conversation_id: str | None = None
        title = ""
        if "conversation_id" in columns:
            conversation_id = self._text(row, columns, "conversation_id") or None
            title = self._text(row, columns, "conversation_title") or first_line(text)
        elif "parent_id" not in columns and kind in STARTS_CONVERSATION:
            conversation_id = external_id
            title = first_line(text)

        if channel_id and channel_name and self._channels.get(channel_id) != channel_name:
            self._channels.put(channel_id, channel_name)
            yield ChannelRecord(external_id=channel_id, name=channel_name)
        if conversation_id and not self._conversations.get(conversation_id):
            # The first row naming a conversation describes it; later rows only join it, so a
            # re-import describes it the same way and changes nothing.
            self._conversations.put(conversation_id, True)
            yield ConversationRecord(
                external_id=conversation_id,
                started_at=created_at,
                title=title,
                channel_id=channel_id,
                url=url if conversation_id == external_id else "",
            )
        if author is not None:
            known = self._identities.get(author.external_id)
            merged = _fill_in(known, author) if known else author
            if merged != known:
                self._identities.put(author.external_id, merged)
                yield merged
        yield InteractionRecord(
            external_id=external_id,
            kind=kind,
            created_at=created_at,
            author_id=author.external_id if author else None,
            channel_id=channel_id,
            conversation_id=conversation_id,
            parent_id=parent_id,
            text=text,
            url=url,
            edited_at=edited_at,
            raw=row,
        )

    def _author(self, row: Row, columns: Mapping[str, str]) -> IdentityRecord | None:
        values = {field: self._text(row, columns, field) for field in AUTHOR_FIELDS}
        external_id = next((values[f] for f in AUTHOR_FIELDS if values[f]), "")
        is_bot = _parse_bool(self._value(row, columns, "author_is_bot"))
        if is_bot is None:
            raise _RowError(
                f"author_is_bot (column {columns['author_is_bot']!r}): expected true or false, "
                f"got {self._value(row, columns, 'author_is_bot')!r}"
            )
        if not external_id:
            if self.allow_anonymous:
                return None
            mapped = [f"{f} ({columns[f]!r})" for f in AUTHOR_FIELDS if f in columns]
            raise _RowError(
                "no author: "
                + (f"{', '.join(mapped)} empty" if mapped else "no author column mapped")
                + "; set the option allow_anonymous=true to import rows without an author"
            )
        return IdentityRecord(
            external_id=external_id,
            handle=values["author_handle"],
            display_name=values["author_name"],
            email=values["author_email"],
            profile_url=self._text(row, columns, "author_url"),
            is_bot=is_bot,
        )

    @staticmethod
    def _missing(columns: Mapping[str, str], field: str) -> str:
        if field in columns:
            return f"missing {field}: column {columns[field]!r} is empty"
        return f"missing {field}: no column for it (map one with --map {field}=COLUMN)"


def _fill_in(known: IdentityRecord, seen: IdentityRecord) -> IdentityRecord:
    """An author described again: values a later row adds fill the blanks, never overwrite."""
    return IdentityRecord(
        external_id=known.external_id,
        handle=known.handle or seen.handle,
        display_name=known.display_name or seen.display_name,
        email=known.email or seen.email,
        profile_url=known.profile_url or seen.profile_url,
        is_bot=known.is_bot or seen.is_bot,
    )


class _ByteCounter:
    """Reports the bytes a text reader consumed from its binary file, as progress."""

    def __init__(self, binary: io.BufferedReader, importer: Importer) -> None:
        self.binary = binary
        self.importer = importer
        self.reported = 0

    def update(self) -> None:
        position = self.binary.tell()
        if position > self.reported:
            self.importer.progress.advance(position - self.reported)
            self.reported = position


class CsvImporter(TabularImporter):
    platform = Platform.CSV
    options_help: ClassVar[Mapping[str, str]] = {
        **TabularImporter.options_help,
        "delimiter": "the cell separator: a character, or tab (default , or tab for .tsv)",
    }

    def rows(self) -> Iterator[tuple[str, Row, Mapping[str, str]] | Record]:
        name = self.path.name
        if self.path.is_dir():
            raise ImportFormatError(self.path, None, "expected a CSV file, not a folder")
        delimiter = self.delimiter or ("\t" if self.path.suffix.lower() == ".tsv" else ",")
        if delimiter.lower() in ("tab", "\\t"):
            delimiter = "\t"
        if len(delimiter) != 1:
            raise ImportFormatError(
                self.path, None, f"delimiter {delimiter!r}: expected one character, or tab"
            )
        csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
        self.progress.total = self.path.stat().st_size
        with (
            self.path.open("rb") as binary,
            io.TextIOWrapper(binary, encoding=self.encoding, newline="") as text,
        ):
            reader = csv.reader(text, delimiter=delimiter)
            counter = _ByteCounter(binary, self)
            header = self._next(reader)
            while header is not None and not any(cell.strip() for cell in header):
                header = self._next(reader)
            if header is None:
                raise ImportFormatError(
                    self.path,
                    "line 1",
                    "expected a header row naming the columns; the file is empty",
                )
            header_line = reader.line_num
            keys = _unique(header)
            columns = self._columns(header, keys, header_line, delimiter)
            last_line = reader.line_num
            count = 0
            while (cells := self._next(reader)) is not None:
                start, last_line = last_line + 1, reader.line_num
                count += 1
                if count % PROGRESS_EVERY == 0:
                    counter.update()
                if not any(cell.strip() for cell in cells):
                    continue  # spreadsheets pad the end of a sheet with empty rows
                location = (
                    f"{name} lines {start}-{last_line}"
                    if last_line > start
                    else f"{name} line {start}"
                )
                if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys) :]):
                    yield reject(
                        location,
                        f"{len(cells)} cells but the header names {len(keys)} columns "
                        "(an unquoted delimiter or quote in a cell?)",
                        delimiter.join(cells),
                    )
                    continue
                row = dict(zip(keys, cells, strict=False))
                # Spreadsheets drop trailing empty cells: missing cells are empty.
                for key in keys[len(cells) :]:
                    row[key] = ""
                yield location, row, columns
            counter.update()

    def _next(self, reader: Any) -> list[str] | None:
        try:
            cells: list[str] = next(reader)
        except StopIteration:
            return None
        except UnicodeDecodeError as e:
            raise ImportFormatError(
                self.path,
                f"line {self._undecodable_line()}",
                f"expected text in {self.encoding} ({e.reason}); "
                "set the encoding option, e.g. --option encoding=latin-1",
            ) from None
        except csv.Error as e:
            raise ImportFormatError(
                self.path, f"line {reader.line_num}", f"expected CSV ({e})"
            ) from None
        return cells

    def _undecodable_line(self) -> int:
        """The line of the first undecodable byte: the text reader decodes whole chunks, so
        its own position says nothing precise."""
        decoder = codecs.getincrementaldecoder(self.encoding)()
        line = 1
        with self.path.open("rb") as binary:
            for chunk in binary:
                try:
                    line += decoder.decode(chunk).count("\n")
                except UnicodeDecodeError:
                    break
        return line

    def _columns(
        self, header: list[str], keys: list[str], line: int, delimiter: str
    ) -> dict[str, str]:
        """Field → column key, from the explicit mapping and then from column names."""
        found = ", ".join(repr(h) for h in header)
        if len(header) == 1 and any(d in header[0] for d in ";\t|,"):
            found += (
                f" (the delimiter is {delimiter!r}: is that right? "
                "set another with --option delimiter=;)"
            )
        by_name: dict[str, str] = {}
        for cell, key in zip(header, keys, strict=True):
            by_name.setdefault(cell, key)
            by_name.setdefault(cell.strip().lower(), key)
        columns: dict[str, str] = {}
        for field, column in self.mapping.items():
            if not column:
                continue  # mapped to nothing: the user turns a same-named column off
            found_key = by_name.get(column) or by_name.get(column.strip().lower())
            if found_key is None:
                raise ImportFormatError(
                    self.path,
                    f"line {line}",
                    f"no column {column!r} (mapped to {field}); columns found: {found}",
                )
            columns[field] = found_key
        for field in FIELDS:
            if field not in columns and field not in self.mapping and field in by_name:
                columns[field] = by_name[field]
        for field in ("id", "created_at"):
            if field not in columns:
                raise ImportFormatError(
                    self.path,
                    f"line {line}",
                    f"no column for the required field {field} (map one with "
                    f"--map {field}=COLUMN); columns found: {found}",
                )
        if not self.allow_anonymous and not any(f in columns for f in AUTHOR_FIELDS):
            raise ImportFormatError(
                self.path,
                f"line {line}",
                "no column names the author: map one of "
                f"{', '.join(AUTHOR_FIELDS)}, or set the option allow_anonymous=true; "
                f"columns found: {found}",
            )
        if self.fixed_channel:
            columns.pop("channel", None)
        return columns


def _unique(header: list[str]) -> list[str]:
    """Column names as row keys; a repeated name gets a suffix so no cell is lost from raw."""
    keys: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(header, start=1):
        key = cell.strip() or f"column {index}"
        suffix = 2
        while key in seen:
            key, suffix = f"{cell.strip()} ({suffix})", suffix + 1
        seen.add(key)
        keys.append(key)
    return keys


class JsonlImporter(TabularImporter):
    platform = Platform.JSONL

    def rows(self) -> Iterator[tuple[str, Row, Mapping[str, str]] | Record]:
        name = self.path.name
        if self.path.is_dir():
            raise ImportFormatError(self.path, None, "expected a JSON Lines file, not a folder")
        self.progress.total = self.path.stat().st_size
        first = True
        with self.path.open("rb") as binary:
            unreported = 0
            for number, raw_line in enumerate(binary, start=1):
                unreported += len(raw_line)
                if number % PROGRESS_EVERY == 0:
                    self.progress.advance(unreported)
                    unreported = 0
                location = f"{name} line {number}"
                try:
                    line = raw_line.decode(self.encoding)
                except UnicodeDecodeError as e:
                    yield reject(
                        location,
                        f"line {number}: expected text in {self.encoding} ({e.reason})",
                        raw_line.decode(self.encoding, "replace"),
                    )
                    continue
                line = line.strip()
                if not line:
                    continue
                if first and line.startswith("["):
                    raise ImportFormatError(
                        self.path,
                        f"line {number}",
                        "expected JSON Lines (one JSON object per line), not a JSON array",
                    )
                first = False
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    yield reject(
                        location,
                        f"line {number}: expected a JSON object (invalid JSON: {e.msg})",
                        line,
                    )
                    continue
                if not isinstance(row, dict):
                    yield reject(
                        location,
                        f"line {number}: expected a JSON object, got {_type_name(row)}",
                        line,
                    )
                    continue
                yield location, row, self._columns(row)
            self.progress.advance(unreported)

    def _columns(self, row: Row) -> dict[str, str]:
        """Field → key: the explicit mapping, then keys named like a field, in any case."""
        columns = {field: key for field, key in self.mapping.items() if key}
        lowered = {key.lower(): key for key in row if isinstance(key, str)}
        for field in FIELDS:
            if field not in self.mapping and field in lowered:
                columns[field] = lowered[field]
        if self.fixed_channel:
            columns.pop("channel", None)
        return columns

    def lookup(self, row: Row, column: str) -> Any:
        """A key of the object, or a dotted path into nested objects (author.name)."""
        if column in row:
            return row[column]
        value: Any = row
        for part in column.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value
