"""The team's memory of a member: notes, touchpoints, what they taught us, tags, custom fields.

Views and commands write through these `do_*` functions; who may call them is decided by the
caller (see `front.access`). A member merged into another or erased takes no new memory: the
caller is told to write on the surviving profile instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

import nh3
from django.contrib.auth.models import User
from django.db import transaction

from townsquare.community.models import (
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Tag,
    Touchpoint,
)

# Platforms whose message text is HTML rather than plain text.
HTML_PLATFORMS = frozenset({"stackexchange", "mastodon"})
TITLE_LENGTH = KnowledgeEntry._meta.get_field("title").max_length or 300
URL_LENGTH = KnowledgeEntry._meta.get_field("url").max_length or 500
TAG_LENGTH = Tag._meta.get_field("name").max_length or 100
CHANNEL_LENGTH = Touchpoint._meta.get_field("channel").max_length or 100
FIELD_NAME_LENGTH = 100
FIELD_VALUE_LENGTH = 1000

URL_IN_TEXT = re.compile(r"""https?://[^\s<>|"'`]+""", re.IGNORECASE)
# Slack's markup: <@U123|name>, <#C123|general>, <!here>, <https://x|label>
SLACK_TOKEN = re.compile(r"<([@#!]|(?:https?|mailto):)([^<>\n]*)>")


def _writable(member: Member) -> None:
    if member.merged_into_id is not None:
        raise ValueError("This member was merged into another: write on that member's profile.")
    if member.erased_at is not None:
        raise ValueError("This member's personal data was erased.")


