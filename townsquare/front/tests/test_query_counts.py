"""SQL query counts of the pages, pinned: a query per row (N+1) would break these.

Each request costs two queries before the view runs: the session and the user.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from townsquare.community.models import Conversation, Identity, Interaction, Member, Source
from townsquare.connectors.models import ImportRun, RejectedRecord

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
    # counts (1), sources (1) with their latest run (1), recent conversations (1)
    with django_assert_num_queries(2 + 4):
        page = _get(alice_client, reverse("home"))
    assert page.count('class="conversation-item"') == 10


def test_the_member_list(
    alice_client: Client, merged_member: Member, django_assert_num_queries: AssertNumQueries
) -> None:
    # sources for the filter (1), count (1), page (1), identities with their source (1)
    with django_assert_num_queries(2 + 4):
        page = _get(alice_client, reverse("members"), sort="name")
    assert page.count('<th scope="row"') == 50
    # One badge per source: the merged member shows both workspaces.
    assert page.count('class="badge badge-slack"') == 51
    source = Source.objects.get(name="north")
    # ...and one more to check the chosen source
    with django_assert_num_queries(2 + 5):
        _get(alice_client, reverse("members"), q="person", source=source.pk)


def test_the_member_page(
    alice_client: Client, merged_member: Member, django_assert_num_queries: AssertNumQueries
) -> None:
    # member (1), identities (1), kinds (1), channels (1), timeline count (1) and page (1),
    # names of the members mentioned (1)
    with django_assert_num_queries(2 + 7):
        page = _get(alice_client, reverse("member", args=[merged_member.pk]))
    assert "@north-user-0" in page
    assert "@south-user-0" in page
    assert (
        page.count('class="timeline-item"')
        == Interaction.objects.filter(member=merged_member).count()
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


def test_the_conversation_page(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_assert_num_queries: AssertNumQueries,
) -> None:
    conversation = Conversation.objects.get(source__name="north", title="Message 7 from UN07")
    # conversation (1), messages with authors (1), names of the members mentioned (1),
    # reactions with who (1)
    with django_assert_num_queries(2 + 4):
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
    # count (1), page with sources (1)
    with django_assert_num_queries(2 + 2):
        page = _get(alice_client, reverse("imports"))
    assert page.count('<th scope="row"') == 50


def test_the_import_run_page(
    alice_client: Client, rejected_run: ImportRun, django_assert_num_queries: AssertNumQueries
) -> None:
    # run with source (1), rejected count (1) and page (1)
    with django_assert_num_queries(2 + 3):
        page = _get(alice_client, reverse("import_run", args=[rejected_run.pk]))
    assert page.count('class="rejected-item"') == 50
