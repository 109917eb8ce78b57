"""The team's memory of a member, written through `community.memory`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from townsquare.community import memory
from townsquare.community.models import (
    Identity,
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    Note,
    Source,
    Tag,
    Touchpoint,
)
from townsquare.lib.testing import make_staff

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)


@pytest.fixture
def bob() -> User:
    return make_staff("bob")


def _member(name: str = "Ada Lovelace") -> Member:
    return Member.objects.create(display_name=name)


def _message(member: Member, text: str, *, platform: str = "slack", n: int = 1) -> Interaction:
    source, _ = Source.objects.get_or_create(name=f"{platform} place", platform=platform)
    identity, _ = Identity.objects.get_or_create(
        source=source, external_id=f"U{member.pk}", defaults={"member": member, "handle": "ada"}
    )
    return Interaction.objects.create(
        source=source,
        external_id=f"m{n}",
        kind="message",
        identity=identity,
        member=member,
        text=text,
        created_at=WHEN,
        content_hash="x",
        imported_at=WHEN,
    )


def test_it_adds_edits_and_deletes_a_note(bob: User) -> None:
    person = _member()
    note = memory.do_add_note(member=person, author=bob, text="  Met at **PyCon**.  ")
    assert (note.member, note.author, note.text) == (person, bob, "Met at **PyCon**.")
    memory.do_edit_note(note=note, text="Met at PyCon 2024.")
    assert Note.objects.get(pk=note.pk).text == "Met at PyCon 2024."
    memory.do_delete_note(note=note)
    assert not Note.objects.filter(member=person).exists()


def test_it_refuses_an_empty_note(bob: User) -> None:
    with pytest.raises(ValueError, match="empty"):
        memory.do_add_note(member=_member(), author=bob, text=" \n ")
    assert Note.objects.count() == 0


def test_it_refuses_new_memory_on_a_merged_or_erased_member(bob: User) -> None:
    survivor = _member("Ada")
    merged = Member.objects.create(display_name="Ada L.", merged_into=survivor, merged_at=WHEN)
    erased = Member.objects.create(display_name="", erased_at=WHEN)
    with pytest.raises(ValueError, match="merged"):
        memory.do_add_note(member=merged, author=bob, text="hello")
    with pytest.raises(ValueError, match="erased"):
        memory.do_log_touchpoint(
            member=erased, staff=bob, happened_at=WHEN, channel="", reason="", outcome=""
        )
    with pytest.raises(ValueError, match="merged"):
        memory.do_tag_members(members=[survivor, merged], tag_name="speaker", actor=bob)
    assert not Note.objects.exists()
    assert not Touchpoint.objects.exists()
    assert not MemberTag.objects.exists()


def test_it_logs_a_touchpoint(bob: User) -> None:
    person = _member()
    message = _message(person, "Anyone around?")
    touchpoint = memory.do_log_touchpoint(
        member=person,
        staff=bob,
        happened_at=WHEN,
        channel="  in   person ",
        reason=" Welcome at the meetup ",
        outcome="Will give a talk in May",
        interaction=message,
    )
    stored = Touchpoint.objects.get(pk=touchpoint.pk)
    assert (stored.member, stored.staff, stored.happened_at) == (person, bob, WHEN)
    assert (stored.channel, stored.reason) == ("in person", "Welcome at the meetup")
    assert (stored.outcome, stored.interaction) == ("Will give a talk in May", message)


def test_it_refuses_a_naive_time_or_someone_elses_message(bob: User) -> None:
    person, other = _member("Ada"), _member("Bob")
    with pytest.raises(ValueError, match="timezone"):
        memory.do_log_touchpoint(
            member=person,
            staff=bob,
            happened_at=datetime(2024, 3, 5, 14, 30),  # noqa: DTZ001 - the point of the test
            channel="",
            reason="",
            outcome="",
        )
    with pytest.raises(ValueError, match="not this member"):
        memory.do_log_touchpoint(
            member=person,
            staff=bob,
            happened_at=WHEN,
            channel="",
            reason="",
            outcome="",
            interaction=_message(other, "hi"),
        )


def test_it_drafts_knowledge_from_a_slack_message(bob: User) -> None:
    person = _member()
    message = _message(
        person,
        "Try <https://vega.github.io/vega-lite/|Vega-Lite> for quick charts &amp; maps, "
        "<@U2|bob>.\nIt saved me hours: https://example.org/later.",
    )
    entry = memory.do_add_knowledge_from_message(interaction=message, created_by=bob)
    stored = KnowledgeEntry.objects.get(pk=entry.pk)
    assert stored.member == person
    assert stored.interaction == message
    assert stored.created_by == bob
    assert stored.title == "Try Vega-Lite for quick charts & maps, @bob."
    assert stored.url == "https://vega.github.io/vega-lite/"


def test_it_drafts_knowledge_from_an_html_message(bob: User) -> None:
    person = _member()
    message = _message(
        person,
        '<p>Use <a href="https://docs.python.org/3/library/bisect.html">bisect</a> &amp; '
        "sort once.</p><p>Second paragraph.</p>",
        platform="stackexchange",
    )
    title, link = memory.message_title_and_link(message, "stackexchange")
    assert title == "Use bisect & sort once."
    assert link == "https://docs.python.org/3/library/bisect.html"


def test_it_uses_the_link_as_title_when_the_first_line_is_only_a_link() -> None:
    person = _member()
    message = _message(person, "\n  https://example.org/guide).\n")
    assert memory.message_title_and_link(message, "csv") == (
        "https://example.org/guide).",
        "https://example.org/guide",
    )


def test_it_cuts_a_long_first_line() -> None:
    message = _message(_member(), "word " * 200)
    title, link = memory.message_title_and_link(message, "csv")
    assert len(title) == memory.TITLE_LENGTH
    assert title.endswith("…")
    assert link == ""


def test_it_finds_the_entry_a_first_click_made(bob: User) -> None:
    message = _message(_member(), "A tip")
    first = memory.do_add_knowledge_from_message(interaction=message, created_by=bob)
    second = memory.do_add_knowledge_from_message(interaction=message, created_by=bob)
    assert first.pk == second.pk
    assert KnowledgeEntry.objects.count() == 1


def test_it_refuses_a_message_without_author(bob: User) -> None:
    message = _message(_member(), "A tip")
    Interaction.objects.filter(pk=message.pk).update(member=None)
    message.refresh_from_db()
    with pytest.raises(ValueError, match="author"):
        memory.do_add_knowledge_from_message(interaction=message, created_by=bob)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/admin/", "ftp://x.org/f"]
)
def test_it_refuses_links_that_are_not_web_addresses(bob: User, url: str) -> None:
    with pytest.raises(ValueError, match="http"):
        memory.do_add_knowledge(member=_member(), created_by=bob, title="Tip", url=url)
    assert not KnowledgeEntry.objects.exists()


def test_it_edits_and_deletes_knowledge(bob: User) -> None:
    entry = memory.do_add_knowledge(
        member=_member(), created_by=bob, title="A tip", url="https://a.example"
    )
    memory.do_edit_knowledge(entry=entry, title=" Better   title ", url="", note="We use it")
    stored = KnowledgeEntry.objects.get(pk=entry.pk)
    assert (stored.title, stored.url, stored.note) == ("Better title", "", "We use it")
    memory.do_delete_knowledge(entry=stored)
    assert not KnowledgeEntry.objects.exists()


def test_it_shares_tags_across_members_whatever_the_letter_case(bob: User) -> None:
    ada, grace = _member("Ada"), _member("Grace")
    speaker = memory.do_tag_members(members=[ada], tag_name=" Speaker ", actor=bob)
    again = memory.do_tag_members(members=[ada, grace], tag_name="speaker", actor=bob)
    assert again == speaker
    assert Tag.objects.count() == 1
    assert speaker.name == "Speaker"
    tagged = set(MemberTag.objects.filter(tag=speaker).values_list("member_id", "added_by_id"))
    assert tagged == {(ada.pk, bob.pk), (grace.pk, bob.pk)}


def test_it_removes_a_tag_from_one_member_only(bob: User) -> None:
    ada, grace = _member("Ada"), _member("Grace")
    tag = memory.do_tag_members(members=[ada, grace], tag_name="beta tester", actor=bob)
    memory.do_untag_member(member=ada, tag=tag)
    assert list(MemberTag.objects.values_list("member_id", flat=True)) == [grace.pk]
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_it_refuses_an_empty_tag(bob: User) -> None:
    with pytest.raises(ValueError, match="name"):
        memory.do_tag_members(members=[_member()], tag_name="   ", actor=bob)


def test_it_sets_changes_and_removes_custom_fields() -> None:
    person = _member()
    memory.do_set_custom_field(member=person, name=" company ", value="Acme")
    memory.do_set_custom_field(member=person, name="time zone", value="Europe/Paris")
    memory.do_set_custom_field(member=person, name="company", value="Initech")
    assert Member.objects.get(pk=person.pk).custom_fields == {
        "company": "Initech",
        "time zone": "Europe/Paris",
    }
    memory.do_set_custom_field(member=person, name="company", value="  ")
    assert Member.objects.get(pk=person.pk).custom_fields == {"time zone": "Europe/Paris"}
    assert person.custom_fields == {"time zone": "Europe/Paris"}


def test_it_keeps_a_field_set_meanwhile_by_someone_else() -> None:
    person = _member()
    stale = Member.objects.get(pk=person.pk)
    memory.do_set_custom_field(member=person, name="company", value="Acme")
    memory.do_set_custom_field(member=stale, name="city", value="Lyon")
    assert Member.objects.get(pk=person.pk).custom_fields == {"company": "Acme", "city": "Lyon"}


def test_it_keeps_memory_newest_first(bob: User) -> None:
    person = _member()
    older = memory.do_log_touchpoint(
        member=person, staff=bob, happened_at=WHEN, channel="", reason="", outcome=""
    )
    newer = memory.do_log_touchpoint(
        member=person, staff=bob, happened_at=timezone.now(), channel="", reason="", outcome=""
    )
    assert list(person.touchpoints.all()) == [newer, older]
