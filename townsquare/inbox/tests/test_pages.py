"""The inbox pages: what the list shows and how it filters, query counts that do not grow with
rows, imported text escaped, the nav's count, and the member card."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.community import memory
from townsquare.community.models import Channel, Conversation, InteractionKind, Source
from townsquare.front.member_card import member_card
from townsquare.inbox import services
from townsquare.inbox.rollup import refresh_states
from townsquare.inbox.tests.conftest import Community
from townsquare.people.models import EngagementScore

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]
ROW = re.compile(r'<tr class="inbox-row">.*?<a href="/inbox/\d+/">([^<]*)</a>', re.DOTALL)


def _titles(client: Client, **params: Any) -> list[str]:
    response = client.get(reverse("inbox"), params)
    assert response.status_code == 200
    return ROW.findall(response.content.decode())


@pytest.fixture
def inbox(community: Community, bob: User, dora: User) -> dict[str, Conversation]:
    """Five conversations from an hour to ten days old, one answered; two sources."""
    now = timezone.now()
    ada, ben, cy = community.member("Ada"), community.member("Ben"), community.member("Cy")
    talks: dict[str, Conversation] = {}

    def talk(title: str, age: timedelta, **labels: Any) -> Conversation:
        item = community.conversation(title, at=now - age)
        first = community.say(item, ada, 0, text=f"{title}, in more words")
        if labels:
            community.label(first, **labels)
        talks[title] = item
        return item

    talk("Ten days", timedelta(days=10), language="de", sentiment_label="negative")
    talk("Two days", timedelta(days=2), is_question=True, language="en")
    talk("Three hours", timedelta(hours=3), sentiment_label="positive")
    talk("Five minutes", timedelta(minutes=5), is_question=True, sentiment_label="neutral")
    answered = talk("Answered", timedelta(days=1))
    community.say(answered, ben, 10, kind=InteractionKind.REPLY)
    forum = Source.objects.create(name="forum", platform="discord")
    lounge = Channel.objects.create(source=forum, external_id="L", name="lounge")
    elsewhere = Conversation.objects.create(
        source=forum, channel=lounge, external_id="x", title="On Discord", started_at=now
    )
    community.say(elsewhere, cy, 0)
    talks["On Discord"] = elsewhere
    refresh_states()
    services.do_claim(conversation=talks["Two days"], user=bob)
    services.do_claim(conversation=talks["Three hours"], user=dora)
    return talks


def test_it_lists_what_awaits_a_reply_oldest_first(
    bob_client: Client, inbox: dict[str, Conversation]
) -> None:
    assert _titles(bob_client) == [
        "Ten days",
        "Two days",
        "Three hours",
        "Five minutes",
        "On Discord",
    ]
    assert _titles(bob_client, sort="newest")[0] == "On Discord"
    page = bob_client.get(reverse("inbox")).content.decode()
    assert "5 conversations waiting for a reply" in page
    assert "Ten days, in more words" in page  # the first message's excerpt
    assert '<a href="/members/' in page  # the opener, linked


@pytest.mark.parametrize(
    ("params", "titles"),
    [
        ({"platform": "discord"}, ["On Discord"]),
        ({"language": "de"}, ["Ten days"]),
        ({"sentiment": "negative"}, ["Ten days"]),
        ({"sentiment": "positive"}, ["Three hours"]),
        ({"age": "1h"}, ["Ten days", "Two days", "Three hours"]),
        ({"age": "24h"}, ["Ten days", "Two days"]),
        ({"age": "7d"}, ["Ten days"]),
        ({"question": "on"}, ["Two days", "Five minutes"]),
        ({"claim": "mine"}, ["Two days"]),
        ({"claim": "unclaimed"}, ["Ten days", "Five minutes", "On Discord"]),
        ({"question": "on", "claim": "unclaimed"}, ["Five minutes"]),
        ({"age": "nonsense", "sentiment": "angry", "source": "x"}, None),  # ignored
    ],
)
def test_it_filters(
    bob_client: Client,
    inbox: dict[str, Conversation],
    params: dict[str, str],
    titles: list[str] | None,
) -> None:
    assert _titles(bob_client, **params) == (titles or _titles(bob_client))


def test_it_filters_by_channel_within_a_source(
    bob_client: Client, inbox: dict[str, Conversation], community: Community
) -> None:
    forum = Source.objects.get(name="forum")
    lounge = forum.channels.get()
    assert _titles(bob_client, source=forum.pk) == ["On Discord"]
    assert _titles(bob_client, source=forum.pk, channel=lounge.pk) == ["On Discord"]
    assert len(_titles(bob_client, source=community.source.pk, channel=community.channel.pk)) == 4
    # A channel of another source is no channel of this one: the filter is dropped.
    assert len(_titles(bob_client, source=community.source.pk, channel=lounge.pk)) == 4
    page = bob_client.get(reverse("inbox"), {"source": forum.pk}).content.decode()
    assert f'<option value="{lounge.pk}">#lounge</option>' in page


def test_htmx_gets_only_the_results(bob_client: Client, inbox: dict[str, Conversation]) -> None:
    response = bob_client.get(
        reverse("inbox"),
        {"age": "7d"},
        headers={"HX-Request": "true", "HX-Target": "inbox-results"},
    )
    html = response.content.decode()
    assert html.startswith('<div id="inbox-results"')
    assert 'class="filters"' not in html
    assert ROW.findall(html) == ["Ten days"]


def test_the_query_count_does_not_grow_with_rows(
    community: Community,
    bob_client: Client,
    bob: User,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    ada = community.member("Ada")
    for rows in (3, 60):
        while Conversation.objects.count() < rows:
            talk = community.conversation(f"Question {Conversation.objects.count()}")
            community.say(talk, ada, 0)
            if talk.pk % 2:
                services.do_claim(conversation=talk, user=bob)
        refresh_states()
        # session, user, the manager's role, sources for the filter, count, the page with its
        # opener, channel, source, first message excerpt and claim with its holder
        with django_assert_num_queries(6):
            titles = _titles(bob_client)
        assert len(titles) == min(rows, 50)
    # choosing a source lists its channels (1), "claimed by me" reads the user's claims (1)
    with django_assert_num_queries(8):
        assert len(_titles(bob_client, source=community.source.pk, claim="mine")) == 30
    # a filter the index cannot count alone is counted up to COUNT_CAP
    with django_assert_num_queries(6):
        assert len(_titles(bob_client, claim="unclaimed")) == 30


def test_it_escapes_imported_text(community: Community, bob_client: Client) -> None:
    hostile = "<script>alert(1)</script>"
    person = community.member(f"Eve {hostile}")
    talk = community.conversation(f"Title {hostile}")
    community.say(talk, person, 0, text=f"Body {hostile}")
    refresh_states()
    memory.do_add_note(member=person, author=User.objects.get(username="bob"), text=hostile)
    for url in (reverse("inbox"), reverse("inbox_conversation", args=[talk.pk])):
        page = bob_client.get(url).content.decode()
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_conversation_page_shows_the_thread_and_the_openers_card(
    community: Community, bob_client: Client, bob: User
) -> None:
    ada, ben = community.member("Ada Lovelace"), community.member("Ben")
    ada.do_not_contact = True
    ada.save()
    talk = community.conversation("Slides?")
    community.say(talk, ada, 0, text="Where are the slides?")
    community.say(talk, ada, 2, kind=InteractionKind.REPLY, text="Anyone?")
    refresh_states()
    memory.do_tag_members(members=[ada], tag_name="speaker", actor=bob)
    page = bob_client.get(reverse("inbox_conversation", args=[talk.pk])).content.decode()
    assert "Where are the slides?" in page and "Anyone?" in page
    assert 'class="panel member-card"' in page
    assert "Do not contact." in page
    assert "@ada.lovelace" in page
    assert 'class="chip tag-chip">speaker<' in page
    assert f'href="/members/{ada.pk}/"' in page
    assert "Waiting for a reply for" in page
    assert "Townsquare cannot post replies yet" in page
    community.say(talk, ben, 90, kind=InteractionKind.REPLY)
    refresh_states()
    page = bob_client.get(reverse("inbox_conversation", args=[talk.pk])).content.decode()
    assert "First response 1\xa0hour, 30\xa0minutes after it started" in page


def test_the_nav_shows_the_count_after_the_page(
    community: Community, bob_client: Client, client: Client, vera: User
) -> None:
    for _ in range(3):
        community.say(community.conversation(), community.member(f"M{_}"), 0)
    refresh_states()
    home = bob_client.get(reverse("inbox")).content.decode()
    assert f'hx-get="{reverse("inbox_count")}"' in home
    count = bob_client.get(reverse("inbox_count")).content.decode()
    assert count.startswith('<span class="nav-count">3<')
    client.force_login(vera)
    assert client.get(reverse("inbox_count")).status_code == 200


def test_the_member_card_costs_seven_queries(
    community: Community, bob: User, django_assert_num_queries: AssertNumQueries
) -> None:
    ada = community.member("Ada")
    talk = community.conversation()
    for n in range(8):
        message = community.say(talk, ada, n, text=f"Message {n}")
        community.label(message, language="fr" if n < 6 else "en")
        memory.do_add_note(member=ada, author=bob, text=f"Note {n}")
        memory.do_log_touchpoint(
            member=ada,
            staff=bob,
            happened_at=timezone.now() - timedelta(days=n),
            channel="call",
            reason=f"Reason {n}",
            outcome="",
        )
        memory.do_tag_members(members=[ada], tag_name=f"tag {n}", actor=bob)
    community.say(talk, ada, 9, kind=InteractionKind.REACTION, text="+1")
    EngagementScore.objects.create(
        member=ada, score=3.0, level="active", explanation={}, computed_at=timezone.now()
    )
    # The message count and the latest messages' languages are two queries: one index each.
    with django_assert_num_queries(7):
        card = member_card(ada)
    assert card["message_count"] == 8
    assert [(x.code, x.percent) for x in card["languages"]] == [("fr", 75), ("en", 25)]
    assert [n.text for n in card["notes"]] == ["Note 7", "Note 6", "Note 5"]
    assert [t.reason for t in card["touchpoints"]] == ["Reason 0", "Reason 1", "Reason 2"]
    assert len(card["tags"]) == 8
    assert card["engagement"].level == "active"
    assert card["platforms"] == ["Slack"]


def test_the_member_card_follows_a_merge(community: Community) -> None:
    ada, other = community.member("Ada"), community.member("Ada 2")
    other.merged_into = ada
    other.save()
    assert member_card(other)["member"] == ada


def test_a_filtered_list_is_counted_up_to_a_cap(
    bob_client: Client, inbox: dict[str, Conversation], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("townsquare.inbox.queries.COUNT_CAP", 2)
    monkeypatch.setattr("townsquare.inbox.views.PAGE_SIZE", 1)
    page = bob_client.get(reverse("inbox"), {"claim": "unclaimed"}).content.decode()
    assert "More than 2 conversations waiting for a reply: the first 2 are listed" in page
    assert "Page 1 of 2" in page
    # Without filters (or only by age), the index counts them all.
    page = bob_client.get(reverse("inbox"), {"age": "1h"}).content.decode()
    assert "3 conversations waiting for a reply" in page
    assert "Page 1 of 3" in page
