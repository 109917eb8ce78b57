"""Mailing-list archives in mbox format: one file or a folder of them, read message by message."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from io import BufferedIOBase
from pathlib import Path
from typing import Any

from townsquare.community.models import InteractionKind, Platform
from townsquare.connectors.base import Importer, ImportFormatError, reject
from townsquare.connectors.records import (
    ChannelRecord,
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)

# The envelope line that starts each message: "From <sender>  <asctime date>". A body line that
# merely starts with "From " (unescaped, as pipermail leaves them) has no time and year, so
# requiring both keeps such lines from splitting a message in two.
ENVELOPE = re.compile(rb"^From \S.*\d{1,2}:\d\d(:\d\d)?.*\d{4}\s*$")
# mboxrd escapes ">From " as ">>From ": undoing one level restores the original line.
ESCAPED_FROM = re.compile(rb"^>(>*From )")
# Mailman hides addresses as "user at example.com"; the R project's pipermail goes further,
# "user @end|ng |rom example@com" ("sending from"), and older archives "user m@iii@g oii ...".
AT_WORD = re.compile(r"\s+(?:at|@end\|ng\s+\|rom|m@iii@g\s+oii)\s+", re.IGNORECASE)
ANGLE_ID = re.compile(r"<([^<>\s]+)>")
SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|sv|antw|wg)\s*(?:\[\d+\])?\s*:\s*|\[[^\]]*\]\s*)+", re.IGNORECASE
)
PLAUSIBLE_EMAIL = re.compile(r"^[^@\s|<>()]+@[^@\s|<>()]+\.[^@\s|<>()]+$")
VIA_LIST = re.compile(r"^(?P<name>.+?)\s+via\s+\S+$", re.IGNORECASE)

FOLDED = re.compile(r"\r?\n[ \t]+")
ENVELOPE_DATE = re.compile(rb"[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}")
# A Content-Type the fast path reads exactly as the modern policy would: text/plain with plain
# name=value parameters (no folding, comments, escapes or RFC 2231 continuations).
SIMPLE_TEXT_TYPE = re.compile(
    r"^text/plain"
    r'(?:[ \t]*;[ \t]*[A-Za-z][A-Za-z0-9-]*=(?:"[A-Za-z0-9._:+-]+"|[A-Za-z0-9._:+-]+))*$',
    re.IGNORECASE,
)
CHARSET_PARAM = re.compile(r';[ \t]*charset="?([^";]+)', re.IGNORECASE)
SIMPLE_ENCODINGS = frozenset({"7bit", "8bit", "binary", "quoted-printable", "base64"})
# email.feedparser's own rules: headers run while lines look like one (its headerRE), and a
# blank line (a line ending alone) between them and the body is dropped.
HEADER_LINE = re.compile(rb"From |[\041-\071\073-\176]*:|[\t ]")
LINE_END = re.compile(rb"\r\n|\r|\n")

# Headers kept in an interaction's raw payload: enough to re-thread and re-attribute a message.
KEPT_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Date",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "List-Id",
)
KEPT_BY_LOWER = {h.lower(): h for h in KEPT_HEADERS}

# Only messages the fast path cannot read exactly (MIME structure, HTML, unusual parameters)
# go through the email package's parser: with policy.default it re-parses a header on every
# access (nine times per message for Content-Type alone), which made parsing the bulk of an
# import. The headers the importer uses are decoded explicitly instead.
MIME_PARSER = BytesParser(policy=policy.default)


@dataclass(frozen=True, slots=True)
class Address:
    external_id: str
    local_part: str
    email: str
    name: str


class MboxImporter(Importer):
    platform = Platform.MBOX
    options_help = {
        "list": "the list's name, for messages without a List-Id header "
        "(default: the folder's or the file's name)",
    }

    def records(self) -> Iterator[Record]:
        files = self._files()
        self.progress.total = sum(f.stat().st_size for f in files)
        default_list = self.options.get("list") or (
            self.path.name if self.path.is_dir() else _stem(self.path)
        )
        channels: set[str] = set()
        authors: set[str] = set()
        found_any = False
        for file in files:
            # A compressed file's messages are counted in uncompressed bytes: it advances at
            # its end instead, by its size on disk.
            compressed = file.name.endswith(".gz")
            with _open(file) as stream:
                if not _starts_like_mbox(stream):
                    if self.path.is_dir():
                        # Archive folders often hold a README or an index page too.
                        yield reject(file.name, "not an mbox file (no 'From ' line first); skipped")
                        self.progress.advance(file.stat().st_size)
                        continue
                    empty = " (the file is empty)" if file.stat().st_size == 0 else ""
                    raise ImportFormatError(
                        file, "line 1", f"expected an mbox file starting with a 'From ' line{empty}"
                    )
                found_any = True
                for index, (envelope, raw_bytes, size) in enumerate(_split(stream)):
                    location = f"{file.name}[{index}]"
                    yield from self._message(
                        envelope, raw_bytes, location, default_list, channels, authors
                    )
                    if not compressed:
                        self.progress.advance(size)
            if compressed:
                self.progress.advance(file.stat().st_size)
        if not found_any:
            raise ImportFormatError(
                self.path, None, "expected mbox files starting with a 'From ' line; found none"
            )

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        return sorted(f for f in self.path.iterdir() if f.is_file() and not f.name.startswith("."))

    def _message(
        self,
        envelope: bytes,
        raw_bytes: bytes,
        location: str,
        default_list: str,
        channels: set[str],
        authors: set[str],
    ) -> Iterator[Record]:
        items, body_bytes = _parse_head(raw_bytes)
        headers = _raw_headers(items)
        subject = _decoded(headers.get("Subject", ""))
        message_id = _first_id(headers.get("Message-ID", ""))
        raw: dict[str, Any] = {"headers": headers}
        if not message_id:
            # A stable id, so a re-import of the same archive finds the same row.
            seed = "\x1f".join(headers.get(h, "") for h in ("From", "Date", "Subject"))
            message_id = "sha1:" + hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
            raw["generated_id"] = "no Message-ID header: id made from From, Date and Subject"

        created_at, date_note = _date(headers.get("Date"), envelope)
        if created_at is None:
            bad = headers.get("Date")
            reason = f"message {message_id}: " + (
                f"unparseable Date {bad!r}" if bad else "no Date header and no envelope date"
            )
            yield reject(location, reason, _clean(raw_bytes[:2000].decode("utf-8", "replace")))
            return
        if date_note:
            raw["date_note"] = date_note

        author = _address(headers.get("From", ""), headers.get("Reply-To", ""))
        if author is None:
            yield reject(location, f"message {message_id}: no sender address in From", headers)
            return
        if author.external_id not in authors:
            authors.add(author.external_id)
            yield IdentityRecord(
                external_id=author.external_id,
                handle=author.local_part,
                display_name=author.name or author.local_part,
                email=author.email,
            )

        channel_id, channel_name = _list_id(headers.get("List-Id", "")) or (
            default_list,
            default_list,
        )
        if channel_id not in channels:
            channels.add(channel_id)
            yield ChannelRecord(external_id=channel_id, name=channel_name)

        references = ANGLE_ID.findall(headers.get("References", ""))
        in_reply_to = _first_id(headers.get("In-Reply-To", ""))
        parent_id = in_reply_to or (references[-1] if references else None)
        if parent_id == message_id:
            parent_id = None
        conversation_id = (references[0] if references else None) or parent_id or message_id
        if conversation_id == message_id:
            parent_id = None

        text, attachments = _body(items, body_bytes, raw_bytes)
        raw["body"] = text
        if attachments:
            raw["attachments"] = attachments
        if parent_id is None:
            yield ConversationRecord(
                external_id=message_id,
                started_at=created_at,
                title=SUBJECT_PREFIX.sub("", subject).strip()[:500],
                channel_id=channel_id,
            )
        yield InteractionRecord(
            external_id=message_id,
            kind=InteractionKind.REPLY if parent_id else InteractionKind.POST,
            created_at=created_at,
            author_id=author.external_id,
            channel_id=channel_id,
            conversation_id=conversation_id,
            parent_id=parent_id,
            text=text,
            raw=raw,
        )


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".mbox", ".txt"):
        name = name.removesuffix(suffix)
    return name or path.name


def _open(file: Path) -> BufferedIOBase:
    if file.name.endswith(".gz"):
        return gzip.open(file, "rb")
    return file.open("rb")


def _starts_like_mbox(stream: BufferedIOBase) -> bool:
    try:
        head = stream.peek(1024)[:1024] if hasattr(stream, "peek") else b""
    except (OSError, EOFError):
        return False
    first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(ENVELOPE.match(first))


def _split(stream: BufferedIOBase) -> Iterator[tuple[bytes, bytes, int]]:
    """(envelope line, message bytes, bytes read) of each message, one message in memory."""
    envelope = b""
    lines: list[bytes] = []
    size = 0
    previous_blank = True
    try:
        for line in stream:
            if previous_blank and line.startswith(b"From ") and ENVELOPE.match(line):
                if envelope:
                    yield envelope, b"".join(lines), size
                envelope, lines, size = line.rstrip(b"\r\n"), [], len(line)
                previous_blank = False
                continue
            size += len(line)
            previous_blank = not line.strip()
            lines.append(ESCAPED_FROM.sub(rb"\1", line) if line.startswith(b">") else line)
    except (OSError, EOFError) as e:
        raise ImportFormatError(
            getattr(stream, "name", "?"), None, f"expected a readable file ({e})"
        ) from None
    if envelope:
        yield envelope, b"".join(lines), size


def _parse_head(raw_bytes: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """(raw header items, body) of a message, as email.feedparser and compat32 make them:
    its raw_items() and its undecoded payload. The body is not walked line by line."""
    lines: list[bytes] = []
    body_start = pos = 0
    end = len(raw_bytes)
    while pos < end:
        line_end = LINE_END.search(raw_bytes, pos)
        next_line = line_end.end() if line_end else end
        if not HEADER_LINE.match(raw_bytes, pos):
            blank = line_end is not None and line_end.start() == pos
            body_start = next_line if blank else pos
            break
        lines.append(raw_bytes[pos:next_line])
        body_start = pos = next_line
    body = raw_bytes[body_start:]

    items: list[tuple[str, str]] = []
    value: list[bytes] = []  # the lines of the header being read, if any
    for number, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            if value:  # a continuation with no header before it is dropped
                value.append(line)
            continue
        if value:
            items.append(_header_item(value))
            value = []
        if line.startswith(b"From "):
            if number == len(lines) - 1 and number > 0:
                # The parser pushes a "From " line ending the headers back into the body.
                body = line + body
            # Elsewhere, the envelope (first) or a misplaced one: not a header.
            continue
        if not line.startswith(b":"):  # a line with no header name is dropped
            value = [line]
    if value:
        items.append(_header_item(value))
    return items, body


def _header_item(lines: list[bytes]) -> tuple[str, str]:
    name, first = lines[0].split(b":", 1)
    value = first.lstrip(b" \t") + b"".join(lines[1:])
    return (
        name.decode("ascii", "surrogateescape"),
        value.rstrip(b"\r\n").decode("ascii", "surrogateescape"),
    )


def _clean(text: str) -> str:
    """Text safe to store: undecodable bytes (kept as surrogates by the parser) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _raw_headers(items: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in items:
        key = KEPT_BY_LOWER.get(name.lower())
        if key and key not in found:
            found[key] = _clean(FOLDED.sub(" ", value).strip())
    return found


def _decoded(value: str) -> str:
    """A header's text with its RFC 2047 encoded words decoded, as far as they decode."""
    if "=?" not in value:
        # No encoded word: make_header(decode_header()) would return the text as it is.
        return value
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, ValueError, UnicodeError):
        pass
    # A word whose bytes do not match its declared charset: decode what can be decoded.
    try:
        parts = decode_header(value)
    except (LookupError, ValueError, UnicodeError):
        return value
    text = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            text.append(chunk)
            continue
        try:
            text.append(chunk.decode(charset or "ascii", "replace"))
        except LookupError:
            text.append(chunk.decode("latin-1"))
    return "".join(text)


