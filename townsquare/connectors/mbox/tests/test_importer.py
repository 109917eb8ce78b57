from __future__ import annotations

import gzip
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from townsquare.community.models import Channel, Conversation, Identity, Interaction
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import RejectedRecord, RunStatus
from townsquare.lib.testing import import_export

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLE = "mbox_r_package_devel"
# An envelope line as the test reads it: "From " at the start of a paragraph, ending in an
# asctime's "hh:mm:ss yyyy". Body lines that begin with "From " have no such ending.
ENVELOPE = re.compile(r"^From .* \d\d:\d\d:\d\d \d{4}$")
# The words pipermail puts between an address's two halves (" at ", R's "sending from").
HIDDEN_AT = r" (?:at|@end\|ng \|rom|m@iii@g oii) "
SENDER = re.compile(rf"^From: (\S+(?:{HIDDEN_AT}\S+)?)", re.M)


def read_archive(files: list[Path]) -> dict[str, object]:
    """An independent reading of pipermail text archives: messages, thread starts, senders."""
    messages = 0
    posts = 0
    senders: set[str] = set()
    roots: dict[str, str] = {}
    for file in files:
        previous = ""
        in_headers = False
        headers: list[str] = []
        lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        for line in [*lines, "From end  Mon Jan  1 00:00:00 2000"]:
            if not previous.strip() and ENVELOPE.match(line):
                if headers:
                    block = "\n".join(headers)
                    if not re.search(r"^(In-Reply-To|References):", block, re.M):
                        posts += 1
                    sender = SENDER.search(block)
                    if sender:
                        senders.add(re.sub(HIDDEN_AT, "@", sender.group(1)).lower())
                    message_id = re.search(r"^Message-ID: <([^>]+)>", block, re.M | re.I)
                    first_ref = re.search(r"^References: <([^>]+)>", block, re.M)
                    if message_id and first_ref:
                        roots[message_id.group(1)] = first_ref.group(1)
                messages += 1
                in_headers = True
                headers = []
            elif in_headers:
                if line.strip():
                    headers.append(line)
                else:
                    in_headers = False
            previous = line
        messages -= 1  # the sentinel line added above
    return {"messages": messages, "posts": posts, "senders": senders, "roots": roots}


def sample_files(root: Path) -> list[Path]:
    return sorted(f for f in root.iterdir() if f.name != "SOURCE.txt")


@pytest.mark.django_db
def test_it_imports_the_real_r_package_devel_archive(shared_data: Path) -> None:
    root = shared_data / SAMPLE
    expected = read_archive(sample_files(root))
    run = import_export("mbox", root)

    assert run.status == RunStatus.SUCCEEDED
    assert Interaction.objects.count() == expected["messages"]
    kinds = Counter(Interaction.objects.values_list("kind", flat=True))
    assert kinds["post"] == expected["posts"]
    assert kinds["reply"] == expected["messages"] - expected["posts"]
    # Every thread start is a conversation; replies whose root is missing make one more each.
    assert Conversation.objects.count() >= expected["posts"]
    senders = expected["senders"]
    assert isinstance(senders, set)
    assert set(Identity.objects.values_list("external_id", flat=True)) == senders
    # SOURCE.txt sits in the folder and is skipped with a note, not imported.
    rejected = RejectedRecord.objects.get(run=run)
    assert rejected.location == "SOURCE.txt" and "not an mbox" in rejected.reason
    assert Channel.objects.get().external_id == SAMPLE


@pytest.mark.django_db
def test_it_threads_replies_under_their_root(shared_data: Path) -> None:
    root = shared_data / SAMPLE
    roots = read_archive(sample_files(root))["roots"]
    assert isinstance(roots, dict)
    import_export("mbox", root)

    in_archive = set(Interaction.objects.values_list("external_id", flat=True))
    conversations = dict(
        Interaction.objects.values_list("external_id", "conversation__external_id")
    )
    checked = 0
    for message_id, thread_root in roots.items():
        if message_id in conversations:
            assert conversations[message_id] == thread_root, message_id
            checked += 1
    assert checked > 500
    for reply in Interaction.objects.filter(kind="reply").exclude(parent_external_id=""):
        if reply.parent_external_id in in_archive:
            assert reply.parent_id is not None, reply.external_id
    # Reply subjects lose their "Re:" and "[list]" prefixes in the conversation title.
    assert not Conversation.objects.filter(title__istartswith="re:").exists()
    assert not Conversation.objects.filter(title__startswith="[R-pkg-devel]").exists()


