from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from townsquare.community.models import Channel, Conversation, Identity, Interaction
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import RejectedRecord, RunStatus
from townsquare.lib.testing import import_export

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "account-export.json"
SAMPLE = "chat_analytics_format_samples/tests/samples/telegram/DM_2A_7M.json"


def read_export(path: Path) -> Counter[str]:
    """An independent reading of a Telegram Desktop export: what the import should hold."""
    data = json.loads(path.read_text(encoding="utf-8"))
    chats: list[dict[str, Any]] = (
        data["chats"]["list"] + data.get("left_chats", {}).get("list", [])
        if "chats" in data
        else [data]
    )
    counts: Counter[str] = Counter()
    people: set[str] = set()
    for chat in chats:
        counts["chats"] += 1
        for m in chat["messages"]:
            if m["type"] == "service":
                people.add(m["actor_id"])
                action = m["action"]
                counts[
                    "join" if action in ("join_group_by_link", "invite_members") else "event"
                ] += 1
                continue
            people.add(m["from_id"])
            counts["reply" if "reply_to_message_id" in m else "message"] += 1
            for reaction in m.get("reactions", []):
                for recent in reaction.get("recent", []):
                    people.add(recent["from_id"])
                    counts["reaction"] += 1
    counts["people"] = len(people)
    return counts


def assert_matches(expected: Counter[str]) -> None:
    kinds = Counter(Interaction.objects.values_list("kind", flat=True))
    for kind in ("message", "reply", "join", "event", "reaction"):
        assert kinds[kind] == expected[kind], kind
    assert Channel.objects.count() == expected["chats"]
    assert Identity.objects.count() == expected["people"]
    assert Conversation.objects.count() == expected["message"]


@pytest.mark.django_db
def test_it_imports_the_single_chat_sample(shared_data: Path) -> None:
    sample = shared_data / SAMPLE
    run = import_export("telegram", sample)
    assert run.status == RunStatus.SUCCEEDED and run.rejected_count == 0
    assert_matches(read_export(sample))
    assert Channel.objects.get().name == "Bob"
    linked = Interaction.objects.get(external_id="700000000:3644")
    assert linked.text == "https://google.com 👀"
    # Old exports give only a local time without zone: it is read as UTC.
    assert linked.created_at.isoformat() == "2019-07-12T16:55:32+00:00"
    unix = Interaction.objects.get(external_id="700000000:3662")
    assert unix.created_at.timestamp() == 1652135033


@pytest.mark.django_db
def test_it_imports_an_account_export_with_replies_and_reactions() -> None:
    run = import_export("telegram", FIXTURE)
    assert run.status == RunStatus.SUCCEEDED and run.rejected_count == 0
    assert_matches(read_export(FIXTURE))

    welcome = Interaction.objects.get(external_id="1500000001:3")
    hi = Interaction.objects.get(external_id="1500000001:4")
    glad = Interaction.objects.get(external_id="1500000001:5")
    assert welcome.text == "Welcome! Read the https://example.org/rules and say hi"
    assert welcome.edited_at is not None and welcome.edited_at.timestamp() == 1709287320
    assert hi.parent_id == welcome.id and glad.parent_id == hi.id
    assert welcome.conversation_id == hi.conversation_id == glad.conversation_id
    # Message ids restart in each chat: the chat id keeps them apart.
    holidays = Interaction.objects.get(external_id="100000002:1")
    assert Interaction.objects.get(external_id="100000002:2").parent_id == holidays.id

    reactions = Interaction.objects.filter(kind="reaction", parent=welcome).order_by("created_at")
    assert [r.external_id for r in reactions] == [
        "1500000001:3:reaction:👍:user100000002",
        "1500000001:3:reaction:👍:user100000003",
    ]
    assert reactions[0].created_at.isoformat() == "2024-03-01T10:05:00+00:00"
    assert welcome.raw is not None and welcome.raw["reactions"][1]["count"] == 1

    join = Interaction.objects.get(external_id="1500000001:2")
    assert join.kind == "join" and join.identity is not None
    assert join.identity.external_id == "user100000002"
    assert Interaction.objects.get(external_id="1500000001:7").kind == "event"
    agenda = Interaction.objects.get(external_id="1500000001:8")
    assert agenda.conversation is not None and agenda.conversation.title == "agenda.pdf"
    assert Identity.objects.get(external_id="user100000003").display_name == "Cy"


@pytest.mark.django_db
def test_it_applies_edits_on_reimport_and_adds_nothing(tmp_path: Path) -> None:
    export = tmp_path / "DataExport" / "result.json"
    export.parent.mkdir()
    shutil.copy(FIXTURE, export)
    import_export("telegram", tmp_path)
    total = Interaction.objects.count()

    again = import_export("telegram", tmp_path)
    assert again.counts["created"] == {}
    assert Interaction.objects.count() == total

    export.write_text(export.read_text().replace('"hi everyone"', '"hello everyone"', 1))
    edited = import_export("telegram", tmp_path)
    assert edited.counts["updated"] == {"reply": 1}
    assert Interaction.objects.get(external_id="1500000001:4").text == "hello everyone"
    assert Interaction.objects.count() == total


@pytest.mark.django_db
def test_it_names_the_file_and_line_of_broken_json(tmp_path: Path) -> None:
    lines = FIXTURE.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if '"text": "hi everyone"' in line)
    lines[target] = lines[target].rstrip(",")
    export = tmp_path / "result.json"
    export.write_text("\n".join(lines))
    with pytest.raises(ImportFormatError) as e:
        import_export("telegram", export)
    message = str(e.value)
    assert str(export) in message
    assert f"line {target + 2}" in message and "expected JSON" in message


@pytest.mark.django_db
def test_it_rejects_a_bad_message_and_goes_on(tmp_path: Path) -> None:
    data = json.loads(FIXTURE.read_text())
    messages = data["chats"]["list"][1]["messages"]
    messages.append({"id": 3, "type": "message", "from": "Bo", "text": "no date"})
    messages.append(
        {"id": 4, "type": "message", "date_unixtime": "1703441400", "text": "no sender"}
    )
    export = tmp_path / "result.json"
    export.write_text(json.dumps(data, ensure_ascii=False))
    run = import_export("telegram", export)
    assert run.status == RunStatus.SUCCEEDED
    rejected = {r.location: r for r in RejectedRecord.objects.filter(run=run)}
    assert "'date'" in rejected["chats.list[1].messages[2]"].reason
    assert "no date" in rejected["chats.list[1].messages[2]"].excerpt
    assert "'from_id'" in rejected["chats.list[1].messages[3]"].reason
    assert Interaction.objects.filter(external_id="100000002:2").exists()
    assert run.rejected_count == 2


@pytest.mark.django_db
def test_it_refuses_what_is_not_a_telegram_export(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "x", "items": []}))
    with pytest.raises(ImportFormatError, match="expected a Telegram Desktop export"):
        import_export("telegram", other)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ImportFormatError, match="an object, not a list"):
        import_export("telegram", listed)
    with pytest.raises(ImportFormatError, match=r"result\.json"):
        import_export("telegram", tmp_path)
