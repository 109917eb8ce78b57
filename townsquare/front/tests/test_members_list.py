"""The member list: its filters, CSV export, bulk tagging and saved segments.

The community is imported through the real importers (a Slack workspace and a mailing list)
and enriched by the real pipeline; every expected result is computed here from the rows, in
Python, not with the queries under test.
"""

from __future__ import annotations

import csv
import io
import mailbox
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from townsquare.community.engagement import MIN_SENTIMENT_MESSAGES, refresh_engagement
from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Channel,
    Identity,
    Interaction,
    Member,
    MemberTag,
    Source,
    Tag,
)
from townsquare.front.members_filters import filter_members, parse_filters
from townsquare.front.tests.conftest import DUMMY_TASKS
from townsquare.front.tests.exports import SlackExport
from townsquare.lib.testing import import_export
from townsquare.listening.models import Enrichment
from townsquare.listening.pipeline import enrich_pending
from townsquare.people.models import EngagementLevel, EngagementScore
from townsquare.segments.models import Segment

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]

POSITIVE = "Thanks so much, this is wonderful and I love the new dashboard!"
NEGATIVE = "This update is terrible, everything is broken and I hate it."
FRENCH = "Ce tableau de bord est vraiment très utile pour notre équipe"
HOSTILE = '<script>alert("x")</script>'

DAY = 86_400


def _ago(days: float) -> float:
    return time.time() - days * DAY


@pytest.fixture
def community(tmp_path: Path) -> dict[str, Member]:
    """Members whose messages, languages, moods and dates each make one filter choose them."""
    export = SlackExport(tmp_path / "north")
    people = {
        "U1": ("ada", "Ada Lovelace"),
        "U2": ("bruno", "Bruno Díaz"),
        "U3": ("cora", "Cora Grim"),
        "U4": ("dan", "Dan Mixed"),
        "U5": ("eve", "Eve Few"),
        "U6": ("otto", "Otto Oldtimer"),
        "U7": ("mallory", '=HYPERLINK("http://evil")'),
        "U8": ("hostile", HOSTILE),
    }
    for user, (name, real) in people.items():
        export.user(user, name, real, profile={"email": f"{name}@example.org"})
    export.channel("CG", "general")
    export.channel("CH", "help")
    export.message("general", "U1", POSITIVE + " Élan vital!", _ago(2))
    export.message("help", "U2", FRENCH, _ago(40))
    for n in range(3):
        export.message("help", "U3", NEGATIVE, _ago(10 + n))
    export.message("help", "U3", POSITIVE, _ago(9))
    for n in range(2):
        export.message("general", "U4", NEGATIVE, _ago(5 + n))
        export.message("general", "U4", POSITIVE, _ago(7 + n))
    for n in range(2):
        export.message("general", "U5", NEGATIVE, _ago(3 + n))
    for n in range(3):
        export.message("general", "U6", NEGATIVE, _ago(200 + n))
    export.message("general", "U7", "Hello all, first post here", _ago(1))
    export.message("general", "U8", "Hi <b>there</b>", _ago(1))
    export.write()

    box_path = tmp_path / "list.mbox"
    box = mailbox.mbox(box_path)
    for n, (sender, subject, body, days) in enumerate(
        [
            ("Ada Lovelace <ada@list.example>", "Packages", "Which package should I use?", 3),
            ("Zed Zhou <zed@list.example>", "Re: Packages", "Use the stable one.", 100),
        ]
    ):
        message = EmailMessage()
        message["From"] = sender
        message["Subject"] = subject
        message["Message-ID"] = f"<m{n}@list.example>"
        message["Date"] = datetime.fromtimestamp(_ago(days), tz=UTC).strftime(
            "%a, %d %b %Y %H:%M:%S +0000"
        )
        message.set_content(body)
        box.add(message)
    box.flush()
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        import_export("slack", export.root, source="north")
        import_export("mbox", box_path, source="list")
    enrich_pending()
    # Ada is on both sources (two members until merged): the Slack one, imported first.
    return {m.display_name: m for m in Member.objects.order_by("-id")}


def ids(**params: str) -> set[int]:
    return set(filter_members(parse_filters(params)).values_list("pk", flat=True))


