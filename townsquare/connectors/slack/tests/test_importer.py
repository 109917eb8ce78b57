from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from townsquare.community.models import Channel, Conversation, Identity, Interaction
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import RejectedRecord, RunStatus
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export

SYSTEM_SUBTYPES = {"channel_join", "channel_leave", "file_comment"}


def count_sample(root: Path) -> Counter[str]:
    """An independent reading of a Slack export: what the import should hold."""
    counts: Counter[str] = Counter()
    counts["users"] = len(json.loads((root / "users.json").read_text()))
    counts["channels"] = len(json.loads((root / "channels.json").read_text()))
    for day in root.glob("*/*.json"):
        for m in json.loads(day.read_text()):
            subtype = m.get("subtype")
            if not (m.get("user") or m.get("bot_id") or (m.get("comment") or {}).get("user")):
                counts["unattributed"] += 1
                continue
            if subtype == "channel_join":
                counts["join"] += 1
            elif subtype == "channel_leave":
                counts["leave"] += 1
            elif subtype == "file_comment":
                counts["comment"] += 1
            elif subtype in (None, "file_share", "bot_message", "me_message"):
                counts["message"] += 1
            else:
                counts["event"] += 1
            counts["reaction"] += sum(len(r.get("users", [])) for r in m.get("reactions", []))
    return counts


@pytest.mark.django_db
def test_it_imports_the_real_houston_export(shared_data: Path) -> None:
    root = shared_data / "slack_houstondatavis"
    expected = count_sample(root)
    run = import_export("slack", root)

    assert run.status == RunStatus.SUCCEEDED
    kinds = Counter(Interaction.objects.values_list("kind", flat=True))
    for kind in ("message", "join", "leave", "comment", "event", "reaction"):
        assert kinds[kind] == expected[kind], kind
    assert Channel.objects.count() == expected["channels"]
    described = Identity.objects.filter(is_placeholder=False, is_bot=False).count()
    assert described == expected["users"]
    # Every top-level message starts a conversation.
    assert Conversation.objects.count() == expected["message"]
    assert run.rejected_count == expected["unattributed"]
    assert Interaction.objects.filter(kind="reaction", parent__isnull=True).count() == 0