def _first_id(value: str) -> str:
    match = ANGLE_ID.search(value)
    if match:
        return match.group(1)
    value = value.strip()
    return value if value and "@" in value and " " not in value else ""


def _date(value: str | None, envelope: bytes) -> tuple[datetime | None, str]:
    if value:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None, ""
        # RFC 5322 "-0000" means "zone unknown": UTC is the best guess.
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC), ""
    match = ENVELOPE_DATE.search(envelope)
    if match:
        # The envelope's asctime has no zone; mbox writers use UTC or local time.
        when = datetime.strptime(match.group(0).decode(), "%b %d %H:%M:%S %Y").replace(tzinfo=UTC)
        return when, "no Date header: time taken from the envelope line, as UTC"
    return None, ""


def _address(from_value: str, reply_to: str) -> Address | None:
    """The sender of a From header, in any of the forms list archives leave behind."""
    value = _decoded_outside_address(from_value)
    # Outlook's "List <bounces@...> on behalf of Real Sender <real@...>": the sender is last.
    parts = re.split(r"\s+on behalf of\s+", value, flags=re.IGNORECASE)
    value = parts[-1].strip()
    name = ""
    addr = ""
    angle = re.search(r"^(?P<name>.*?)\s*<(?P<addr>[^<>]+)>\s*$", value)
    if angle:
        name, addr = angle.group("name"), angle.group("addr")
    else:
        paren = re.search(r"^(?P<addr>[^()]*?)\s*(?:\((?P<name>.*)\))?\s*$", value)
        if paren:
            addr, name = paren.group("addr"), paren.group("name") or ""
    name = name.strip().strip('"').strip()
    addr = addr.strip().removeprefix("mailto:")
    at = AT_WORD.search(addr)
    if at:
        local, domain = addr[: at.start()], addr[at.end() :]
    elif "@" in addr:
        local, _, domain = addr.rpartition("@")
    else:
        return None
    local, domain = local.strip(), domain.strip().strip('"“”')
    if not local or not domain:
        return None
    via = VIA_LIST.match(name)
    external_id = f"{local}@{domain}".lower()
    if via:
        # DMARC rewriting puts the list's address in From: the person is in the name, and
        # their own address (when the list kept it) in Reply-To.
        name = via.group("name")
        own = _address(reply_to, "") if reply_to else None
        if own and own.external_id != external_id:
            return Address(own.external_id, own.local_part, own.email, name)
        external_id = f"{name.lower()} via {external_id}"
    if AT_WORD.sub("@", name).lower() == external_id:
        name = ""
    # Obfuscated archives (letters replaced by "|" and "@") give no usable address.
    email = external_id if PLAUSIBLE_EMAIL.match(external_id) else ""
    return Address(external_id=external_id, local_part=local, email=email, name=name)