def everyone() -> set[int]:
    return set(Member.objects.values_list("pk", flat=True))


def test_it_searches_message_text_case_insensitively(community: dict[str, Member]) -> None:
    for word in ("DASHBOARD", "élan", "ÉLAN", "tableau"):
        expected = {
            i.member_id for i in Interaction.objects.all() if word.casefold() in i.text.casefold()
        }
        assert expected
        assert ids(text=word) == expected
    assert ids(text="no such words anywhere") == set()


def test_it_filters_by_platform_source_and_channel(community: dict[str, Member]) -> None:
    mail = Source.objects.get(name="list")
    on_list = {m.pk for m in Member.objects.filter(identities__source=mail)}
    assert ids(platform="mbox") == on_list
    assert ids(source=str(mail.pk)) == on_list
    on_slack = {
        i.member_id
        for i in Identity.objects.select_related("source")
        if i.source.platform == "slack"
    }
    assert ids(platform="slack") == on_slack
    assert on_slack != on_list
    help_channel = Channel.objects.get(name="help")
    wrote_in_help = {
        i.member_id for i in Interaction.objects.all() if i.channel_id == help_channel.pk
    }
    assert wrote_in_help == {community["Bruno Díaz"].pk, community["Cora Grim"].pk}
    assert ids(channel=str(help_channel.pk)) == wrote_in_help
    # An id that does not exist matches nobody (a segment on a deleted source stays empty).
    assert ids(source="999999") == set()


def test_it_filters_by_language(community: dict[str, Member]) -> None:
    french = {
        e.interaction.member_id
        for e in Enrichment.objects.select_related("interaction")
        if e.language == "fr"
    }
    assert french == {community["Bruno Díaz"].pk}
    assert ids(language="fr") == french


def test_it_filters_by_engagement_level(community: dict[str, Member]) -> None:
    now = timezone.now()
    EngagementScore.objects.create(
        member=community["Ada Lovelace"], score=9, level=EngagementLevel.CORE, computed_at=now
    )
    EngagementScore.objects.create(
        member=community["Cora Grim"], score=1, level=EngagementLevel.CASUAL, computed_at=now
    )
    assert ids(level="core") == {community["Ada Lovelace"].pk}
    assert ids(level="casual") == {community["Cora Grim"].pk}


def test_it_filters_by_tag(community: dict[str, Member], alice_client: Client) -> None:
    speaker = Tag.objects.create(name="speaker")
    MemberTag.objects.create(member=community["Eve Few"], tag=speaker)
    assert ids(tag=str(speaker.pk)) == {community["Eve Few"].pk}


def test_it_filters_by_activity_window(community: dict[str, Member]) -> None:
    now = timezone.now()
    members = list(Member.objects.all())
    for days in (7, 30, 90):
        expected = {
            m.pk for m in members if m.last_seen_at and m.last_seen_at >= now - timedelta(days=days)
        }
        assert ids(activity=f"active{days}") == expected
    inactive = {m.pk for m in members if m.last_seen_at and m.last_seen_at < now - timedelta(90)}
    assert inactive == {community["Otto Oldtimer"].pk, community["Zed Zhou"].pk}
    assert ids(activity="inactive90") == inactive


def test_it_filters_by_first_seen(community: dict[str, Member]) -> None:
    cut = (timezone.now() - timedelta(days=30)).date()
    members = list(Member.objects.all())
    after = {m.pk for m in members if m.first_seen_at and m.first_seen_at.date() >= cut}
    before = {m.pk for m in members if m.first_seen_at and m.first_seen_at.date() <= cut}
    assert after and before
    assert ids(first_seen_after=cut.isoformat()) == after
    assert ids(first_seen_before=cut.isoformat()) == before
    # A bad date drops the filter rather than failing.
    assert ids(first_seen_after="not a date") == everyone()


def _mostly_negative(days: int | None) -> set[int]:
    since = timezone.now() - timedelta(days=days) if days else None
    labels: dict[int, Counter[str]] = {}
    for e in Enrichment.objects.select_related("interaction"):
        if e.sentiment_label not in ("positive", "neutral", "negative"):
            continue
        if since and e.interaction.created_at < since:
            continue
        labels.setdefault(e.interaction.member_id or 0, Counter())[e.sentiment_label] += 1
    return {
        member
        for member, counts in labels.items()
        if counts.total() >= MIN_SENTIMENT_MESSAGES and counts["negative"] * 2 >= counts.total()
    }


