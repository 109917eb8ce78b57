"""SQL query counts of the pages, pinned: a query per row (N+1) would break these.

Each request costs two queries before the view runs: the session and the user.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community import memory
from townsquare.community.models import Conversation, Identity, Interaction, Member, Source
from townsquare.connectors.models import ImportRun, RejectedRecord, Upload
from townsquare.lib.testing import make_staff
from townsquare.listening.models import Enrichment, TermMatch, Thanks, TrackedTerm
from townsquare.listening.pipeline import TEXT_KINDS, enrich_pending
from townsquare.listening.services import do_correct_label

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]


@pytest.fixture
def merged_member(two_workspaces: list[ImportRun]) -> Member:
    """North Person 0 also owns South Person 0's identity and interactions, as a merge would
    leave them (merging is not built yet), so a member page has identities on two sources."""
    north = Member.objects.get(display_name="North Person 0")
    south = Member.objects.get(display_name="South Person 0")
    Identity.objects.filter(member=south).update(member=north)
    Interaction.objects.filter(member=south).update(member=north)
    south.delete()
    return north


@pytest.fixture
def rejected_run(two_workspaces: list[ImportRun]) -> ImportRun:
    run = two_workspaces[0]
    RejectedRecord.objects.bulk_create(
        RejectedRecord(run=run, location=f"file.json[{n}]", reason="bad", excerpt="{}")
        for n in range(60)
    )
    return run


def _get(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    # Today (care/today.py): top care items (1; none here, so neither their reasons nor
    # their members' merge suggestions are read: care/tests/test_pages.py counts those),
    # milestones (1),
    # open items (1), care settings (1), conversations awaiting a reply (1), spikes (1), what
    # changed since yesterday (4: messages, new members, items opened, items resolved);
    # sources (1) with their latest run (1); for an admin, items escalated to admins (1)
    with django_assert_num_queries(2 + 13):
        page = _get(alice_client, reverse("home"))
    assert "Reach out first" in page and page.count('class="source-name"') == 2


def test_the_member_list(
    alice_client: Client, merged_member: Member, django_assert_num_queries: AssertNumQueries
) -> None:
    # sources and tags for the filters (2), count (1), page (1), identities with their
    # source (1), tags (1)
    with django_assert_num_queries(2 + 6):
        page = _get(alice_client, reverse("members"), sort="name")
    assert page.count('<th scope="row"') == 50
    # One badge per source: the merged member shows both workspaces.
    assert page.count('class="badge badge-slack"') == 51
    source = Source.objects.get(name="north")
    # ...and one more for the chosen source's channels
    with django_assert_num_queries(2 + 7):
        _get(alice_client, reverse("members"), q="person", source=source.pk)


def _remember(member: Member, rows: int) -> None:
    """Bring the member's memory to `rows` of each kind, written by two staff members."""
    staff = [
        User.objects.get_or_create(username=name, defaults={"is_staff": True})[0]
        for name in ("mia", "noah")
    ]
    messages = list(Interaction.objects.filter(member=member).order_by("id"))
    for n in range(member.notes.count(), rows):
        author = staff[n % 2]
        memory.do_add_note(member=member, author=author, text=f"Note **{n}**")
        memory.do_log_touchpoint(
            member=member,
            staff=author,
            happened_at=messages[0].created_at,
            channel="call",
            reason=f"Reason {n}",
            outcome="",
        )
        memory.do_add_knowledge(
            member=member,
            created_by=author,
            title=f"Tip {n}",
            url=f"https://example.org/{n}",
            interaction=messages[n % len(messages)],
        )
        memory.do_tag_members(members=[member], tag_name=f"tag {n}", actor=author)
    memory.do_set_custom_field(member=member, name=f"field {rows}", value="value")


def test_the_member_page(
    alice_client: Client, merged_member: Member, django_assert_num_queries: AssertNumQueries
) -> None:
    # member (1), identities (1), counts per kind and channel (1, which also give the
    # timeline's count), the timeline's page (1) with enrichments, names of the members
    # mentioned (1), tracked-term matches (1); the
    # portrait (front/views_profile.py): engagement level (1), interests with their examples
    # (1), expertise (1), the people they talk with (1), weekly activity, languages and
    # monthly sentiment (1); the memory (front/views_memory.py): tags (1), notes with their
    # authors (1), touchpoints with their staff (1), what they taught us with the credited
    # message's identity and who saved it (1). Custom fields and do-not-contact are columns.
    # The members merged into it, for their Unmerge buttons, and the open suggestions that it
    # may be someone else too (front/views_identity.py) (2).
    # Care items (1; their reasons only when there are items).
    for rows in (1, 6):
        _remember(merged_member, rows)
        with django_assert_num_queries(2 + 18):
            page = _get(alice_client, reverse("member", args=[merged_member.pk]))
        assert page.count('class="memory-item note-item"') == merged_member.notes.count()
        assert page.count('class="memory-item touchpoint-item"') == rows
        assert page.count('class="memory-item knowledge-item"') == rows
        assert page.count('class="chip tag-chip"') == rows
        assert page.count("’s message on") == rows
    assert "@north-user-0" in page
    assert "@south-user-0" in page
    assert (
        page.count('class="timeline-item"')
        == Interaction.objects.filter(member=merged_member).count()
    )