@pytest.mark.django_db
def test_it_reads_a_zip_like_the_folder(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "slack_houstondatavis"
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in root.rglob("*.json"):
            z.write(f, "Houston Slack export/" + str(f.relative_to(root)))
    import_export("slack", archive, source="zipped")
    import_export("slack", root, source="folder")
    zipped = Counter(
        Interaction.objects.filter(source__name="zipped").values_list("kind", flat=True)
    )
    folder = Counter(
        Interaction.objects.filter(source__name="folder").values_list("kind", flat=True)
    )
    assert zipped == folder and sum(zipped.values()) > 0


@pytest.mark.django_db
def test_it_imports_threads_reactions_edits_and_file_shares(tmp_path: Path) -> None:
    root = write_slack_export(
        tmp_path / "export",
        {
            "help": [
                {
                    "type": "message",
                    "user": "U1",
                    "text": "How do I plot?",
                    "ts": "1700000000.000100",
                    "thread_ts": "1700000000.000100",
                    "reply_count": 1,
                    "reactions": [{"name": "eyes", "users": ["U2", "U1"], "count": 2}],
                },
                {
                    "type": "message",
                    "user": "U2",
                    "text": "Like this",
                    "ts": "1700000300.000200",
                    "thread_ts": "1700000000.000100",
                    "parent_user_id": "U1",
                    "edited": {"user": "U2", "ts": "1700000400.000000"},
                },
                {
                    "type": "message",
                    "subtype": "file_share",
                    "user": "U2",
                    "text": "",
                    "ts": "1700000500.000300",
                    "files": [{"id": "F1", "title": "chart.png"}],
                },
                {
                    "type": "message",
                    "subtype": "channel_join",
                    "user": "U2",
                    "text": "<@U2> has joined the channel",
                    "ts": "1699999000.000000",
                },
            ]
        },
        users=[
            {"id": "U1", "name": "ada"},
            {"id": "U2", "name": "bo", "profile": {"email": "bo@example.org"}},
        ],
    )
    import_export("slack", root)
    question = Interaction.objects.get(text="How do I plot?")
    answer = Interaction.objects.get(text="Like this")
    assert answer.kind == "reply" and answer.parent_id == question.id
    assert answer.conversation_id == question.conversation_id
    assert answer.edited_at is not None
    assert Interaction.objects.filter(kind="reaction", parent=question).count() == 2
    share = Interaction.objects.get(external_id__endswith="1700000500.000300")
    assert share.raw is not None
    assert share.kind == "message" and share.raw["files"][0]["title"] == "chart.png"
    assert share.conversation is not None and share.conversation.title == "chart.png"
    assert Interaction.objects.get(kind="join").conversation_id is None
    assert Identity.objects.get(external_id="U2").email == "bo@example.org"


@pytest.mark.django_db
def test_it_applies_edits_on_reimport_and_adds_nothing(shared_data: Path, tmp_path: Path) -> None:
    root = tmp_path / "export"
    shutil.copytree(shared_data / "slack_houstondatavis", root)
    import_export("slack", root)
    total = Interaction.objects.count()

    again = import_export("slack", root)
    assert again.counts["created"] == {}
    assert Interaction.objects.count() == total

    day = root / "general" / "2015-06-09.json"
    messages = json.loads(day.read_text())
    target = next(m for m in messages if not m.get("subtype"))
    target["text"] = "edited text"
    day.write_text(json.dumps(messages))
    edited = import_export("slack", root)
    # The conversation takes its title from the first message, so it changes too.
    assert edited.counts["updated"] == {"conversation": 1, "message": 1}
    assert Interaction.objects.filter(text="edited text").count() == 1
    assert Interaction.objects.count() == total


@pytest.mark.django_db
def test_it_names_the_file_and_line_of_broken_json(tmp_path: Path) -> None:
    root = write_slack_export(
        tmp_path / "export",
        {"general": [{"type": "message", "user": "U1", "text": "hi", "ts": "1700000000.000100"}]},
    )
    day = next((root / "general").glob("*.json"))
    day.write_text('[\n {"type": "message",\n  "user": "U1" "text": "x"}\n]')
    with pytest.raises(ImportFormatError) as e:
        import_export("slack", root)
    assert str(day) in str(e.value)
    assert "line 3" in str(e.value)
    assert "expected JSON" in str(e.value)


@pytest.mark.django_db
def test_it_rejects_a_message_without_a_timestamp_and_goes_on(tmp_path: Path) -> None:
    root = write_slack_export(
        tmp_path / "export",
        {"general": [{"type": "message", "user": "U1", "text": "kept", "ts": "1700000000.000100"}]},
    )
    day = next((root / "general").glob("*.json"))
    messages = json.loads(day.read_text())
    messages.append({"type": "message", "user": "U1", "text": "no time"})
    day.write_text(json.dumps(messages))
    run = import_export("slack", root)
    assert run.status == RunStatus.SUCCEEDED
    assert Interaction.objects.filter(text="kept").exists()
    rejected = RejectedRecord.objects.get(run=run)
    assert rejected.location == f"general/{day.name}[1]"
    assert "'ts'" in rejected.reason
    assert "no time" in rejected.excerpt


@pytest.mark.django_db
def test_it_refuses_a_folder_that_is_not_a_slack_export(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImportFormatError, match=r"users\.json and channels\.json"):
        import_export("slack", tmp_path)
    not_zip = tmp_path / "export.zip"
    not_zip.write_text("not a zip")
    with pytest.raises(ImportFormatError, match=r"a folder or a \.zip"):
        import_export("slack", not_zip)
