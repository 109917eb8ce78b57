"""A message a moderator hid is hidden on every page: its words, excerpts of them, the labels and
keywords drawn from them and, when it opens a conversation, that conversation's title. Viewers
read "Hidden by a moderator." wherever it would show; moderators still read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import Client
from django.urls import resolve, reverse

from townsquare.api.services import do_create_token
from townsquare.community.models import Conversation, Interaction
from townsquare.connectors.models import ImportRun
from townsquare.front.tests.exports import SlackExport
from townsquare.front.tests.test_untrusted_text import every_page
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.models import Enrichment
from townsquare.listening.pipeline import enrich_pending
from townsquare.moderation.models import ModerationItem
from townsquare.moderation.services import do_moderate, flag_interactions
from townsquare.webhooks.models import Delivery

pytestmark = pytest.mark.django_db

# A word nobody else writes, at the start of the sentence so that every title and excerpt,
# however short, would hold it.
MARK = "Quokkaquake"
SENTENCE = f"{MARK}! <script>alert('hidden')</script> The moderators here are clowns."
CALM = "The picnic moves to Saturday, bring a blanket"


@pytest.fixture
def harriet(db: None, tmp_path: Path) -> ImportRun:
    """Harriet writes the sentence twice: once opening a thread where Hugo answers twice (his
    expertise is its topic), once on its own, waiting for a reply in the inbox. Then a calm
    message."""
    export = SlackExport(tmp_path / "town")
    export.user("UH", "harriet", "Hidden Harriet")
    export.user("UG", "hugo", "Helpful Hugo")
    export.channel("CT", "town")
    ts = 1_600_000_000
    root = export.message("town", "UH", SENTENCE, ts, reactions={"eyes": ["UG"]})
    export.message("town", "UG", "Try the side door", ts + 60, thread_ts=root)
    export.message("town", "UG", "Or ask at the desk", ts + 120, thread_ts=root)
    export.message("town", "UH", SENTENCE, ts + 600)
    export.message("town", "UH", CALM, ts + 900)
    return import_export("slack", export.write(), source="town")


def _hide_the_sentence(moderator: User) -> list[Interaction]:
    """The moderator hides both messages; their keywords are the mark, so it is an interest of
    Harriet's and an expertise of Hugo's."""
    hidden = list(Interaction.objects.filter(text=SENTENCE).order_by("id"))
    assert len(hidden) == 2
    Enrichment.objects.filter(interaction__in=hidden).update(keywords=[MARK.lower()])
    for message in hidden:
        item = ModerationItem.objects.get(interaction=message)
        do_moderate(item=item, actor=moderator, action="hide", reason="Insults")
    return hidden


def _hide_the_sentence_without_a_walk(moderator: User) -> list[Interaction]:
    """Flag and hide the sentence, without filling every page first."""
    enrich_pending()
    Enrichment.objects.filter(interaction__text=SENTENCE).update(is_toxic=True, toxicity=0.99)
    flag_interactions(list(Interaction.objects.values_list("id", flat=True)))
    return _hide_the_sentence(moderator)


def _walk(client: Client, urls: list[str]) -> dict[str, tuple[int, str]]:
    pages = {}
    for url in urls:
        response = client.get(url)
        pages[url] = (response.status_code, response.content.decode())
    return pages


def _holds_mark(text: str) -> bool:
    return MARK.lower() in text.lower()


def test_it_hides_a_hidden_message_on_every_page_a_viewer_opens(
    client: Client, harriet: ImportRun, moderator: User, viewer: User
) -> None:
    alice = make_staff("alice", superuser=True)
    urls = every_page([harriet], staff=alice, label="town", keywords=["picnic"])
    hidden = _hide_the_sentence(moderator)

    # An admin reads the sentence on these pages: the walk reaches where it would leak.
    client.force_login(alice)
    seen = {url for url, (status, page) in _walk(client, urls).items() if _holds_mark(page)}
    assert {resolve(url.split("?")[0]).url_name for url in seen} >= {
        "conversations",
        "conversation",
        "member",
        "inbox",
        "inbox_conversation",
        "term",
        "care_item",
        "moderation",
        "correct_labels",
        "memory_edit_knowledge",
    }

    client.force_login(viewer)
    pages = _walk(client, urls)
    for url, (status, page) in pages.items():
        assert status in (200, 403), url
        assert not _holds_mark(page), url
    # Every page that showed the admin the sentence and that a viewer may open shows them
    # what a moderator hid, and the rest of the page.
    readable = [url for url in seen if pages[url][0] == 200]
    assert len(readable) >= 8
    for url in readable:
        assert "Hidden by a moderator." in pages[url][1], url
    harriets = reverse("member", args=[hidden[0].member_id])
    assert CALM in pages[harriets][1]

    # The digest emails and the webhook payloads never held it.
    assert mail.outbox
    for email in mail.outbox:
        assert isinstance(email, EmailMultiAlternatives)
        assert not _holds_mark(str(email.body))
        for content, _kind in email.alternatives:
            assert not _holds_mark(str(content))
    assert Delivery.objects.exists()
    for payload in Delivery.objects.values_list("payload", flat=True):
        assert not _holds_mark(json.dumps(payload))


def test_a_moderator_still_reads_it_on_the_thread(
    client: Client, harriet: ImportRun, moderator: User, viewer: User
) -> None:
    hidden = _hide_the_sentence_without_a_walk(moderator)
    conversation = hidden[0].conversation
    assert conversation is not None

    client.force_login(moderator)
    page = client.get(conversation.get_absolute_url()).content.decode()
    assert "<details><summary>Hidden by a moderator</summary>" in page
    assert f"<h1>{MARK}!" in page
    assert page.count(MARK) >= 3  # the title, twice (the page's and the heading), the words

    client.force_login(viewer)
    page = client.get(conversation.get_absolute_url()).content.decode()
    assert "<details>" not in page and not _holds_mark(page)
    assert "Try the side door" in page


def test_the_member_search_does_not_find_who_wrote_hidden_words(
    client: Client, harriet: ImportRun, moderator: User, viewer: User
) -> None:
    _hide_the_sentence_without_a_walk(moderator)
    for user in (viewer, moderator):
        client.force_login(user)
        page = client.get(reverse("members"), {"text": "clowns"}).content.decode()
        assert "0 members" in page and "Hidden Harriet" not in page
        page = client.get(reverse("members"), {"text": "picnic"}).content.decode()
        assert "1 member " in page and "Hidden Harriet" in page


def test_the_api_leaves_out_the_title_of_a_conversation_it_opens(
    client: Client, harriet: ImportRun, moderator: User, viewer: User
) -> None:
    hidden = _hide_the_sentence_without_a_walk(moderator)
    calm = Conversation.objects.get(title=CALM)
    for user, shown in ((viewer, False), (moderator, True)):
        _, key = do_create_token(user=user, name=f"{user.get_username()}'s")
        auth = {"Authorization": f"Bearer {key}"}
        body = client.get("/api/v1/conversations", headers=auth).json()
        titles = {row["id"]: row["title"] for row in body["items"]}
        for message in hidden:
            assert _holds_mark(titles[message.conversation_id]) is shown
        assert titles[calm.pk] == CALM
