"""Claiming: one person at a time, everyone sees who; releasing; marking answered."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from townsquare.community.models import Conversation, InteractionKind
from townsquare.inbox import services
from townsquare.inbox.models import Claim, ConversationState
from townsquare.inbox.rollup import refresh_states
from townsquare.inbox.tests.conftest import Community

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(community: Community) -> Conversation:
    talk = community.conversation("How do I export my data?")
    community.say(talk, community.member("Ada Lovelace"), 0)
    refresh_states()
    return talk


def test_it_lets_one_person_claim(question: Conversation, bob: User, dora: User) -> None:
    assert services.do_claim(conversation=question, user=bob) is None
    assert services.do_claim(conversation=question, user=bob) is None  # already hers: fine
    assert services.do_claim(conversation=question, user=dora) == bob
    assert Claim.objects.get(conversation=question).user == bob


def test_the_database_refuses_a_second_claim(question: Conversation, bob: User, dora: User) -> None:
    """Two requests that both found the conversation unclaimed: the unique index lets one in."""
    Claim.objects.create(conversation=question, user=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(conversation=question, user=dora)
    assert Claim.objects.filter(conversation=question).count() == 1


def test_it_tries_again_when_the_claim_was_released_in_between(
    question: Conversation, dora: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = Claim.objects.create
    calls: list[int] = []

    def create(**kwargs: Any) -> Claim:
        calls.append(1)
        if len(calls) == 1:  # someone else's claim, gone before we look at it
            raise IntegrityError("UNIQUE constraint failed: inbox_claim.conversation_id")
        return real_create(**kwargs)

    monkeypatch.setattr(Claim.objects, "create", create)
    assert services.do_claim(conversation=question, user=dora) is None
    assert len(calls) == 2
    assert Claim.objects.get(conversation=question).user == dora


def test_only_the_holder_releases(question: Conversation, bob: User, dora: User) -> None:
    assert services.do_release(conversation=question, user=bob) is False
    services.do_claim(conversation=question, user=bob)
    with pytest.raises(services.InboxError, match="Bob Builder claimed this conversation"):
        services.do_release(conversation=question, user=dora)
    assert services.do_release(conversation=question, user=bob) is True
    assert not Claim.objects.exists()


def test_marking_answered_clears_the_claim_and_the_inbox(
    question: Conversation, bob: User, dora: User
) -> None:
    services.do_claim(conversation=question, user=dora)
    state = services.do_mark_answered(
        conversation=question, user=bob, link="https://example.org/answer"
    )
    assert not state.awaiting_reply
    assert (state.answered_by, state.answered_link) == (bob, "https://example.org/answer")
    assert not Claim.objects.exists()
    refresh_states()  # a later refresh keeps it answered
    assert not ConversationState.objects.get(conversation=question).awaiting_reply
    state = services.do_reopen(conversation=question)
    assert state.awaiting_reply and state.answered_at is None


def test_it_refuses_a_link_that_is_not_http(question: Conversation, bob: User) -> None:
    with pytest.raises(services.InboxError, match="http"):
        services.do_mark_answered(conversation=question, user=bob, link="javascript:alert(1)")
    assert ConversationState.objects.get(conversation=question).awaiting_reply


def test_marking_answered_rolls_up_a_conversation_first(community: Community, bob: User) -> None:
    talk = community.conversation()
    community.say(talk, community.member("Ada"), 0)
    services.do_mark_answered(conversation=talk, user=bob)
    assert ConversationState.objects.get(conversation=talk).answered_by == bob


def test_two_managers_through_the_pages(
    question: Conversation, bob_client: Client, dora: User, client: Client
) -> None:
    claim_url = reverse("inbox_claim", args=[question.pk])
    page_url = reverse("inbox_conversation", args=[question.pk])
    response = bob_client.post(claim_url, follow=True)
    assert response.redirect_chain[-1][0] == page_url
    page = response.content.decode()
    assert "You claimed this conversation" in page
    assert "Claimed by you" in page
    assert "Release</button>" in page

    dora_client = Client()
    dora_client.force_login(dora)
    listing = dora_client.get(reverse("inbox")).content.decode()
    assert 'class="claim-holder">Bob Builder</span>' in listing
    assert claim_url not in listing  # no Claim button on a claimed row
    page = dora_client.get(page_url).content.decode()
    assert "Claimed by Bob Builder" in page
    assert ">Claim</button>" not in page
    response = dora_client.post(claim_url, follow=True)
    assert "Already claimed by Bob Builder" in response.content.decode()
    response = dora_client.post(reverse("inbox_release", args=[question.pk]), follow=True)
    assert "only they can release it" in response.content.decode()
    assert Claim.objects.get(conversation=question).user.username == "bob"

    response = dora_client.post(
        reverse("inbox_answered", args=[question.pk]),
        {"link": "https://example.org/thread#answer"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("inbox")
    page = response.content.decode()
    assert "Marked as answered" in page
    assert "Nothing is waiting for a reply" in page
    assert not Claim.objects.exists()
    page = bob_client.get(page_url).content.decode()
    assert "Marked answered by dora" in page
    assert 'href="https://example.org/thread#answer"' in page
    bob_client.post(reverse("inbox_reopen", args=[question.pk]))
    assert ConversationState.objects.get(conversation=question).awaiting_reply


def test_a_bad_link_is_said_plainly(question: Conversation, bob_client: Client) -> None:
    response = bob_client.post(
        reverse("inbox_answered", args=[question.pk]), {"link": "ftp://example.org"}, follow=True
    )
    assert "A link must start with http:// or https://." in response.content.decode()
    assert ConversationState.objects.get(conversation=question).awaiting_reply


@pytest.mark.parametrize("name", ["inbox_claim", "inbox_release", "inbox_answered", "inbox_reopen"])
def test_a_viewer_sees_but_cannot_act(
    question: Conversation, vera: User, client: Client, name: str
) -> None:
    client.force_login(vera)
    page = client.get(reverse("inbox_conversation", args=[question.pk])).content.decode()
    assert "How do I export my data?" in page
    assert "Nobody has claimed this conversation." in page
    assert ">Claim</button>" not in page and "Mark as answered" not in page
    response = client.post(reverse(name, args=[question.pk]), {"link": ""})
    assert response.status_code == 403
    assert "Only managers and admins can claim conversations" in response.content.decode()
    assert not Claim.objects.exists()
    assert ConversationState.objects.get(conversation=question).awaiting_reply


def test_a_reply_keeps_a_claim_but_leaves_the_inbox(
    question: Conversation, community: Community, bob: User
) -> None:
    services.do_claim(conversation=question, user=bob)
    community.say(question, community.member("Ben"), 30, kind=InteractionKind.REPLY)
    refresh_states([question.pk])
    assert not ConversationState.objects.get(conversation=question).awaiting_reply
    assert Claim.objects.filter(conversation=question).exists()
