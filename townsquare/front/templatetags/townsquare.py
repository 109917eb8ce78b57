"""Template filters and tags for showing imported, untrusted text safely and readably."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import nh3
from django import template
from django.utils.dateformat import format as format_date
from django.utils.dates import MONTHS_3
from django.utils.html import escape, format_html, linebreaks, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from townsquare.connectors.models import ImportRun
from townsquare.lib.mail import own_words

register = template.Library()

# Shown for a missing date or duration.
NOTHING = "\u2013"

# Platforms whose text is HTML: it is sanitised, everything else is escaped as plain text.
HTML_PLATFORMS = frozenset({"stackexchange", "mastodon"})
MAIL_PLATFORM = "mbox"
ALLOWED_TAGS = frozenset(
    {"p", "br", "a", "code", "pre", "em", "strong", "ul", "ol", "li", "blockquote"}
)
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener nofollow"

# Slack's markup: <@U123|name>, <@U123>, <#C123|general>, <!here>, <https://x|label>, <https://x>
SLACK_TOKEN = re.compile(r"<([@#!]|(?:https?|mailto):)([^<>\n]*)>")


def http_url_or_empty(url: object) -> str:
    """The URL if it is an absolute http(s) URL, else "" (never a javascript: or data: link)."""
    if not isinstance(url, str):
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return ""


@register.filter
def http_url(url: object) -> str:
    """Use as `{% with url=x|http_url %}{% if url %}<a href="{{ url }}">...`."""
    return http_url_or_empty(url)


def _sanitise_html(text: str) -> str:
    return nh3.clean(
        text,
        tags=set(ALLOWED_TAGS),
        attributes={"a": {"href"}},
        url_schemes=set(LINK_SCHEMES),
        link_rel=LINK_REL,
        # A relative link in imported HTML would point into Townsquare itself.
        url_relative="deny",
    )


def _slack_unescape(text: str) -> str:
    # Slack escapes these three characters in message text; undo it so they are escaped once.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_piece(text: str, platform: str) -> str:
    if platform == "slack":
        text = _slack_unescape(text)
    return urlize(text, nofollow=True, autoescape=True)


def _slack_token(sigil: str, body: str, platform: str) -> str:
    target, _, label = body.partition("|")
    if platform == "slack":
        target, label = _slack_unescape(target), _slack_unescape(label)
    if sigil in ("@", "#"):
        return str(escape(f"{sigil}{label or target}"))
    if sigil == "!":
        # <!here>, <!channel>, <!subteam^S123|@team>
        return str(escape(label or f"@{target}"))
    url = sigil + target
    if sigil == "mailto:":
        return str(format_html('<a href="{}">{}</a>', url, label or target))
    if http_url_or_empty(url):
        return str(format_html('<a href="{}" rel="{}">{}</a>', url, LINK_REL, label or url))
    return str(escape(label or url))


def _plain_to_html(text: str, platform: str) -> str:
    parts: list[str] = []
    position = 0
    for match in SLACK_TOKEN.finditer(text):
        parts.append(_plain_piece(text[position : match.start()], platform))
        parts.append(_slack_token(match.group(1), match.group(2), platform))
        position = match.end()
    parts.append(_plain_piece(text[position:], platform))
    # Every part is escaped already: only paragraphs and line breaks are added here.
    return linebreaks("".join(parts), autoescape=False)


@register.filter
def render_body(text: object, platform: str = "") -> SafeString:
    """Imported text as safe HTML: sanitised when the platform gives HTML, escaped otherwise."""
    if text is None:
        return mark_safe("")
    value = str(text)
    if platform not in HTML_PLATFORMS:
        html = _plain_to_html(value, platform)
        if platform == MAIL_PLATFORM:
            html = _with_quotes_folded(value, html, platform)
    else:
        html = _sanitise_html(value)
    return mark_safe(html)  # noqa: S308 - sanitised by nh3 or built from escaped parts


def _with_quotes_folded(mail: str, whole: str, platform: str) -> str:
    """A mail shown by its own words, the whole of it (quotes and signature) one click away:
    replies quote the thread above them, which reads again and again down a conversation."""
    own = own_words(mail).strip()
    if not own or own == mail.strip():
        return whole
    # Both parts are HTML built from escaped text (_plain_to_html).
    return (
        _plain_to_html(own, platform)
        + '<details class="mail-quoted"><summary>Whole mail, with what it quotes</summary>'
        + whole
        + "</details>"
    )


def _slack_token_text(sigil: str, body: str) -> str:
    target, _, label = body.partition("|")
    if sigil in ("@", "#"):
        return f"{sigil}{label or target}"
    if sigil == "!":
        return label or f"@{target}"
    return label or sigil + target


@register.filter
def readable(text: object, platform: str = "") -> str:
    """One line of imported text (a title) as plain text, Slack's markup made readable. The
    result is not marked safe: the template escapes it."""
    value = str(text or "")
    if platform == "slack":
        value = _slack_unescape(value)
    elif platform == MAIL_PLATFORM:  # a mail's excerpt starts with its own words
        value = own_words(value) or value
    return SLACK_TOKEN.sub(lambda m: _slack_token_text(m.group(1), m.group(2)), value)


# The reactions people use most, by the names Slack and Discord give them.
EMOJI = {
    "+1": "\U0001f44d",
    "thumbsup": "\U0001f44d",
    "-1": "\U0001f44e",
    "thumbsdown": "\U0001f44e",
    "heart": "\u2764\ufe0f",
    "smile": "\U0001f604",
    "simple_smile": "\U0001f642",
    "slightly_smiling_face": "\U0001f642",
    "laughing": "\U0001f606",
    "joy": "\U0001f602",
    "tada": "\U0001f389",
    "clap": "\U0001f44f",
    "pray": "\U0001f64f",
    "eyes": "\U0001f440",
    "fire": "\U0001f525",
    "100": "\U0001f4af",
    "raised_hands": "\U0001f64c",
    "white_check_mark": "\u2705",
    "heavy_check_mark": "\u2714\ufe0f",
    "rocket": "\U0001f680",
    "thinking_face": "\U0001f914",
    "wave": "\U0001f44b",
    "ok_hand": "\U0001f44c",
    "star": "\u2b50",
    "sunglasses": "\U0001f60e",
    "wink": "\U0001f609",
    "cry": "\U0001f622",
    "confused": "\U0001f615",
    "grinning": "\U0001f600",
    "muscle": "\U0001f4aa",
}


@register.filter
def emoji(name: object) -> str:
    """The emoji character for a reaction's name, or "" when we do not know it."""
    return EMOJI.get(str(name), "")