def test_it_finds_members_whose_messages_are_mostly_negative(
    community: dict[str, Member],
) -> None:
    recent = _mostly_negative(30)
    # Cora: 3 of 4 negative; Dan: 2 of 4 (half counts); Eve has too few; Otto is too old.
    assert recent == {community["Cora Grim"].pk, community["Dan Mixed"].pk}
    # The filter reads the flags engagement levels store: none before their first refresh.
    EngagementScore.objects.all().delete()
    assert ids(sentiment="negative30") == set()
    refresh_engagement()
    assert ids(sentiment="negative30") == recent
    assert ids(sentiment="negative90") == _mostly_negative(90)
    all_time = _mostly_negative(None)
    assert community["Otto Oldtimer"].pk in all_time
    assert ids(sentiment="negative") == all_time


def test_it_filters_by_flags_and_leaves_out_merged_and_erased(
    community: dict[str, Member],
) -> None:
    ada, eve, dan = community["Ada Lovelace"], community["Eve Few"], community["Dan Mixed"]
    Member.objects.filter(pk=ada.pk).update(is_team=True)
    Member.objects.filter(pk=eve.pk).update(is_bot=True, do_not_contact=True)
    zed = community["Zed Zhou"]
    Member.objects.filter(pk=zed.pk).update(merged_into=dan, merged_at=timezone.now())
    Member.objects.filter(pk=community["Otto Oldtimer"].pk).update(erased_at=timezone.now())
    otto = community["Otto Oldtimer"].pk
    assert ids(team="yes") == {ada.pk}
    assert ada.pk not in ids(team="no")
    assert ids(bot="yes") == {eve.pk}
    assert ids(dnc="yes") == {eve.pk}
    assert ids() == everyone() - {zed.pk, otto}
    assert ids(merged="on") == everyone() - {otto}
    assert ids(erased="on", merged="on") == everyone()


def test_it_combines_filters_and_shows_them_on_the_page(
    community: dict[str, Member], alice_client: Client
) -> None:
    north = Source.objects.get(name="north")
    params = {"source": str(north.pk), "activity": "active7", "sort": "name"}
    response = alice_client.get(reverse("members"), params)
    page = response.content.decode()
    expected = sorted(
        m.display_name
        for m in Member.objects.filter(identities__source=north)
        if m.last_seen_at and m.last_seen_at >= timezone.now() - timedelta(days=7)
    )
    assert f"{len(expected)} members on north" in page
    assert page.count('<th scope="row"') == len(expected)
    # The chosen source's channels are offered.
    assert "#help" in page


def test_it_escapes_hostile_names_and_searches(
    community: dict[str, Member], alice_client: Client
) -> None:
    page = alice_client.get(reverse("members"), {"q": "hostile", "text": HOSTILE}).content
    text = page.decode()
    assert HOSTILE not in text
    assert "&lt;script&gt;" in text
    Segment.objects.create(name=HOSTILE, description=HOSTILE, filters={"text": HOSTILE})
    text = alice_client.get(reverse("segments")).content.decode()
    assert HOSTILE not in text
    assert "&lt;script&gt;alert" in text


