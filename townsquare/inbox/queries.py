"""What the inbox pages read: the awaiting conversations, filtered, in two queries a page (the
count, on the rollup's index, and the rows, with everything a row shows joined in)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.functions import Substr

from townsquare.community.models import Conversation, Source
from townsquare.front import queries as front_queries
from townsquare.inbox.forms import AGES, InboxFilters
from townsquare.inbox.models import Claim, ConversationState
from townsquare.lib.mail import own_words
from townsquare.listening.pipeline import HTML_PLATFORMS, MAIL_PLATFORMS, html_to_text
from townsquare.moderation.visibility import message_hidden

# The first message's text is read this far for the excerpt: a pasted log stays in the database.
EXCERPT_READ = 600
EXCERPT_LENGTH = 200
# Filtered lists are counted this far: 20 pages, more than anyone reads in an inbox.
COUNT_CAP = 1000
# A tag cut by EXCERPT_READ, left open at the end.
_OPEN_TAG = re.compile(r"<[^>]*$")


def awaiting(f: InboxFilters, *, user_id: int | None, now: datetime) -> QuerySet[ConversationState]:
    """Conversations awaiting a reply, as the filters choose them, oldest first (or newest)."""
    qs = ConversationState.objects.filter(awaiting_reply=True)
    if f.source is not None:
        qs = qs.filter(source_id=f.source)
    if f.channel is not None:
        qs = qs.filter(channel_id=f.channel)
    if f.platform:
        qs = qs.filter(source_id__in=Source.objects.filter(platform=f.platform).values("id"))
    if f.language:
        qs = qs.filter(language=f.language)
    if f.sentiment:
        qs = qs.filter(sentiment=f.sentiment)
    if f.age in AGES:
        qs = qs.filter(opened_at__lte=now - AGES[f.age][1])
    if f.question:
        qs = qs.filter(is_question=True)
    if f.claim == "mine":
        # The user's few claims, as a list: looked up by primary key, where a subquery would
        # be checked against every waiting conversation.
        mine = Claim.objects.filter(user_id=user_id or 0).values_list("conversation_id", flat=True)
        qs = qs.filter(conversation_id__in=list(mine))
    elif f.claim == "unclaimed":
        qs = qs.filter(conversation__claim__isnull=True)
    order = ["-opened_at", "-conversation_id"] if f.sort == "newest" else ["opened_at", "pk"]
    return qs.order_by(*order)


def with_rows(states: QuerySet[ConversationState]) -> QuerySet[ConversationState]:
    """The states with everything a row of the list shows, in the same query; `first_hidden`:
    a moderator hid the first message, so its title, excerpt and labels are hidden too."""
    return states.select_related(
        "conversation", "source", "channel", "opened_by", "conversation__claim__user"
    ).annotate(
        excerpt_text=Substr("first_message__text", 1, EXCERPT_READ),
        first_hidden=message_hidden("first_message_id"),
    )


class InboxPaginator(Paginator[ConversationState]):
    """Pages of `with_rows(states)`, counted on the bare `states` (the joins a row needs would
    make the count read every waiting conversation's first message). Unless `exact`, the count
    stops at COUNT_CAP, and `more` says there are more: a filter that the index cannot serve
    would otherwise read every waiting conversation to count them."""

    def __init__(self, states: QuerySet[ConversationState], per_page: int, *, exact: bool) -> None:
        super().__init__(with_rows(states), per_page)
        self.states = states
        self.exact = exact
        self.more = False

    @cached_property
    def count(self) -> int:
        if self.exact:
            return self.states.count()
        found = self.states.order_by()[: COUNT_CAP + 1].count()
        self.more = found > COUNT_CAP
        return min(found, COUNT_CAP)


def counts_exactly(f: InboxFilters) -> bool:
    """Whether the index alone can count what these filters choose (waiting, and how long)."""
    return set(f.params()) <= {"age", "sort"}


def awaiting_count() -> int:
    return ConversationState.objects.filter(awaiting_reply=True).count()


def excerpt(text: str, platform: str) -> str:
    """The start of a message as one line of plain text (the template escapes it)."""
    if platform in HTML_PLATFORMS:
        text = html_to_text(_OPEN_TAG.sub("", text))
    elif platform in MAIL_PLATFORMS:
        text = own_words(text) or text
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT_LENGTH else line[: EXCERPT_LENGTH - 1] + "…"


def claim_of(conversation: Conversation) -> Claim | None:
    """The conversation's claim as select_related left it (or loads it: one query)."""
    try:
        return conversation.claim
    except Claim.DoesNotExist:
        return None


def prepare_rows(rows: Iterable[ConversationState]) -> list[ConversationState]:
    """Give each row of a page its `excerpt` and `holder` (the claim), and the titles' bare
    mentions their names: no query, or one when a title mentions someone."""
    items = list(rows)
    front_queries.name_mentions([item.conversation for item in items], "title")
    for item in items:
        item.excerpt = excerpt(getattr(item, "excerpt_text", "") or "", item.source.platform)  # type: ignore[attr-defined]
        item.holder = claim_of(item.conversation)  # type: ignore[attr-defined]
    return items