@pytest.mark.django_db
def test_it_reads_edge_cases_of_the_format(tmp_path: Path) -> None:
    run = import_export("mbox", FIXTURES / "edge-cases.mbox")

    root = Interaction.objects.get(external_id="root-1@example.org")
    assert root.kind == "post"
    # "From " in a body splits nothing; an mboxrd-escaped ">From " is unescaped.
    assert "From the last release" in root.text
    assert "\nFrom the mboxrd side" in root.text
    assert root.conversation is not None
    assert root.conversation.title == "Release checklist"
    assert root.created_at.isoformat() == "2024-03-04T09:00:00+00:00"

    first = Interaction.objects.get(external_id="reply-1@example.net")
    second = Interaction.objects.get(external_id="reply-2@example.org")
    assert first.parent_id == root.id and first.kind == "reply"
    # Without In-Reply-To, the last of References is the parent.
    assert second.parent_id == first.id
    assert first.conversation_id == second.conversation_id == root.conversation_id

    ada = Identity.objects.get(external_id="ada@example.org")
    assert (ada.display_name, ada.handle, ada.email) == ("Ada Lovelace", "ada", "ada@example.org")
    bo = Identity.objects.get(external_id="bo@example.net")
    assert bo.display_name == "Bo Jørgensen"

    html = Interaction.objects.get(external_id="html-1@example.com")
    assert html.text == "Hello list & friends"
    assert html.raw is not None
    assert html.raw["attachments"] == [
        {"filename": "agenda.pdf", "content_type": "application/pdf"}
    ]
    assert html.raw["headers"]["Subject"] == "[demo-list] Newsletter"
    assert html.channel is not None and html.channel.name == "Demo list"

    no_id = Interaction.objects.get(text__startswith="This message has no Message-ID")
    assert no_id.external_id.startswith("sha1:")
    assert no_id.raw is not None and "no Message-ID" in no_id.raw["generated_id"]

    rejected = RejectedRecord.objects.get(run=run)
    assert "bad-date@example.com" in rejected.reason
    assert "the day after tomorrow" in rejected.reason
    assert rejected.location == "edge-cases.mbox[5]"
    assert Interaction.objects.count() == 5


@pytest.mark.django_db
def test_it_names_the_list_from_the_option() -> None:
    import_export("mbox", FIXTURES / "edge-cases.mbox", options={"list": "demo"})
    assert set(Channel.objects.values_list("external_id", flat=True)) == {
        "demo",
        "demo-list.example.org",
    }


@pytest.mark.django_db
def test_it_applies_edits_on_reimport_and_adds_nothing(shared_data: Path, tmp_path: Path) -> None:
    archive = tmp_path / "2024q3.txt"
    shutil.copy(shared_data / SAMPLE / "2024q3.txt", archive)
    shutil.copy(FIXTURES / "edge-cases.mbox", tmp_path / "edge-cases.mbox")
    import_export("mbox", tmp_path)
    total = Interaction.objects.count()

    again = import_export("mbox", tmp_path)
    assert again.counts["created"] == {}
    assert Interaction.objects.count() == total

    text = (tmp_path / "edge-cases.mbox").read_text()
    (tmp_path / "edge-cases.mbox").write_text(text.replace("I can do it.", "I can do it today."))
    edited = import_export("mbox", tmp_path)
    assert edited.counts["updated"] == {"reply": 1}
    assert Interaction.objects.get(external_id="reply-1@example.net").text.startswith(
        "I can do it today."
    )
    assert Interaction.objects.count() == total


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_an_mbox(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    with pytest.raises(ImportFormatError) as e:
        import_export("mbox", empty)
    assert str(empty) in str(e.value) and "line 1" in str(e.value) and "empty" in str(e.value)

    garbage = tmp_path / "garbage.mbox"
    garbage.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ImportFormatError, match=r"garbage\.mbox:line 1: expected an mbox file"):
        import_export("mbox", garbage)

    gz = tmp_path / "broken.mbox.gz"
    gz.write_bytes(b"not gzip at all")
    with pytest.raises(ImportFormatError, match="expected an mbox file"):
        import_export("mbox", gz)

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.txt").write_text("hello")
    with pytest.raises(ImportFormatError, match="found none"):
        import_export("mbox", folder)


@pytest.mark.django_db
def test_it_reads_a_gzipped_archive(tmp_path: Path) -> None:
    archive = tmp_path / "2024-March.txt.gz"
    archive.write_bytes(gzip.compress((FIXTURES / "edge-cases.mbox").read_bytes()))
    run = import_export("mbox", archive)
    assert run.status == RunStatus.SUCCEEDED
    assert Interaction.objects.count() == 5
    assert Channel.objects.filter(external_id="2024-March").exists()
