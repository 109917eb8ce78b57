from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from townsquare.community.models import (
    Conversation,
    Identity,
    Interaction,
    InteractionKind,
    Member,
    Source,
)
from townsquare.connectors.base import reject
from townsquare.connectors.models import ImportRun, RejectedRecord
from townsquare.connectors.records import (
    ConversationRecord,
    IdentityRecord,
    InteractionRecord,
    Record,
)
from townsquare.connectors.writer import Writer

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def write(records: list[Record], *, source: Source | None = None, batch_size: int = 2) -> ImportRun:
    source = source or Source.objects.get_or_create(name="test", platform="csv")[0]
    run = ImportRun.objects.create(source=source, format="csv", path="memory")
    writer = Writer(run=run, source=source, batch_size=batch_size)
    for record in records:
        writer.add(record)
    writer.finish()
    return run


def message(ext: str, author: str = "u1", minutes: int = 0, **kw: object) -> InteractionRecord:
    fields: dict[str, object] = {
        "kind": InteractionKind.MESSAGE,
        "created_at": T0 + timedelta(minutes=minutes),
        "author_id": author,
        "channel_id": "c1",
        "conversation_id": ext,
        "text": f"text of {ext}",
        "raw": {"id": ext},
    }
    fields.update(kw)
    return InteractionRecord(external_id=ext, **fields)  # type: ignore[arg-type]


def thread() -> Iterator[Record]:
    yield IdentityRecord(external_id="u1", handle="ada", display_name="Ada")
    yield IdentityRecord(external_id="u2", handle="bo", display_name="Bo")
    yield ConversationRecord(external_id="m1", started_at=T0, title="Hello", channel_id="c1")
    yield message("m1")
    yield message("m2", "u2", 5, kind=InteractionKind.REPLY, conversation_id="m1", parent_id="m1")
    yield message("m3", "u1", 9, kind=InteractionKind.REPLY, conversation_id="m1", parent_id="m2")


@pytest.mark.django_db
def test_it_writes_a_thread_with_links_and_member_activity() -> None:
    run = write(list(thread()))
    assert run.counts["created"] == {
        "channel": 1,
        "conversation": 1,
        "identity": 2,
        "message": 1,
        "reply": 2,
    }
    m1, m2, m3 = Interaction.objects.order_by("created_at")
    assert m2.parent_id == m1.id and m3.parent_id == m2.id
    assert {m1.conversation_id, m2.conversation_id, m3.conversation_id} == {
        Conversation.objects.get().id
    }
    ada = Member.objects.get(display_name="Ada")
    assert ada.interaction_count == 2
    assert ada.first_seen_at == T0
    assert ada.last_seen_at == T0 + timedelta(minutes=9)
    assert m1.member_id == ada.id and m1.identity_id == Identity.objects.get(handle="ada").id
    assert m1.raw == {"id": "m1"}


@pytest.mark.django_db
def test_it_adds_nothing_on_a_second_run() -> None:
    write(list(thread()))
    before = (Interaction.objects.count(), Member.objects.count(), Conversation.objects.count())
    run = write(list(thread()))
    assert run.counts["created"] == {}
    assert run.counts["updated"] == {}
    # The channel was only referred to, never described: it is not re-read.
    assert run.counts["unchanged"] == {"conversation": 1, "identity": 2, "message": 1, "reply": 2}
    assert (Interaction.objects.count(), Member.objects.count(), Conversation.objects.count()) == (
        before
    )


@pytest.mark.django_db
def test_it_applies_an_edit_to_the_same_row() -> None:
    write(list(thread()))
    original = Interaction.objects.get(external_id="m2")
    edited = [
        r
        if not (isinstance(r, InteractionRecord) and r.external_id == "m2")
        else message(
            "m2",
            "u2",
            5,
            kind=InteractionKind.REPLY,
            conversation_id="m1",
            parent_id="m1",
            text="fixed typo",
            edited_at=T0 + timedelta(hours=1),
        )
        for r in thread()
    ]
    run = write(edited)
    assert run.counts["updated"] == {"reply": 1}
    row = Interaction.objects.get(external_id="m2")
    assert row.pk == original.pk
    assert row.text == "fixed typo"
    assert row.edited_at == T0 + timedelta(hours=1)
    assert row.parent_id == Interaction.objects.get(external_id="m1").pk


