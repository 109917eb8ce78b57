"""The moderation pages: the queue, the audit log, the watched words; who may act on them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community.models import Channel, Interaction
from townsquare.connectors.models import ImportRun
from townsquare.lib.testing import make_staff
from townsquare.moderation.models import ModerationAction, ModerationItem, WatchedWord
from townsquare.moderation.services import do_moderate
from townsquare.moderation.tests.conftest import (
    GIVEAWAY,
    IMMEDIATE_TASKS,
    QUESTION,
    SPAM,
    TOXIC,
    CaptureOnCommit,
    import_community,
    item_of,
)

pytestmark = pytest.mark.django_db

AssertNumQueries = Callable[[int], AbstractContextManager[Any]]
HTMX = {"HX-Request": "true"}


def page(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def decide(client: Client, item: ModerationItem, action: str, reason: str = "", **kw: Any) -> Any:
    url = reverse("moderation_decide", args=[item.pk])
    return client.post(url, {"action": action, "reason": reason}, **kw)


def test_the_queue_shows_each_message_in_its_context(
    mo_client: Client, community: ImportRun
) -> None:
    html = page(mo_client, reverse("moderation"))

    assert html.count('class="moderation-item') == 2
    assert "2 flagged messages" in html
    toxic = item_of(TOXIC)
    ronnie = toxic.interaction.member
    assert ronnie is not None
    # The author links to the member page; the message it replies to is shown above it.
    assert f'<a class="author" href="{ronnie.get_absolute_url()}">Rude Ronnie</a>' in html
    assert "In reply to" in html and QUESTION in html
    # The spam post starts no thread: the message before it in its channel is its context.
    assert "After" in html and GIVEAWAY in html
    # Reasons and the analyzers' labels.
    assert '<li class="label label-reason label-reason-toxicity">Toxic' in html
    assert '<li class="label label-reason label-reason-spam">Spam' in html
    assert 'class="label label-toxic"' in html
    # A moderator gets the actions, each with the reason field.
    assert html.count('name="reason"') == 2
    assert 'value="false_positive"' in html


def test_the_queue_lists_pending_first_and_review_required_first(
    mo_client: Client, community: ImportRun, moderator: User
) -> None:
    spam, toxic = item_of(SPAM), item_of(TOXIC)
    # The spam is the newest message; the toxic one requires review.
    ModerationItem.objects.filter(pk=toxic.pk).update(requires_review=True)
    html = page(mo_client, reverse("moderation"))
    assert html.index(f'id="m{toxic.pk}"') < html.index(f'id="m{spam.pk}"')
    assert "Review required" in html

    ModerationItem.objects.filter(pk=toxic.pk).update(requires_review=False)
    html = page(mo_client, reverse("moderation"))
    assert html.index(f'id="m{spam.pk}"') < html.index(f'id="m{toxic.pk}"')

    do_moderate(item=spam, actor=moderator, action="approve")
    html = page(mo_client, reverse("moderation"))
    assert html.index(f'id="m{toxic.pk}"') < html.index(f'id="m{spam.pk}"')


def test_the_queue_filters_by_reason_status_and_channel(
    mo_client: Client, community: ImportRun, moderator: User
) -> None:
    spam, toxic = item_of(SPAM), item_of(TOXIC)
    do_moderate(item=spam, actor=moderator, action="escalate", reason="Ask the lead")
    url = reverse("moderation")

    def shown(**params: Any) -> set[int]:
        html = page(mo_client, url, **params)
        return {i.pk for i in (spam, toxic) if f'id="m{i.pk}"' in html}

    assert shown(kind="spam") == {spam.pk}
    assert shown(kind="toxicity") == {toxic.pk}
    assert shown(kind="watched_word") == set()
    assert shown(status="escalated") == {spam.pk}
    assert shown(status="pending") == {toxic.pk}
    general = Channel.objects.get(name="general")
    assert shown(channel=general.pk) == {toxic.pk}
    # A bad value drops its filter.
    assert shown(kind="nonsense", channel="x") == {spam.pk, toxic.pk}
    # htmx refreshes the results alone.
    headers = {**HTMX, "HX-Target": "queue-results"}
    response = mo_client.get(url, {"kind": "spam"}, headers=headers)
    assert response.content.decode().startswith('<div id="queue-results"')


def test_a_viewer_reads_the_pages_but_sees_no_actions_and_cannot_act(
    client: Client, viewer: User, community: ImportRun
) -> None:
    client.force_login(viewer)
    item = item_of(TOXIC)
    word = WatchedWord.objects.create(term="giveaway")

    queue = page(client, reverse("moderation"))
    assert TOXIC in queue
    assert 'name="reason"' not in queue and "moderation-actions" not in queue
    words = page(client, reverse("moderation_words"))
    assert "giveaway" in words and "Pause" not in words and 'name="term"' not in words
    page(client, reverse("moderation_log"))

    response = decide(client, item, "hide", "no")
    assert response.status_code == 403
    assert "Only moderators, managers and admins can act on flagged messages." in (
        response.content.decode()
    )
    assert client.post(reverse("moderation_words"), {"term": "x"}).status_code == 403
    url = reverse("moderation_word_active", args=[word.pk])
    assert client.post(url, {"active": "0"}).status_code == 403
    item.refresh_from_db()
    assert item.status == "pending"
    assert WatchedWord.objects.get().is_active
    assert not ModerationAction.objects.exists()


def test_a_moderator_hides_a_message_in_place_and_it_is_logged(
    mo_client: Client, community: ImportRun, moderator: User
) -> None:
    item = item_of(TOXIC)

    response = decide(mo_client, item, "hide", "Personal insults", headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<li class="moderation-item" id="m{item.pk}"')
    assert "Hidden: Townsquare no longer shows its text." in html
    assert "Hidden by mo" in html
    item.refresh_from_db()
    assert (item.status, item.is_hidden, item.decided_by) == ("hidden", True, moderator)

    log = page(mo_client, reverse("moderation_log"))
    assert "Personal insults" in log
    assert "<td>mo</td>" in log
    assert "Pending → Hidden" in log
    assert f"#i{item.interaction_id}" in log


def test_a_decision_without_a_reason_is_refused_in_place(
    mo_client: Client, community: ImportRun
) -> None:
    item = item_of(TOXIC)

    response = decide(mo_client, item, "escalate", "  ", headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert">Say why: a reason is required to escalate.</p>' in html
    item.refresh_from_db()
    assert item.status == "pending"


def test_a_plain_form_post_goes_back_to_the_queue_with_a_message(
    mo_client: Client, community: ImportRun
) -> None:
    item = item_of(SPAM)
    url = reverse("moderation") + "?status=pending"

    response = mo_client.post(
        reverse("moderation_decide", args=[item.pk]),
        {"action": "false_positive", "reason": "A real contest", "next": url},
    )

    assert response.status_code == 302 and response["Location"] == url
    html = page(mo_client, reverse("moderation"))
    assert "Marked as a false positive; its labels are corrected." in html
    response = mo_client.post(
        reverse("moderation_decide", args=[item.pk]), {"action": "hide", "next": "https://evil"}
    )
    assert response["Location"] == reverse("moderation")
    assert "Say why" in page(mo_client, reverse("moderation"))


def test_the_log_filters_by_who_and_what(
    mo_client: Client, community: ImportRun, moderator: User
) -> None:
    other = make_staff("max", role="moderator")
    do_moderate(item=item_of(TOXIC), actor=moderator, action="hide", reason="Insults")
    do_moderate(item=item_of(SPAM), actor=other, action="escalate", reason="Unsure")
    url = reverse("moderation_log")

    assert "Insults" in page(mo_client, url) and "Unsure" in page(mo_client, url)
    mine = page(mo_client, url, actor=moderator.pk)
    assert "Insults" in mine and "Unsure" not in mine
    escalations = page(mo_client, url, action="escalate")
    assert "Unsure" in escalations and "Insults" not in escalations


def test_a_hidden_message_is_hidden_in_its_conversation(
    client: Client, community: ImportRun, moderator: User, viewer: User
) -> None:
    item = item_of(TOXIC)
    conversation = item.interaction.conversation
    assert conversation is not None
    do_moderate(item=item, actor=moderator, action="hide", reason="Insults")
    url = conversation.get_absolute_url()

    client.force_login(viewer)
    html = page(client, url)
    assert "Hidden by a moderator." in html
    assert "moron" not in html
    assert QUESTION in html

    client.force_login(moderator)
    html = page(client, url)
    assert "<details><summary>Hidden by a moderator</summary>" in html
    assert "moron" in html


def test_a_moderator_adds_pauses_and_resumes_watched_words(
    mo_client: Client,
    community: ImportRun,
    moderator: User,
    settings: Any,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    url = reverse("moderation_words")
    with django_capture_on_commit_callbacks(execute=True):
        response = mo_client.post(url, {"term": " Giveaway ", "action": "review", "tag": ""})

    assert response.status_code == 302 and response["Location"] == url
    word = WatchedWord.objects.get()
    assert (word.term, word.action, word.created_by) == ("Giveaway", "review", moderator)
    assert item_of(GIVEAWAY).requires_review
    html = page(mo_client, url)
    assert "Now watching “Giveaway”." in html and "Require review" in html

    duplicate = mo_client.post(url, {"term": "GIVEAWAY", "action": "flag"})
    assert duplicate.status_code == 400
    assert "“Giveaway” is already watched." in duplicate.content.decode()
    untagged = mo_client.post(url, {"term": "prize", "action": "tag", "tag": " "})
    assert untagged.status_code == 400
    assert "Name the tag that messages with this word get." in untagged.content.decode()

    active = reverse("moderation_word_active", args=[word.pk])
    assert mo_client.post(active, {"active": "0"})["Location"] == url
    assert not WatchedWord.objects.get().is_active
    assert "is paused" in page(mo_client, url)
    mo_client.post(active, {"active": "1"})
    assert WatchedWord.objects.get().is_active


def test_the_main_navigation_shows_the_pending_count(
    mo_client: Client, community: ImportRun
) -> None:
    home = page(mo_client, reverse("home"))
    count_url = reverse("moderation_pending_count")
    assert f'hx-get="{count_url}" hx-trigger="load"' in home

    assert '<span class="nav-count" title="2 pending">2' in page(mo_client, count_url)
    ModerationItem.objects.update(status="approved")
    assert page(mo_client, count_url).strip() == ""


def test_hostile_text_is_escaped_everywhere(
    mo_client: Client, db: None, tmp_path: Path, moderator: User
) -> None:
    hostile = '<script>alert("x")</script> you stupid idiot, <img src=x onerror=alert(1)>'
    WatchedWord.objects.create(term="<b>idiot</b> idiot", action="flag")
    WatchedWord.objects.create(term="idiot", action="flag")
    import_community(tmp_path / "hostile", toxic=hostile)
    item = item_of(hostile)
    do_moderate(item=item, actor=moderator, action="escalate", reason="<i>why</i>")

    queue = page(mo_client, reverse("moderation"))
    log = page(mo_client, reverse("moderation_log"))
    words = page(mo_client, reverse("moderation_words"))

    for html in (queue, log, words):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>idiot</b>" not in html
        assert "<i>why</i>" not in html
    assert "&lt;script&gt;" in queue
    assert "&lt;i&gt;why&lt;/i&gt;" in log
    assert "&lt;b&gt;idiot&lt;/b&gt; idiot" in words


def test_the_queue_costs_the_same_queries_whatever_its_length(
    mo_client: Client,
    db: None,
    tmp_path: Path,
    moderator: User,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    import_community(tmp_path / "small")
    WatchedWord.objects.create(term="giveaway", action="tag", tag="giveaways")
    url = reverse("moderation")
    # session, user, role (3); channels for the filter (1), count (1), the page (1), which
    # messages are their context (1) and those messages (1), tags (1), term matches (1)
    with django_assert_num_queries(10):
        small = page(mo_client, url)
    assert small.count('class="moderation-item') == 2

    # Twenty-eight more flagged replies, each in its thread after another member's message.
    toxic, question = item_of(TOXIC), Interaction.objects.get(text=QUESTION)
    for n in range(28):
        parent = Interaction.objects.get(pk=question.pk)
        parent.pk = None
        parent.external_id = f"q{n}"
        parent.save()
        reply = Interaction.objects.get(pk=toxic.interaction_id)
        reply.pk = None
        reply.external_id = f"r{n}"
        reply.parent = parent
        reply.save()
        ModerationItem.objects.create(
            interaction=reply, reasons=toxic.reasons, kinds="toxicity", text_hash="x"
        )
    with django_assert_num_queries(10):
        big = page(mo_client, url)
    assert big.count('class="moderation-item') == 25
    # The newest, the spam post, after the message before it; the replies after their parent.
    assert big.count("After") == 1
    assert big.count("In reply to") == 24
