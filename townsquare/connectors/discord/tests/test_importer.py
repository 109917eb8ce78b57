from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from townsquare.community.models import Channel, Conversation, Identity, Interaction
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import RejectedRecord, RunStatus
from townsquare.lib.testing import import_export

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "guild-channel.json"
SAMPLES = "chat_analytics_format_samples/tests/samples/discord"


def read_export(path: Path) -> Counter[str]:
    """An independent reading of one DiscordChatExporter file: what the import should hold."""
    data = json.loads(path.read_text(encoding="utf-8"))
    channel_id = data["channel"]["id"]
    counts: Counter[str] = Counter()
    people: set[str] = set()
    reactions: set[tuple[str, str, str]] = set()
    by_id = {m["id"]: m for m in data["messages"]}  # the last copy of a repeated id counts
    for m in by_id.values():
        people.add(m["author"]["id"])
        ref = m.get("reference") or {}
        if m["type"] in ("GuildMemberJoin", "RecipientAdd"):
            counts["join"] += 1
        elif ref.get("messageId") and (
            m["type"] == "Reply" or (m["type"] == "Default" and ref["channelId"] == channel_id)
        ):
            # Old exports wrote replies as "Default" messages with a same-channel reference.
            counts["reply"] += 1
        elif m["type"] in ("Default", "Reply"):
            counts["message"] += 1
        else:
            counts["event"] += 1
        for r in m.get("reactions", []):
            for u in r.get("users", []):
                people.add(u["id"])
                reactions.add((m["id"], r["emoji"]["name"] or r["emoji"]["id"], u["id"]))
    counts["reaction"] = len(reactions)
    counts["people"] = len(people)
    return counts


@pytest.mark.django_db
def test_it_imports_the_format_samples(shared_data: Path) -> None:
    files = sorted((shared_data / SAMPLES).glob("*.json"))
    assert len(files) == 3
    for file in files:
        expected = read_export(file)
        run = import_export("discord", file, source=file.stem)
        assert run.status == RunStatus.SUCCEEDED and run.rejected_count == 0
        interactions = Interaction.objects.filter(source__name=file.stem)
        kinds = Counter(interactions.values_list("kind", flat=True))
        for kind in ("message", "reply", "join", "event", "reaction"):
            assert kinds[kind] == expected[kind], (file.name, kind)
        assert Identity.objects.filter(source__name=file.stem).count() == expected["people"]
        conversations = Conversation.objects.filter(source__name=file.stem)
        assert conversations.count() == expected["message"]
        assert Channel.objects.filter(source__name=file.stem).count() == 1
        for reply in interactions.filter(kind="reply"):
            assert reply.parent is not None
            assert reply.conversation_id == reply.parent.conversation_id
    nickname = Identity.objects.get(source__name="GC_3A_5M", external_id="333333333333333333")
    assert (nickname.handle, nickname.display_name) == ("not a plant", "theplant")
    assert Identity.objects.get(source__name="DM_2A_2M", external_id="444444444444444444").is_bot


@pytest.mark.django_db
def test_it_links_replies_reactions_joins_and_edits() -> None:
    run = import_export("discord", FIXTURE)
    assert run.status == RunStatus.SUCCEEDED

    question = Interaction.objects.get(external_id="900000000000000101")
    answer = Interaction.objects.get(external_id="900000000000000102")
    thanks = Interaction.objects.get(external_id="900000000000000103")
    assert question.kind == "message" and question.edited_at is not None
    assert answer.kind == "reply" and answer.parent_id == question.id
    assert thanks.parent_id == answer.id
    assert question.conversation_id == answer.conversation_id == thanks.conversation_id
    assert question.conversation is not None
    assert question.conversation.title == "How do I export a channel?"
    assert question.raw is not None
    assert question.raw["attachments"][0]["fileName"] == "screenshot.png"
    # The reaction with only a count stays in the message's raw payload.
    assert question.raw["reactions"][1]["count"] == 5

    reactions = Interaction.objects.filter(kind="reaction", parent=question)
    assert sorted(r.external_id for r in reactions) == [
        "900000000000000101:reaction:👀:900000000000001002",
        "900000000000000101:reaction:👀:900000000000001003",
    ]
    join = Interaction.objects.get(kind="join")
    assert join.identity is not None and join.identity.external_id == "900000000000001001"
    assert join.conversation_id is None
    pinned = Interaction.objects.get(external_id="900000000000000104")
    assert pinned.kind == "event" and pinned.parent_id is None
    bot = Identity.objects.get(external_id="900000000000001003")
    assert bot.is_bot and bot.display_name == "Helper"
    channel = Channel.objects.get()
    assert (channel.external_id, channel.name, channel.topic) == (
        "900000000000000010",
        "Support/help",
        "Ask anything",
    )
    file_only = Interaction.objects.get(external_id="900000000000000105")
    assert file_only.conversation is not None and file_only.conversation.title == "faq.pdf"