def test_the_member_timeline_refresh_costs_no_portrait(
    alice_client: Client, merged_member: Member, django_assert_num_queries: AssertNumQueries
) -> None:
    # htmx asks for the timeline alone (its next page, its filters): the member page's 2 + 18
    # without the portrait (5), which views_profile.py computes only when the page shows it,
    # nor the memory's lists (4), which are lazy querysets.
    with django_assert_num_queries(2 + 8):
        response = alice_client.get(
            reverse("member", args=[merged_member.pk]),
            {"page": "1"},
            headers={"HX-Request": "true", "HX-Target": "member-timeline"},
        )
    page = response.content.decode()
    assert page.startswith('<div id="member-timeline"')
    assert page.count('class="timeline-item"') == min(
        50, Interaction.objects.filter(member=merged_member).count()
    )


def test_the_conversation_list(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    # sources for the filter (1), count (1), page with message counts (1)
    with django_assert_num_queries(2 + 3):
        page = _get(alice_client, reverse("conversations"))
    assert page.count('<th scope="row"') == 50
    source = Source.objects.get(name="north")
    channel = source.channels.get(name="help")
    # ...plus checking the chosen source (1) and channel (1), and listing the channels (1)
    with django_assert_num_queries(2 + 6):
        _get(alice_client, reverse("conversations"), source=source.pk, channel=channel.pk)
    # A label filter is a condition of the same queries.
    enrich_pending()
    Enrichment.objects.filter(interaction__text__startswith="Message").update(is_question=True)
    with django_assert_num_queries(2 + 3):
        page = _get(alice_client, reverse("conversations"), label="question")
    assert page.count('<th scope="row"') == 50


def test_the_conversation_page(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    conversation = Conversation.objects.get(source__name="north", title="Message 7 from UN07")
    # conversation (1), messages with authors and enrichments (1), names of the members
    # mentioned (1), tracked-term matches (1), reactions with who (1)
    with django_assert_num_queries(2 + 5):
        page = _get(alice_client, reverse("conversation", args=[conversation.pk]))
    assert page.count('class="thread-message') == 2
    assert page.count('class="reaction-chip"') == 1


def test_the_import_list(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    for _ in range(25):
        for run in two_workspaces:
            run.pk = None
            run.save()
    for run in two_workspaces * 5:
        Upload.objects.create(path="x.zip", file_name="x.zip", size=1, format="slack", run=run)
    # count (1), page with sources (1), recent uploads with their runs and uploaders (1)
    with django_assert_num_queries(2 + 3):
        page = _get(alice_client, reverse("imports"))
    assert page.count('<th scope="row"') == 50 + 10


def test_the_import_run_page(
    alice_client: Client, rejected_run: ImportRun, django_assert_num_queries: AssertNumQueries
) -> None:
    # run with source (1), rejected count (1) and page (1)
    with django_assert_num_queries(2 + 3):
        page = _get(alice_client, reverse("import_run", args=[rejected_run.pk]))
    assert page.count('class="rejected-item"') == 50


def _label(items: list[Interaction], term: TrackedTerm, bob: User) -> None:
    """Give these messages every kind of label that costs a query to show: a person's
    correction, thanks to someone, a tracked term."""
    for item in items:
        do_correct_label(interaction=item, field="sentiment_label", value="negative", user=bob)
        do_correct_label(interaction=item, field="is_spam", value=True, user=bob)
        Enrichment.objects.filter(interaction=item).update(is_gratitude=True)
        assert item.member_id is not None
        thanked = Member.objects.exclude(pk=item.member_id).order_by("pk").first()
        assert thanked is not None
        Thanks.objects.get_or_create(
            interaction=item,
            from_member_id=item.member_id,
            to_member=thanked,
            created_at=item.created_at,
        )
        TermMatch.objects.get_or_create(term=term, interaction=item)


def test_the_labels_cost_the_same_queries_however_many_messages_carry_them(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    enrich_pending()
    term = TrackedTerm.objects.create(term="reply")
    bob = make_staff("bob")
    person = Member.objects.get(display_name="North Person 7")
    timeline = list(
        Interaction.objects.filter(member=person, kind__in=TEXT_KINDS).order_by("created_at")
    )
    conversation = Conversation.objects.get(source__name="north", title="Message 7 from UN07")
    thread = list(conversation.interactions.filter(kind__in=TEXT_KINDS).order_by("created_at"))
    assert len(timeline) == len(thread) == 2

    for labelled in (timeline[:1] + thread[:1], timeline + thread):
        _label(labelled, term, bob)
        # the member page's 2 + 18, thanks with whom (1), corrections with who (1)
        with django_assert_num_queries(2 + 20):
            page = _get(alice_client, reverse("member", args=[person.pk]))
        assert page.count("corrected by bob") == 2 * len(set(timeline) & set(labelled))
        # the conversation page's 2 + 5, thanks with whom (1), corrections with who (1)
        with django_assert_num_queries(2 + 7):
            page = _get(alice_client, reverse("conversation", args=[conversation.pk]))
        assert page.count("corrected by bob") == 2 * len(set(thread) & set(labelled))
        assert page.count('class="label label-term"') == len(set(thread) & set(labelled))


def test_the_tracked_terms(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    term = TrackedTerm.objects.create(term="reply")
    TermMatch.objects.bulk_create(
        TermMatch(term=term, interaction=item)
        for item in Interaction.objects.filter(text__contains="Reply")
    )
    for n in range(30):
        TrackedTerm.objects.create(term=f"term {n}")
    # terms with their match counts and creators (1)
    with django_assert_num_queries(2 + 1):
        page = _get(alice_client, reverse("terms"))
    assert page.count('<th scope="row"') == 31
    # term (1), count (1), page with enrichments (1), names of the members mentioned (1),
    # tracked-term matches (1)
    with django_assert_num_queries(2 + 5):
        page = _get(alice_client, reverse("term", args=[term.pk]))
    assert page.count('class="timeline-item"') == 50