@register.simple_tag
def when(value: datetime | None, fmt: str = "j M Y, H:i") -> str:
    """A <time> element, or an en dash for no date."""
    if value is None:
        return NOTHING
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        value.isoformat(),
        # By hand: Django's formatter costs ten times as much, and a list page shows a hundred
        # dates (strftime drops the zeros of a year before 1000).
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f" {value.hour:02d}:{value.minute:02d}:{value.second:02d}",
        _shown_date(value, fmt),
    )


# The letters of Django's date format that `_shown_date` writes itself (all the pages use).
_QUICK_FORMAT = frozenset("jMYHi")
_FORMAT_LETTER = re.compile(r"[A-Za-z\\]")


def _shown_date(value: datetime, fmt: str) -> str:
    """`format_date(value, fmt)`, written directly for the formats made of day, month name,
    year, hour and minute: Django's formatter builds an object and looks the month name up
    for every date (60-70 dates on a member page)."""
    if not _quick(fmt):
        return format_date(value, fmt)
    months = _month_names(get_language() or "")
    parts = {
        "j": str(value.day),
        "M": months[value.month],
        "Y": f"{value.year:04d}",
        "H": f"{value.hour:02d}",
        "i": f"{value.minute:02d}",
    }
    return "".join(parts.get(c, c) for c in fmt)


@lru_cache(maxsize=64)
def _quick(fmt: str) -> bool:
    return all(letter in _QUICK_FORMAT for letter in _FORMAT_LETTER.findall(fmt))


@lru_cache(maxsize=32)
def _month_names(language: str) -> tuple[str, ...]:
    """Django's three-letter month names ("M") in the active language, Jan at 1."""
    return ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))


@register.filter
def duration(value: timedelta | None) -> str:
    if value is None:
        return NOTHING
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


@register.filter
def first_line(value: object, limit: int = 120) -> str:
    text = str(value or "").strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@register.filter
def outcome_count(run: ImportRun, outcome: str) -> int:
    """Records a run created, updated or left unchanged, all kinds together."""
    return run.count(outcome)


@register.filter
def alike_together(reasons: Iterable[Any]) -> list[tuple[Any, int]]:
    """Each reason with how many of its rule say the very same words, in first-seen order: six
    flagged messages in one place read as one line "…× 6", not six identical lines."""
    counts: dict[tuple[str, str], list[Any]] = {}
    for reason in reasons:
        key = (str(reason.rule), str(reason.detail))
        if key in counts:
            counts[key][1] += 1
        else:
            counts[key] = [reason, 1]
    return [(reason, n) for reason, n in counts.values()]