def _required(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise ValueError(f"The {what} is empty.")
    return text


def http_url(url: str) -> str:
    """The URL when it is an absolute http(s) one, "" when empty; anything else is refused."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("A link must start with http:// or https://.")
    if len(url) > URL_LENGTH:
        raise ValueError(f"A link is at most {URL_LENGTH} characters.")
    return url


def do_add_note(*, member: Member, author: User, text: str) -> Note:
    _writable(member)
    return Note.objects.create(member=member, author=author, text=_required(text, "note"))


def do_edit_note(*, note: Note, text: str) -> Note:
    note.text = _required(text, "note")
    note.save(update_fields=["text", "updated_at"])
    return note


def do_delete_note(*, note: Note) -> None:
    note.delete()


def do_log_touchpoint(
    *,
    member: Member,
    staff: User,
    happened_at: datetime,
    channel: str,
    reason: str,
    outcome: str,
    interaction: Interaction | None = None,
) -> Touchpoint:
    _writable(member)
    if happened_at.tzinfo is None:
        raise ValueError("A touchpoint's time must be timezone-aware.")
    channel = " ".join(channel.split())
    if len(channel) > CHANNEL_LENGTH:
        raise ValueError(f"A channel is at most {CHANNEL_LENGTH} characters.")
    if interaction is not None and interaction.member_id != member.pk:
        raise ValueError("That message is not this member's.")
    return Touchpoint.objects.create(
        member=member,
        staff=staff,
        happened_at=happened_at,
        channel=channel,
        reason=reason.strip(),
        outcome=outcome.strip(),
        interaction=interaction,
    )


def _title(title: str) -> str:
    title = " ".join(_required(title, "title").split())
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    return title


def do_add_knowledge(
    *,
    member: Member,
    created_by: User,
    title: str,
    url: str = "",
    note: str = "",
    interaction: Interaction | None = None,
) -> KnowledgeEntry:
    """Something the member taught us, credited to them (and to their message, if any)."""
    _writable(member)
    if interaction is not None and interaction.member_id != member.pk:
        raise ValueError("That message is not this member's.")
    return KnowledgeEntry.objects.create(
        member=member,
        created_by=created_by,
        title=_title(title),
        url=http_url(url),
        note=note.strip(),
        interaction=interaction,
    )


def do_edit_knowledge(*, entry: KnowledgeEntry, title: str, url: str, note: str) -> KnowledgeEntry:
    entry.title = _title(title)
    entry.url = http_url(url)
    entry.note = note.strip()
    entry.save(update_fields=["title", "url", "note"])
    return entry


def do_delete_knowledge(*, entry: KnowledgeEntry) -> None:
    entry.delete()


def _slack_readable(match: re.Match[str], *, addresses: bool) -> str:
    sigil, body = match.group(1), match.group(2)
    target, _, label = body.partition("|")
    if sigil in ("@", "#"):
        return f"{sigil}{label or target}"
    if sigil == "!":
        return label or f"@{target}"
    # A link reads as its label; when looking for addresses, as its address.
    return sigil + target if addresses else label or sigil + target


def _plain_text(interaction: Interaction, platform: str) -> tuple[str, str]:
    """The message as plain text to read a title from, and as text to find addresses in
    (they differ where a platform's markup hides a link's address behind its label)."""
    text = interaction.text or ""
    if platform in HTML_PLATFORMS:
        # Paragraph and line-break tags end a line; every other tag goes.
        hrefs = " ".join(re.findall(r"""(?i)href\s*=\s*["']([^"']+)["']""", text))
        text = re.sub(r"(?i)<\s*(br|/p|/li|/div|/h\d)\b[^>]*>", "\n", text)
        plain = html.unescape(nh3.clean(text, tags=set()))
        return plain, f"{html.unescape(hrefs)} {plain}"
    if platform == "slack":
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        return (
            SLACK_TOKEN.sub(lambda m: _slack_readable(m, addresses=False), text),
            SLACK_TOKEN.sub(lambda m: _slack_readable(m, addresses=True), text),
        )
    return text, text


def message_title_and_link(interaction: Interaction, platform: str = "") -> tuple[str, str]:
    """A knowledge entry's first draft from a message: its first non-empty line as the title
    (the link itself when the line has nothing else) and the first web address in it."""
    text, with_addresses = _plain_text(interaction, platform)
    link = ""
    for match in URL_IN_TEXT.finditer(with_addresses):
        candidate = match.group(0).rstrip(".,;:!?)]}*_'\"")
        if len(candidate) <= URL_LENGTH and urlsplit(candidate).netloc:
            link = candidate
            break
    title = ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            title = line
            break
    if not title:
        title = link or "A message"
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    return title, link


def do_add_knowledge_from_message(*, interaction: Interaction, created_by: User) -> KnowledgeEntry:
    """The one-click "taught us something": credited to the message's author, titled with the
    message's first line, linked to the first address in it. Staff edit it afterwards. A second
    click on the same message finds the entry the first one made."""
    existing = KnowledgeEntry.objects.filter(interaction=interaction).order_by("id").first()
    if existing is not None:
        return existing
    if interaction.member is None:
        raise ValueError("This message has no known author to credit.")
    title, link = message_title_and_link(interaction, interaction.source.platform)
    return do_add_knowledge(
        member=interaction.member,
        created_by=created_by,
        title=title,
        url=link,
        interaction=interaction,
    )


def normalize_tag_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValueError("A tag needs a name.")
    if len(name) > TAG_LENGTH:
        raise ValueError(f"A tag's name is at most {TAG_LENGTH} characters.")
    return name


@transaction.atomic
def do_tag_members(*, members: Iterable[Member], tag_name: str, actor: User) -> Tag:
    """Tag every member given with the tag of that name (letter case aside), created if new.
    A member already tagged keeps the original who and when."""
    name = normalize_tag_name(tag_name)
    people = list(members)
    for person in people:
        _writable(person)
    tag = Tag.objects.filter(name__iexact=name).order_by("id").first()
    if tag is None:
        tag = Tag.objects.create(name=name)
    MemberTag.objects.bulk_create(
        [MemberTag(member=person, tag=tag, added_by=actor) for person in people],
        ignore_conflicts=True,
    )
    return tag


def do_untag_member(*, member: Member, tag: Tag) -> None:
    """Remove the tag from this member; the tag stays, for the other members who carry it."""
    MemberTag.objects.filter(member=member, tag=tag).delete()


def normalize_field_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValueError("A field needs a name.")
    if len(name) > FIELD_NAME_LENGTH:
        raise ValueError(f"A field's name is at most {FIELD_NAME_LENGTH} characters.")
    return name


@transaction.atomic
def do_set_custom_field(*, member: Member, name: str, value: str | None) -> None:
    """Set one custom field ("company" -> "Acme"); an empty value removes the field. The row is
    locked while it changes, so two people editing different fields both keep their change."""
    _writable(member)
    name = normalize_field_name(name)
    value = (value or "").strip()
    if len(value) > FIELD_VALUE_LENGTH:
        raise ValueError(f"A field's value is at most {FIELD_VALUE_LENGTH} characters.")
    locked = Member.objects.select_for_update().only("id", "custom_fields").get(pk=member.pk)
    fields = dict(locked.custom_fields or {})
    if value:
        fields[name] = value
    else:
        fields.pop(name, None)
    Member.objects.filter(pk=member.pk).update(custom_fields=fields)
    member.custom_fields = fields