def _decoded_outside_address(value: str) -> str:
    # Encoded words often sit inside "(...)" where decode_header does not look for them.
    return re.sub(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=", lambda m: _decoded(m.group(0)), value)


def _list_id(value: str) -> tuple[str, str] | None:
    match = ANGLE_ID.search(value)
    if not match:
        return None
    name = _decoded(value[: match.start()]).strip().strip('"').strip()
    return match.group(1), name or match.group(1)


def _body(
    items: list[tuple[str, str]], body_bytes: bytes, raw_bytes: bytes
) -> tuple[str, list[dict[str, str]]]:
    """The message's text (its plain part, else its HTML as text) and what it had attached."""
    text = _simple_text(items, body_bytes)
    if text is not None:
        return _clean(text), []
    return _mime_body(MIME_PARSER.parsebytes(raw_bytes))


def _simple_text(items: list[tuple[str, str]], body_bytes: bytes) -> str | None:
    """The text of a single-part text/plain message, exactly as policy.default's get_content()
    reads it; None when the message needs the full MIME reading."""
    content_types: list[str] = []
    encodings: list[str] = []
    for name, value in items:
        key = name.lower()
        if key == "content-type":
            content_types.append(value)
        elif key == "content-transfer-encoding":
            encodings.append(value)
        elif key == "content-disposition":
            return None
    if len(content_types) > 1 or len(encodings) > 1:
        return None
    charset = "ASCII"  # get_content()'s default, even for 8-bit bodies
    if content_types:
        content_type = content_types[0].strip()
        if not SIMPLE_TEXT_TYPE.match(content_type):
            return None
        found = CHARSET_PARAM.search(content_type)
        if found:
            charset = found.group(1)
    if encodings and encodings[0].lower() not in SIMPLE_ENCODINGS:
        return None
    # The body as the parser would have stored it, so that get_payload() undoes the transfer
    # encoding exactly as it would have (including its leniency with broken base64).
    message = Message()
    if encodings:
        message.set_raw("Content-Transfer-Encoding", encodings[0])
    message.set_payload(body_bytes.decode("ascii", "surrogateescape"))
    payload = message.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return None
    try:
        return payload.decode(charset, "replace")
    except (LookupError, ValueError, AssertionError, UnicodeError):
        # As _part_text: a charset Python does not know falls back to UTF-8.
        return payload.decode("utf-8", "replace")


def _mime_body(message: EmailMessage) -> tuple[str, list[dict[str, str]]]:
    text = ""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError, ValueError):
        part = None
    if isinstance(part, EmailMessage):
        text = _part_text(part)
        if part.get_content_subtype() == "html":
            text = _html_to_text(text)
    attachments: list[dict[str, str]] = []
    if message.is_multipart():
        for attachment in message.iter_attachments():
            if isinstance(attachment, EmailMessage):
                attachments.append(
                    {
                        "filename": _clean(attachment.get_filename() or ""),
                        "content_type": attachment.get_content_type(),
                    }
                )
    return _clean(text), attachments


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError, UnicodeError):
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", text)).strip()