@pytest.mark.django_db
def test_it_applies_edits_on_reimport_and_adds_nothing(tmp_path: Path) -> None:
    export = tmp_path / "help.json"
    shutil.copy(FIXTURE, export)
    import_export("discord", tmp_path)
    total = Interaction.objects.count()

    again = import_export("discord", tmp_path)
    assert again.counts["created"] == {}
    assert Interaction.objects.count() == total

    data = json.loads(export.read_text())
    data["messages"][2]["content"] = "Use the CLI, then --format Json."
    export.write_text(json.dumps(data, ensure_ascii=False, indent=2))
    edited = import_export("discord", tmp_path)
    assert edited.counts["updated"] == {"reply": 1}
    assert Interaction.objects.get(external_id="900000000000000102").text.startswith(
        "Use the CLI, then"
    )
    assert Interaction.objects.count() == total


@pytest.mark.django_db
def test_it_reads_a_channel_written_after_the_messages(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text())
    reordered = {"messages": data["messages"], "channel": data["channel"], "guild": data["guild"]}
    export = tmp_path / "late-header.json"
    export.write_text(json.dumps(reordered))
    import_export("discord", export)
    assert Channel.objects.get().name == "Support/help"
    assert Interaction.objects.exclude(channel__external_id="900000000000000010").count() == 0
    assert Interaction.objects.count() == 8


@pytest.mark.django_db
def test_it_names_the_file_and_line_of_broken_json(tmp_path: Path) -> None:
    export = tmp_path / "broken.json"
    lines = FIXTURE.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if '"content": "Thanks' in line)
    lines[target] = lines[target].rstrip(",")  # a missing comma between two keys
    export.write_text("\n".join(lines))
    with pytest.raises(ImportFormatError) as e:
        import_export("discord", export)
    message = str(e.value)
    assert str(export) in message
    assert f"line {target + 2}" in message
    assert "messages[3]" in message and "expected JSON" in message


@pytest.mark.django_db
def test_it_rejects_a_message_without_id_or_timestamp_and_goes_on(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text())
    no_time = dict(data["messages"][5], id="900000000000000199")
    del no_time["timestamp"]
    no_id = dict(data["messages"][5])
    del no_id["id"]
    data["messages"] += [no_time, no_id]
    export = tmp_path / "help.json"
    export.write_text(json.dumps(data))
    run = import_export("discord", export)
    assert run.status == RunStatus.SUCCEEDED
    assert Interaction.objects.count() == 8
    rejected = {r.location: r for r in RejectedRecord.objects.filter(run=run)}
    assert "'timestamp'" in rejected["help.json:messages[6]"].reason
    assert "900000000000000199" in rejected["help.json:messages[6]"].excerpt
    assert "'id'" in rejected["help.json:messages[7]"].reason


@pytest.mark.django_db
def test_it_refuses_what_is_not_a_discord_export(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"id": "1"}]))
    with pytest.raises(ImportFormatError, match="an object with a 'channel'"):
        import_export("discord", other)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImportFormatError, match=r"expected DiscordChatExporter \.json files"):
        import_export("discord", empty)
