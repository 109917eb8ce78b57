"""The member page's portrait and its timeline filters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from townsquare.community.engagement import refresh_engagement
from townsquare.community.models import Channel, Interaction, InteractionKind, Member
from townsquare.community.tests.profile_exports import portrait_community
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.front.queries import member_timeline
from townsquare.lib.testing import import_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tmp_path: Path) -> dict[str, Member]:
    portrait_community(tmp_path / "portrait")
    return {m.display_name.lower(): m for m in Member.objects.all()}


def _page(client: Client, member: Member, **params: str) -> str:
    response = client.get(reverse("member", args=[member.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_what_the_member_cares_about_and_knows(
    alice_client: Client, people: dict[str, Member]
) -> None:
    ada, bob = people["ada"], people["bob"]
    page = _page(alice_client, ada)
    assert 'id="interests-title"' in page
    assert "<strong>kubernetes</strong>" in page
    example = Interaction.objects.get(member=ada, text__startswith="Kubernetes is great")
    assert f"{reverse('conversation', args=[example.conversation_id])}#i{example.pk}" in page
    # Bob, who replied to her, is among the people she talks with.
    assert f'href="{reverse("member", args=[bob.pk])}"' in page
    assert '<svg viewBox="0 0 260 40"' in page and 'id="sparkline-text"' in page
    page = _page(alice_client, bob)
    assert '<th scope="row">postgres replication</th>' in page


def test_it_shows_the_engagement_level_and_why(
    alice_client: Client, people: dict[str, Member]
) -> None:
    ada = people["ada"]
    assert "Not computed yet" in _page(alice_client, ada)
    assert ada.last_seen_at is not None
    refresh_engagement(now=ada.last_seen_at + timedelta(days=200))
    page = _page(alice_client, ada)
    assert 'class="badge engagement-level engagement-silent">Silent</span>' in page
    # The badge names the level; the sentence beside it gives the reasons without naming it again.
    assert '<span class="engagement-why">No interaction in the last 90 days' in page


def _timeline_count(client: Client, member: Member, **params: str) -> int:
    return _page(client, member, **params).count('class="timeline-item"')


def test_it_filters_the_timeline(alice_client: Client, people: dict[str, Member]) -> None:
    bob = people["bob"]
    mine = Interaction.objects.filter(member=bob)
    assert _timeline_count(alice_client, bob) == mine.count()
    replies = mine.filter(kind=InteractionKind.REPLY).count()
    assert 0 < replies < mine.count()
    assert _timeline_count(alice_client, bob, kind="reply") == replies
    general = Channel.objects.get(name="general")
    in_general = mine.filter(channel=general).count()
    assert 0 < in_general < mine.count()
    assert _timeline_count(alice_client, bob, channel=str(general.pk)) == in_general
    assert _timeline_count(alice_client, bob, source=str(general.source_id)) == mine.count()
    assert _timeline_count(alice_client, bob, source=str(general.source_id + 1)) == 0
    first = mine.order_by("created_at").first()
    assert first is not None
    day = first.created_at.date()
    on_day = mine.filter(created_at__date=day).count()
    assert _timeline_count(alice_client, bob, since=day.isoformat(), until=day.isoformat()) == (
        on_day
    )
    before = (day - timedelta(days=1)).isoformat()
    assert _timeline_count(alice_client, bob, until=before) == 0
    assert "No interactions match these filters." in _page(alice_client, bob, until=before)
    # A bad value is ignored, not an error.
    assert _timeline_count(alice_client, bob, kind="nonsense", since="yesterday") == mine.count()


def test_it_refreshes_only_the_timeline_for_htmx(
    alice_client: Client, people: dict[str, Member]
) -> None:
    bob = people["bob"]
    response = alice_client.get(
        reverse("member", args=[bob.pk]),
        {"kind": "reply"},
        headers={"HX-Request": "true", "HX-Target": "member-timeline"},
    )
    body = response.content.decode()
    assert body.startswith('<div id="member-timeline"')
    assert body.count('class="timeline-item"') == bob.interactions.filter(kind="reply").count()
    page = _page(alice_client, bob, kind="reply")
    assert '<option value="reply" selected>' in page


def test_it_costs_the_same_queries_with_filters(
    alice_client: Client, people: dict[str, Member]
) -> None:
    bob = people["bob"]
    # Real ids: PostgreSQL does not restart its sequences between tests.
    reply = Interaction.objects.filter(member=bob, kind="reply").first()
    assert reply is not None and reply.channel_id is not None
    filters = {
        "kind": "reply",
        "channel": str(reply.channel_id),
        "since": "2020-01-01",
        "source": str(reply.source_id),
    }
    counts = []
    by_kind_and_channel = {"kind": filters["kind"], "channel": filters["channel"]}
    for params in ({}, by_kind_and_channel, filters):
        with CaptureQueriesContext(connection) as queries:
            _page(alice_client, bob, **params)
        counts.append(len(queries))
    # The whole timeline, or by kind and channel, is counted from the page's kind and
    # channel counts; by source or dates it takes a COUNT of its own.
    assert counts == [counts[0], counts[0], counts[0] + 1]


def test_a_timeline_counts_its_rows_right_whichever_filters(people: dict[str, Member]) -> None:
    bob = people["bob"]
    reply = Interaction.objects.filter(member=bob, kind="reply").first()
    assert reply is not None and reply.channel_id is not None
    mine = Interaction.objects.filter(member=bob)
    cases: list[tuple[dict[str, Any], Any]] = [
        ({}, mine),
        ({"kind": "reply"}, mine.filter(kind="reply")),
        ({"kind": "message"}, mine.filter(kind="message")),
        ({"channel_id": reply.channel_id}, mine.filter(channel_id=reply.channel_id)),
        (
            {"kind": "reply", "channel_id": reply.channel_id},
            mine.filter(kind="reply", channel_id=reply.channel_id),
        ),
        ({"source_id": reply.source_id}, mine.filter(source_id=reply.source_id)),
    ]
    for filters, expected in cases:
        member = Member.objects.get(pk=bob.pk)  # a fresh object: no counts kept from before
        assert member_timeline(member, **filters).count() == expected.count(), filters


def test_it_requires_signing_in(client: Client, people: dict[str, Member]) -> None:
    response = client.get(reverse("member", args=[people["ada"].pk]))
    assert response.status_code == 302


def test_it_says_which_accounts_were_deactivated(alice_client: Client, tmp_path: Path) -> None:
    users: list[dict[str, Any]] = [
        {"id": "U1", "name": "ada", "profile": {"real_name": "Ada"}},
        {"id": "U2", "name": "gone", "deleted": True, "profile": {"real_name": "Gone Away"}},
    ]
    messages = [
        {"type": "message", "user": user, "text": "Hello all", "ts": f"{1_700_000_000 + n}.0001"}
        for n, user in enumerate(("U1", "U2"))
    ]
    import_export("slack", write_slack_export(tmp_path, {"general": messages}, users))
    gone = Member.objects.get(identities__handle="gone")
    ada = Member.objects.get(identities__handle="ada")
    assert "Deactivated</span>" in _page(alice_client, gone)
    assert "Deactivated</span>" not in _page(alice_client, ada)
