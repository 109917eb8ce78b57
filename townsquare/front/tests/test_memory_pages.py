"""The member's memory on the profile page: notes, touchpoints, what they taught us, tags,
custom fields and do-not-contact, and "taught us something" on any message."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

from townsquare.community import memory
from townsquare.community.models import (
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Tag,
    Touchpoint,
)
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.front.tests.conftest import DUMMY_TASKS
from townsquare.front.tests.test_untrusted_text import assert_safe
from townsquare.lib.testing import import_export, make_staff

pytestmark = pytest.mark.django_db

USERS = [
    {"id": "U1", "name": "ada", "profile": {"real_name": "Ada Lovelace"}},
    {"id": "U2", "name": "grace", "profile": {"real_name": "Grace Hopper"}},
]
TIP = (
    "Try <https://vega.github.io/vega-lite/|Vega-Lite> for quick charts\n"
    "It saved me hours on the dashboard."
)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def community(db: None, tmp_path: Path) -> Member:
    """Ada asks, Grace answers with a tip: Ada is returned."""
    root = "1700000000.000100"
    general = [
        {"type": "message", "user": "U1", "text": "How do I chart this quickly?", "ts": root},
        {"type": "message", "user": "U2", "text": TIP, "ts": "1700000060.000100",
         "thread_ts": root},
    ]  # fmt: skip
    export = write_slack_export(tmp_path / "memory", {"general": general}, USERS)
    with override_settings(TASKS={"default": {"BACKEND": DUMMY_TASKS}}):
        import_export("slack", export, source="memory")
    return Member.objects.get(display_name="Ada Lovelace")


@pytest.fixture
def grace(community: Member) -> Member:
    return Member.objects.get(display_name="Grace Hopper")


@pytest.fixture
def bob(db: None) -> User:
    return make_staff("bob")


@pytest.fixture
def bob_client(bob: User) -> Client:
    client = Client()
    client.force_login(bob)
    return client


def _page(client: Client, member: Member) -> str:
    response = client.get(reverse("member", args=[member.pk]))
    assert response.status_code == 200
    return response.content.decode()


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value or "" for name, value in attrs if name == "href")


def _links(fragment: str) -> list[str]:
    """Every link's address in a piece of the page, as a browser would read it (not edit or
    delete buttons, which are forms)."""
    parser = _LinkParser()
    parser.feed(fragment)
    return [href for href in parser.hrefs if not href.startswith("/")]


def _assert_back_on(response: object, member: Member, anchor: str) -> None:
    assert getattr(response, "status_code", None) == 302
    expected = f"{reverse('member', args=[member.pk])}#{anchor}"
    assert response["Location"] == expected  # type: ignore[index]


def test_it_shows_the_memory_sections_and_forms_to_staff(
    alice_client: Client, community: Member
) -> None:
    page = _page(alice_client, community)
    for section in ("memory-tags", "memory-fields", "memory-notes", "memory-touchpoints"):
        assert f'id="{section}"' in page
    assert "What they taught us" in page
    assert f'action="{reverse("memory_add_note", args=[community.pk])}"' in page
    assert f'action="{reverse("memory_log_touchpoint", args=[community.pk])}"' in page
    # Channel suggestions: the usual ones and the member's own platforms.
    for channel in ("email", "DM", "call", "in person", "Slack"):
        assert f'<option value="{channel}">' in page
    assert "Do not contact" not in page


def test_it_hides_the_forms_from_non_staff(
    client: Client, charlie: User, community: Member
) -> None:
    client.force_login(charlie)
    page = _page(client, community)
    assert 'id="memory-notes"' in page
    assert reverse("memory_add_note", args=[community.pk]) not in page
    question = Interaction.objects.get(member=community)
    assert reverse("memory_taught_us", args=[question.pk]) not in page
    assert "Taught us something" not in page
    response = client.post(reverse("memory_add_note", args=[community.pk]), {"note-text": "Hello"})
    assert response.status_code == 403
    grace = Member.objects.get(display_name="Grace Hopper")
    tip = Interaction.objects.get(member=grace)
    assert client.post(reverse("memory_taught_us", args=[tip.pk])).status_code == 403
    assert not Note.objects.exists()
    assert not KnowledgeEntry.objects.exists()


def test_it_adds_a_note_and_renders_its_markdown_safely(
    alice_client: Client, alice: User, community: Member
) -> None:
    text = (
        "Met at **PyCon**, loves _charts_.\n\n"
        "- [her blog](https://ada.example/blog)\n"
        "- [trap](javascript:alert(1))\n\n"
        '<script>alert("note")</script> <a href="javascript:alert(2)">raw</a>'
    )
    response = alice_client.post(
        reverse("memory_add_note", args=[community.pk]), {"note-text": text}
    )
    _assert_back_on(response, community, "memory-notes")
    note = Note.objects.get(member=community)
    assert (note.author, note.text) == (alice, text)
    page = _page(alice_client, community)
    assert "<strong>PyCon</strong>" in page
    assert "<em>charts</em>" in page
    assert '<a href="https://ada.example/blog" rel="noopener nofollow">her blog</a>' in page
    notes = page.split('id="memory-notes"')[1].split("</section>")[0]
    assert _links(notes) == ["https://ada.example/blog"]
    assert "[trap](javascript:alert(1))" in notes  # left as text, never a link
    assert '<script>alert("note")' not in page
    assert "&lt;script&gt;" in page
    assert "alice" in page.split(f'id="note-{note.pk}"')[1].split("</li>")[0]


def test_it_lists_notes_newest_first(alice_client: Client, alice: User, community: Member) -> None:
    first = memory.do_add_note(member=community, author=alice, text="First note")
    second = memory.do_add_note(member=community, author=alice, text="Second note")
    page = _page(alice_client, community)
    assert page.index(f'id="note-{second.pk}"') < page.index(f'id="note-{first.pk}"')


def test_it_lets_only_the_author_edit_or_delete_a_note(
    alice_client: Client, bob_client: Client, bob: User, community: Member
) -> None:
    note = memory.do_add_note(member=community, author=bob, text="Bob's note")
    edit = reverse("memory_edit_note", args=[note.pk])
    delete = reverse("memory_delete_note", args=[note.pk])

    # Alice is an admin, but the note is Bob's.
    assert edit not in _page(alice_client, community)
    assert alice_client.get(edit).status_code == 403
    assert alice_client.post(edit, {"note-text": "Alice was here"}).status_code == 403
    assert alice_client.post(delete).status_code == 403
    assert Note.objects.get(pk=note.pk).text == "Bob's note"

    assert edit in _page(bob_client, community)
    form = bob_client.get(edit)
    assert form.status_code == 200
    assert "Bob&#x27;s note</textarea>" in form.content.decode()
    response = bob_client.post(edit, {"note-text": "Bob's *better* note"})
    _assert_back_on(response, community, f"note-{note.pk}")
    assert Note.objects.get(pk=note.pk).text == "Bob's *better* note"
    assert "<em>better</em>" in _page(bob_client, community)

    _assert_back_on(bob_client.post(delete), community, "memory-notes")
    assert not Note.objects.filter(pk=note.pk).exists()


def test_it_shows_a_bad_form_again_with_its_error(alice_client: Client, community: Member) -> None:
    url = reverse("memory_add_note", args=[community.pk])
    response = alice_client.post(url, {"note-text": "   "})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="field-error"' in page
    assert f'action="{url}"' in page
    assert not Note.objects.exists()
    # htmx swaps only successful answers: it gets the same form in a section it can swap in.
    response = alice_client.post(url, {"note-text": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="memory-notes"' in page
    assert f'hx-post="{url}"' in page


def test_it_logs_and_lists_touchpoints_newest_first(
    alice_client: Client, alice: User, bob: User, community: Member
) -> None:
    memory.do_log_touchpoint(
        member=community,
        staff=bob,
        happened_at=datetime(2023, 1, 2, 9, 0, tzinfo=UTC),
        channel="email",
        reason="Older",
        outcome="",
    )
    response = alice_client.post(
        reverse("memory_log_touchpoint", args=[community.pk]),
        {
            "touchpoint-happened_at": "2024-03-05T14:30",
            "touchpoint-channel": "call",
            "touchpoint-reason": "Her question went unanswered",
            "touchpoint-outcome": "Answered; she will write a guide",
        },
    )
    _assert_back_on(response, community, "memory-touchpoints")
    logged = Touchpoint.objects.get(member=community, staff=alice)
    assert logged.happened_at == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    assert (logged.channel, logged.reason) == ("call", "Her question went unanswered")
    assert logged.outcome == "Answered; she will write a guide"

    page = _page(alice_client, community)
    section = page.split('id="memory-touchpoints"')[1].split("</section>")[0]
    assert section.index("Her question went unanswered") < section.index("Older")
    newest = section.split(f'id="touchpoint-{logged.pk}"')[1].split("</li>")[0]
    assert "alice" in newest
    assert "call" in newest
    assert "5 Mar 2024, 14:30" in newest


def test_it_refuses_a_touchpoint_in_the_future(alice_client: Client, community: Member) -> None:
    response = alice_client.post(
        reverse("memory_log_touchpoint", args=[community.pk]),
        {"touchpoint-happened_at": "2999-01-01T10:00", "touchpoint-channel": "call"},
    )
    assert response.status_code == 400
    assert "once it has happened" in response.content.decode()
    assert not Touchpoint.objects.exists()


def test_it_saves_what_a_message_taught_us_in_one_click(
    alice_client: Client, alice: User, community: Member, grace: Member
) -> None:
    tip = Interaction.objects.get(member=grace)
    assert tip.conversation_id is not None
    conversation_url = reverse("conversation", args=[tip.conversation_id])
    button = reverse("memory_taught_us", args=[tip.pk])
    conversation_page = alice_client.get(conversation_url).content.decode()
    assert_safe(conversation_page)
    assert f'action="{button}"' in conversation_page
    # ...and on the member timeline too.
    assert f'action="{button}"' in _page(alice_client, grace)

    back = f"{conversation_url}#i{tip.pk}"
    response = alice_client.post(button, {"next": back})
    entry = KnowledgeEntry.objects.get()
    assert (entry.member, entry.interaction, entry.created_by) == (grace, tip, alice)
    assert entry.title == "Try Vega-Lite for quick charts"
    assert entry.url == "https://vega.github.io/vega-lite/"
    edit = reverse("memory_edit_knowledge", args=[entry.pk])
    assert response.status_code == 302
    assert response["Location"].startswith(f"{edit}?next=")

    form = alice_client.get(response["Location"]).content.decode()
    assert 'value="Try Vega-Lite for quick charts"' in form
    assert f'href="{back}"' in form
    assert f'from <a href="{back}">@grace’s message on <time' in form
    assert ">14 Nov 2023</time>" in form

    response = alice_client.post(
        edit,
        {
            "next": back,
            "knowledge-title": "Vega-Lite for quick charts",
            "knowledge-url": "https://vega.github.io/vega-lite/",
            "knowledge-note": "We now build the **monthly report** with it.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == back
    entry.refresh_from_db()
    assert (entry.title, entry.note) == (
        "Vega-Lite for quick charts",
        "We now build the **monthly report** with it.",
    )

    page = _page(alice_client, grace)
    item = page.split(f'id="knowledge-{entry.pk}"')[1].split("</li>")[0]
    assert (
        '<a href="https://vega.github.io/vega-lite/" rel="noopener nofollow">'
        "Vega-Lite for quick charts</a>"
    ) in item
    assert "<strong>monthly report</strong>" in item
    assert f'From <a href="{back}">@grace’s message on' in item
    assert "saved by alice" in item

    # A second click on the same message opens the same entry.
    again = alice_client.post(button, {"next": back})
    assert again["Location"].startswith(f"{edit}?")
    assert KnowledgeEntry.objects.count() == 1


def test_it_adds_knowledge_by_hand_and_refuses_a_script_link(
    alice_client: Client, community: Member
) -> None:
    url = reverse("memory_add_knowledge", args=[community.pk])
    response = alice_client.post(
        url, {"knowledge-title": "Tip", "knowledge-url": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert not KnowledgeEntry.objects.exists()
    response = alice_client.post(
        url, {"knowledge-title": "Pair on reviews", "knowledge-note": "Said at the meetup"}
    )
    _assert_back_on(response, community, "memory-knowledge")
    entry = KnowledgeEntry.objects.get()
    assert (entry.member, entry.title, entry.url) == (community, "Pair on reviews", "")
    item = _page(alice_client, community).split(f'id="knowledge-{entry.pk}"')[1]
    assert "Credit: Ada Lovelace" in item.split("</li>")[0]
    delete = reverse("memory_delete_knowledge", args=[entry.pk])
    _assert_back_on(alice_client.post(delete), community, "memory-knowledge")
    assert not KnowledgeEntry.objects.exists()


def test_it_shares_tags_across_members_and_removes_them(
    alice_client: Client, community: Member, grace: Member
) -> None:
    response = alice_client.post(
        reverse("memory_add_tag", args=[community.pk]), {"tag-name": "Speaker"}
    )
    _assert_back_on(response, community, "memory-tags")
    alice_client.post(reverse("memory_add_tag", args=[grace.pk]), {"tag-name": "speaker"})
    tag = Tag.objects.get()
    assert tag.name == "Speaker"
    assert set(MemberTag.objects.values_list("member_id", flat=True)) == {community.pk, grace.pk}
    remove = reverse("memory_remove_tag", args=[community.pk, tag.pk])
    page = _page(alice_client, community)
    assert '<span class="tag-name">Speaker</span>' in page
    assert f'action="{remove}"' in page

    _assert_back_on(alice_client.post(remove), community, "memory-tags")
    assert list(MemberTag.objects.values_list("member_id", flat=True)) == [grace.pk]
    assert '<span class="tag-name">Speaker</span>' not in _page(alice_client, community)
    assert '<span class="tag-name">Speaker</span>' in _page(alice_client, grace)


def test_it_adds_edits_and_removes_custom_fields(alice_client: Client, community: Member) -> None:
    url = reverse("memory_set_field", args=[community.pk])
    _assert_back_on(
        alice_client.post(url, {"field-name": "Company", "field-value": "Acme"}),
        community,
        "memory-fields",
    )
    alice_client.post(url, {"field-name": "Time zone", "field-value": "Europe/Paris"})
    alice_client.post(url, {"field-name": "Company", "field-value": "Initech"})
    community.refresh_from_db()
    assert community.custom_fields == {"Company": "Initech", "Time zone": "Europe/Paris"}
    page = _page(alice_client, community)
    section = page.split('id="memory-fields"')[1].split("</section>")[0]
    assert section.index("<dt>Company</dt>") < section.index("<dt>Time zone</dt>")
    assert '<span class="custom-field-value">Initech</span>' in section

    alice_client.post(url, {"field-name": "Company", "field-value": ""})
    community.refresh_from_db()
    assert community.custom_fields == {"Time zone": "Europe/Paris"}


def test_it_shows_a_do_not_contact_banner(alice_client: Client, community: Member) -> None:
    Member.objects.filter(pk=community.pk).update(do_not_contact=True)
    page = _page(alice_client, community)
    banner = page.split('class="dnc-banner"')[1].split("</div>")[0]
    assert 'role="region" aria-labelledby="dnc-title"' in page
    assert "Do not contact" in banner
    # Shown before the rest of the profile.
    assert page.index('class="dnc-banner"') < page.index('id="memory-notes"')


def test_it_escapes_hostile_text_everywhere(
    alice_client: Client, alice: User, community: Member
) -> None:
    memory.do_tag_members(members=[community], tag_name=HOSTILE, actor=alice)
    memory.do_set_custom_field(member=community, name=HOSTILE, value=HOSTILE)
    memory.do_log_touchpoint(
        member=community,
        staff=alice,
        happened_at=datetime(2024, 1, 1, tzinfo=UTC),
        channel=HOSTILE[:90],
        reason=HOSTILE,
        outcome=HOSTILE,
    )
    memory.do_add_knowledge(member=community, created_by=alice, title=HOSTILE, note=HOSTILE)
    memory.do_add_note(member=community, author=alice, text=HOSTILE)
    page = _page(alice_client, community)
    # The memory's own part of the page (other parts have forms of their own).
    assert_safe(page.split('<div class="memory">')[1].split('aria-labelledby="timeline-title"')[0])
    assert "<script>" not in page.replace('<script src="', "")
    assert "<img src=x" not in page
    assert page.count("&lt;script&gt;") >= 7


def test_it_checks_csrf_on_every_memory_form(alice: User, community: Member) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    tip = Interaction.objects.get(member__display_name="Grace Hopper")
    posts = [
        (reverse("memory_add_note", args=[community.pk]), {"note-text": "x"}),
        (reverse("memory_add_tag", args=[community.pk]), {"tag-name": "x"}),
        (reverse("memory_set_field", args=[community.pk]), {"field-name": "x"}),
        (reverse("memory_taught_us", args=[tip.pk]), {}),
        (
            reverse("memory_log_touchpoint", args=[community.pk]),
            {"touchpoint-happened_at": "2024-03-05T14:30"},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert not Note.objects.exists()
    assert not Tag.objects.exists()
    assert not KnowledgeEntry.objects.exists()
    assert not Touchpoint.objects.exists()


def test_it_sends_anonymous_posts_to_login(client: Client, community: Member) -> None:
    url = reverse("memory_add_note", args=[community.pk])
    response = client.post(url, {"note-text": "x"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert not Note.objects.exists()


def test_it_refuses_a_get_on_a_write(alice_client: Client, community: Member) -> None:
    assert alice_client.get(reverse("memory_add_note", args=[community.pk])).status_code == 405