def _export(client: Client, **params: str) -> list[list[str]]:
    response = client.get(reverse("members_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(cast(Iterator[bytes], response.streaming_content)).decode()
    return list(csv.reader(io.StringIO(body)))


def test_it_exports_the_filtered_list_as_csv(
    community: dict[str, Member], alice_client: Client, alice: User
) -> None:
    speaker = Tag.objects.create(name="speaker")
    ada = community["Ada Lovelace"]
    MemberTag.objects.create(member=ada, tag=speaker)
    Member.objects.filter(pk=ada.pk).update(is_team=True)
    rows = _export(alice_client, q="ada", sort="name")
    assert rows[0] == [
        "id", "display_name", "platforms", "handles", "emails", "first_seen", "last_seen",
        "interactions", "tags", "flags",
    ]  # fmt: skip
    expected = sorted(Member.objects.filter(identities__handle__icontains="ada").distinct(),
                      key=lambda m: (m.display_name, m.pk))  # fmt: skip
    assert [int(r[0]) for r in rows[1:]] == [m.pk for m in expected]
    row = next(r for r in rows[1:] if int(r[0]) == ada.pk)
    ada.refresh_from_db()
    assert row[1] == "Ada Lovelace"
    assert set(row[2].split("; ")) == {
        i.source.get_platform_display() for i in ada.identities.select_related("source")
    }
    assert "ada@example.org" in row[4].split("; ")
    assert row[5] == ada.first_seen_at.isoformat()  # type: ignore[union-attr]
    assert int(row[7]) == ada.interaction_count
    assert row[8] == "speaker"
    assert row[9] == "team"

    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == alice
    assert entry.details["count"] == len(rows) - 1
    # The filters are logged, but not the search words (they may name a person).
    assert entry.details["filters"] == {"q": "(given)", "sort": "name"}
    assert "ada" not in str(entry.details).lower().replace("(given)", "")


def test_it_guards_the_csv_against_formula_injection(
    community: dict[str, Member], alice_client: Client
) -> None:
    Tag.objects.create(name="-1+2")
    mallory = community['=HYPERLINK("http://evil")']
    MemberTag.objects.create(member=mallory, tag=Tag.objects.get(name="-1+2"))
    rows = _export(alice_client, q="mallory")
    assert len(rows) == 2
    assert rows[1][1] == '\'=HYPERLINK("http://evil")'
    assert rows[1][8] == "'-1+2"
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@"))


def test_it_pins_the_export_query_count(
    community: dict[str, Member],
    alice_client: Client,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    for n, member in enumerate(Member.objects.all()):
        tag = Tag.objects.create(name=f"tag {n}")
        MemberTag.objects.create(member=member, tag=tag)
    # session and user (2), count (1), audit entry (1), members (1), identities (1), tags (1)
    with django_assert_num_queries(2 + 5):
        rows = _export(alice_client)
    assert len(rows) == Member.objects.count() + 1


def test_it_refuses_the_export_to_non_staff(
    community: dict[str, Member], client: Client, charlie: User
) -> None:
    response = client.get(reverse("members_export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(charlie)
    assert client.get(reverse("members_export")).status_code == 403
    assert not AuditEntry.objects.exists()


def test_it_tags_the_selected_members(
    community: dict[str, Member], alice_client: Client, alice: User
) -> None:
    chosen = [community["Ada Lovelace"].pk, community["Cora Grim"].pk]
    response = alice_client.post(
        reverse("members_tag"),
        {"member": [str(pk) for pk in chosen], "tag_name": "beta tester", "next_query": "q=a"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("members") + "?q=a"
    tagged = MemberTag.objects.filter(tag__name="beta tester")
    assert sorted(tagged.values_list("member_id", flat=True)) == sorted(chosen)
    assert {t.added_by_id for t in tagged} == {alice.pk}


def test_it_tags_all_matching_members_after_confirming_the_count(
    community: dict[str, Member], alice_client: Client
) -> None:
    expected = {m.pk for m in Member.objects.all() if m.last_seen_at
                and m.last_seen_at >= timezone.now() - timedelta(days=30)}  # fmt: skip
    page = alice_client.get(reverse("members_tag_all"), {"activity": "active30"})
    text = page.content.decode()
    assert f'<strong class="tag-all-count">{len(expected)}</strong>' in text
    assert 'name="activity" value="active30"' in text
    # A stale count is not applied: the page asks again.
    stale = alice_client.post(
        reverse("members_tag_all"),
        {"activity": "active30", "expected": str(len(expected) + 1), "tag_name": "recent"},
    )
    assert stale.status_code == 400
    assert not MemberTag.objects.exists()
    done = alice_client.post(
        reverse("members_tag_all"),
        {"activity": "active30", "expected": str(len(expected)), "tag_name": "recent"},
    )
    assert done.status_code == 302
    assert set(MemberTag.objects.values_list("member_id", flat=True)) == expected


def test_it_requires_csrf_and_staff_to_tag(
    community: dict[str, Member], charlie: User, alice: User
) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    data = {"member": [str(community["Ada Lovelace"].pk)], "tag_name": "x"}
    assert strict.post(reverse("members_tag"), data).status_code == 403
    assert strict.post(reverse("segment_create"), {"name": "x"}).status_code == 403
    outsider = Client()
    outsider.force_login(charlie)
    assert outsider.post(reverse("members_tag"), data).status_code == 403
    assert outsider.post(reverse("segment_create"), {"name": "x"}).status_code == 403
    anonymous = Client()
    for name in ("members_tag", "members_tag_all", "segment_create", "segments"):
        response = anonymous.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not MemberTag.objects.exists()
    assert not Segment.objects.exists()


def test_it_saves_opens_renames_and_deletes_a_segment(
    community: dict[str, Member], alice_client: Client, alice: User
) -> None:
    response = alice_client.post(
        reverse("segment_create"),
        {"name": "  French  speakers ", "language": "fr", "sort": "bogus", "page": "3"},
    )
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert segment.name == "French speakers"
    assert segment.filters == {"language": "fr"}
    assert segment.created_by == alice

    # Dynamic: a member who writes French later is in the segment without saving it again.
    opened = alice_client.get(reverse("segment", args=[segment.pk]))
    assert opened["Location"] == reverse("members") + "?language=fr"
    page = alice_client.get(reverse("segments")).content.decode()
    assert '<td class="num segment-count">1</td>' in page
    Enrichment.objects.filter(interaction__member=community["Ada Lovelace"]).update(language="fr")
    page = alice_client.get(reverse("segments")).content.decode()
    assert '<td class="num segment-count">2</td>' in page

    # Names are unique, letter case aside.
    alice_client.post(reverse("segment_create"), {"name": "french SPEAKERS"})
    assert Segment.objects.count() == 1
    alice_client.post(reverse("segment_edit", args=[segment.pk]), {"name": "Francophones"})
    segment.refresh_from_db()
    assert segment.name == "Francophones"
    alice_client.post(reverse("segment_delete", args=[segment.pk]))
    assert not Segment.objects.exists()


def test_it_pins_the_segments_page_query_count(
    community: dict[str, Member],
    alice_client: Client,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    for n, params in enumerate(
        [{"language": "fr"}, {"sentiment": "negative30"}, {"text": "dashboard", "tag": "1"}]
    ):
        Segment.objects.create(name=f"segment {n}", filters=params)
    # session and user (2), segment count (1), segments with their creator (1), a count each
    # (the writers of the text a segment looks for are a subquery of its count)
    with django_assert_num_queries(2 + 2 + 3):
        response = alice_client.get(reverse("segments"))
    text = response.content.decode()
    assert text.count('class="num segment-count"') == 3


def test_it_pins_the_member_list_query_count_with_filters(
    community: dict[str, Member],
    alice_client: Client,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    for n, member in enumerate(Member.objects.all()):
        for k in range(2):
            tag = Tag.objects.create(name=f"tag {n} {k}")
            MemberTag.objects.create(member=member, tag=tag)
    refresh_engagement()  # the stored "mostly negative" flags
    params = {"text": "the", "language": "en", "sentiment": "negative", "team": "no"}
    # sources and tags for the filters (2), the matching ids in order, read once for the count
    # and the page (1), the page's members (1), identities (1), tags (1)
    with django_assert_num_queries(2 + 6):
        response = alice_client.get(reverse("members"), params)
    assert response.status_code == 200


def test_it_drops_an_unknown_id_on_the_page_but_not_in_a_segment(
    community: dict[str, Member], alice_client: Client
) -> None:
    page = alice_client.get(reverse("members"), {"tag": "999999"}).content.decode()
    shown = Member.objects.filter(merged_into__isnull=True, erased_at__isnull=True).count()
    assert f"{shown} members" in page
    segment = Segment.objects.create(name="deleted tag", filters={"tag": "999999"})
    page = alice_client.get(reverse("segments")).content.decode()
    assert '<td class="num segment-count">0</td>' in page
    assert segment.pk
