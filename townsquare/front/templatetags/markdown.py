"""Staff-written Markdown (notes, what members taught us) as safe HTML.

Markdown is rendered with raw HTML turned off, then sanitised with nh3 all the same: only
formatting tags survive, and links only to http, https and mailto addresses.
"""

from __future__ import annotations

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "a", "code", "pre", "em", "strong", "del", "ul", "ol", "li",
        "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener nofollow"

# "commonmark" with raw HTML off: a <script> in a note is shown as text, never run.
_renderer = MarkdownIt("commonmark", {"html": False, "breaks": True})


def render_markdown(text: str) -> str:
    return nh3.clean(
        _renderer.render(text),
        tags=set(ALLOWED_TAGS),
        attributes={"a": {"href"}, "ol": {"start"}},
        url_schemes=set(LINK_SCHEMES),
        link_rel=LINK_REL,
        # A relative link would point into Townsquare itself.
        url_relative="deny",
    )


@register.filter
def markdown(text: object) -> SafeString:
    """`{{ note.text|markdown }}`: the text rendered as Markdown, then sanitised."""
    if text is None:
        return mark_safe("")
    return mark_safe(render_markdown(str(text)))  # noqa: S308 - sanitised by nh3