@pytest.mark.django_db
def test_it_fills_in_an_author_described_after_their_messages() -> None:
    write([message("m1", "late"), IdentityRecord(external_id="late", display_name="Late Lee")])
    identity = Identity.objects.get(external_id="late")
    assert not identity.is_placeholder
    assert identity.member.display_name == "Late Lee"

    write([message("m9", "ghost")])
    ghost = Identity.objects.get(external_id="ghost")
    assert ghost.is_placeholder and ghost.member.display_name == "ghost"
    write([IdentityRecord(external_id="ghost", handle="g", display_name="Gus")])
    ghost.refresh_from_db()
    assert not ghost.is_placeholder
    assert ghost.member.display_name == "Gus"


@pytest.mark.django_db
def test_it_starts_an_undescribed_conversation_with_its_earliest_message() -> None:
    write(
        [
            message("r", minutes=10, conversation_id="t", text="a reply"),
            message("t0", minutes=1, conversation_id="t", text="The opening line\nmore"),
        ]
    )
    conversation = Conversation.objects.get(external_id="t")
    assert conversation.started_at == T0 + timedelta(minutes=1)
    assert conversation.title == "The opening line"


@pytest.mark.django_db
def test_it_links_a_reply_to_a_parent_imported_in_a_later_run() -> None:
    write([message("child", parent_id="parent", kind=InteractionKind.REPLY)])
    assert Interaction.objects.get(external_id="child").parent_id is None
    write([message("parent")])
    child = Interaction.objects.get(external_id="child")
    assert child.parent_id == Interaction.objects.get(external_id="parent").pk


@pytest.mark.django_db
def test_it_keeps_rejected_records_with_their_reason() -> None:
    run = write([message("ok"), reject("file.json[3]", "a message needs a 'ts'", {"x": 1})])
    assert run.rejected_count == 1
    rejected = RejectedRecord.objects.get(run=run)
    assert rejected.location == "file.json[3]"
    assert rejected.reason == "a message needs a 'ts'"
    assert rejected.excerpt == '{"x": 1}'
    assert Interaction.objects.filter(external_id="ok").exists()


@pytest.mark.django_db
def test_it_keeps_sources_apart() -> None:
    a = Source.objects.create(name="a", platform="csv")
    b = Source.objects.create(name="b", platform="csv")
    write([message("same-id")], source=a)
    write([message("same-id")], source=b)
    assert Interaction.objects.filter(external_id="same-id").count() == 2
    assert Identity.objects.filter(external_id="u1").count() == 2


def test_the_shared_data_folder_is_there(shared_data: Path) -> None:
    assert (shared_data / "slack_houstondatavis" / "users.json").is_file()


@pytest.mark.django_db
def test_it_stores_text_with_a_lone_surrogate_instead_of_failing() -> None:
    broken = "caf\ud800e"  # json.loads('"caf\\ud800e"') gives exactly this
    run = write(
        [
            IdentityRecord(external_id="u1", display_name=f"Ada {broken}", raw={"n": broken}),
            message("m1", text=f"text {broken}", raw={"text": broken}),
        ]
    )
    row = Interaction.objects.get(external_id="m1")
    assert row.text == "text caf\ufffde"
    assert row.raw == {"text": "caf\ufffde"}
    assert Member.objects.get(identities__external_id="u1").display_name == "Ada caf\ufffde"
    assert Identity.objects.get(external_id="u1").raw == {"n": "caf\ufffde"}
    again = write([message("m1", text=f"text {broken}", raw={"text": broken})])
    assert again.counts["unchanged"] == {"message": 1}
    assert run.counts["created"]["message"] == 1
