from __future__ import annotations

import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from townsquare.community.models import Channel, Conversation, Identity, Interaction
from townsquare.connectors.base import ImportFormatError
from townsquare.connectors.models import RejectedRecord, RunStatus
from townsquare.lib.testing import import_export

SAMPLE = "mastodon_outbox_dealingwith"


def count_sample(root: Path) -> Counter[str]:
    """An independent reading of a Mastodon archive: what the import should hold."""
    counts: Counter[str] = Counter()
    for activity in json.loads((root / "outbox.json").read_text())["orderedItems"]:
        if activity["type"] == "Create":
            counts["reply" if activity["object"].get("inReplyTo") else "post"] += 1
        elif activity["type"] == "Announce":
            counts["share"] += 1
        else:
            counts["other"] += 1
    counts["reaction"] = len(set(json.loads((root / "likes.json").read_text())["orderedItems"]))
    return counts


def small_archive(shared_data: Path, folder: Path, activities: int = 40) -> Path:
    """A copy of the first activities and likes of the real archive."""
    root = shared_data / SAMPLE
    folder.mkdir(parents=True)
    (folder / "actor.json").write_bytes((root / "actor.json").read_bytes())
    outbox = json.loads((root / "outbox.json").read_text())
    outbox["orderedItems"] = outbox["orderedItems"][:activities]
    write(folder / "outbox.json", outbox)
    likes = json.loads((root / "likes.json").read_text())
    likes["orderedItems"] = likes["orderedItems"][:5]
    write(folder / "likes.json", likes)
    return folder


def write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1))


@pytest.mark.django_db
def test_it_imports_the_real_dealingwith_archive(shared_data: Path) -> None:
    root = shared_data / SAMPLE
    expected = count_sample(root)
    run = import_export("mastodon", root)

    assert run.status == RunStatus.SUCCEEDED
    assert run.rejected_count == expected["other"]
    kinds = Counter(Interaction.objects.values_list("kind", flat=True))
    assert kinds == {k: expected[k] for k in ("post", "reply", "share", "reaction")}

    actor = json.loads((root / "actor.json").read_text())
    owner = Identity.objects.get()
    assert (owner.external_id, owner.handle, owner.profile_url) == (
        actor["id"],
        actor["preferredUsername"],
        actor["url"],
    )
    assert Channel.objects.get().name == f"@{actor['preferredUsername']}"
    assert Interaction.objects.exclude(identity=owner).count() == 0
    # Every post starts a conversation or joins the one a deleted parent left behind.
    assert expected["post"] <= Conversation.objects.count() <= expected["post"] + expected["reply"]
    assert not Conversation.objects.filter(title__contains="<").exists()

    like = Interaction.objects.filter(kind="reaction").first()
    assert like is not None and like.raw is not None and like.raw["date_unknown"] is True
    assert like.text == "favourite" and like.parent_external_id == like.raw["object"]
    latest = Interaction.objects.exclude(kind="reaction").order_by("-created_at").first()
    assert latest is not None and like.created_at == latest.created_at


@pytest.mark.django_db
def test_it_puts_a_reply_to_ones_own_post_in_the_post_s_conversation(shared_data: Path) -> None:
    root = shared_data / SAMPLE
    notes = {
        a["object"]["id"]: a["object"]
        for a in json.loads((root / "outbox.json").read_text())["orderedItems"]
        if a["type"] == "Create"
    }
    reply = next(
        n
        for n in notes.values()
        if n["inReplyTo"] in notes and not notes[n["inReplyTo"]]["inReplyTo"]
    )
    import_export("mastodon", root)
    row = Interaction.objects.get(external_id=reply["id"])
    parent = Interaction.objects.get(external_id=reply["inReplyTo"])
    assert row.kind == "reply" and row.parent_id == parent.id
    assert row.conversation_id == parent.conversation_id is not None
    boost = Interaction.objects.filter(kind="share").first()
    assert boost is not None and boost.raw is not None
    assert boost.parent_external_id == boost.raw["object"] and boost.text == ""


@pytest.mark.django_db
def test_it_reads_the_zip_like_the_folder(shared_data: Path, tmp_path: Path) -> None:
    folder = small_archive(shared_data, tmp_path / "archive")
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"archive-20240723/{f.name}")
    import_export("mastodon", archive, source="zipped")
    import_export("mastodon", folder, source="folder")
    zipped = Counter(
        Interaction.objects.filter(source__name="zipped").values_list("kind", flat=True)
    )
    unzipped = Counter(
        Interaction.objects.filter(source__name="folder").values_list("kind", flat=True)
    )
    assert zipped == unzipped and zipped["reaction"] == 5


@pytest.mark.django_db
def test_it_applies_an_edited_note_on_reimport_and_adds_nothing(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = small_archive(shared_data, tmp_path / "archive")
    import_export("mastodon", folder)
    total = Interaction.objects.count()

    again = import_export("mastodon", folder)
    assert again.counts["created"] == {}
    assert Interaction.objects.count() == total

    outbox = json.loads((folder / "outbox.json").read_text())
    target = next(a for a in outbox["orderedItems"] if a["type"] == "Create")
    target["object"]["content"] = "<p>edited content</p>"
    target["object"]["updated"] = "2024-08-01T00:00:00Z"
    write(folder / "outbox.json", outbox)
    edited = import_export("mastodon", folder)
    # The first note starts its conversation, whose title follows the text.
    assert edited.counts["updated"] == {"conversation": 1, "post": 1}
    row = Interaction.objects.get(external_id=target["object"]["id"])
    assert row.text == "<p>edited content</p>" and row.edited_at is not None
    assert row.conversation is not None and row.conversation.title == "edited content"
    assert Interaction.objects.count() == total


@pytest.mark.django_db
def test_it_names_the_file_and_line_of_a_broken_outbox(shared_data: Path, tmp_path: Path) -> None:
    folder = small_archive(shared_data, tmp_path / "archive", activities=3)
    outbox = folder / "outbox.json"
    lines = outbox.read_text().splitlines()
    line = next(i for i, t in enumerate(lines) if '"published"' in t and i > 20)
    lines[line] = lines[line].replace('"published":', '"published"')
    outbox.write_text("\n".join(lines))
    with pytest.raises(ImportFormatError) as e:
        import_export("mastodon", folder)
    assert str(outbox) in str(e.value)
    assert f"line {line + 1}" in str(e.value) and "expected JSON" in str(e.value)

    write(outbox, {"type": "OrderedCollection"})
    with pytest.raises(ImportFormatError, match="orderedItems"):
        import_export("mastodon", folder)


@pytest.mark.django_db
def test_it_rejects_an_activity_without_id_and_one_it_cannot_use(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = small_archive(shared_data, tmp_path / "archive", activities=4)
    outbox = json.loads((folder / "outbox.json").read_text())
    kept = len(outbox["orderedItems"])
    nameless = dict(outbox["orderedItems"][0])
    del nameless["id"]
    outbox["orderedItems"][0] = nameless
    outbox["orderedItems"].append({"id": "https://example.org/delete/1", "type": "Delete"})
    write(folder / "outbox.json", outbox)

    run = import_export("mastodon", folder)
    assert run.status == RunStatus.SUCCEEDED
    assert Interaction.objects.exclude(kind="reaction").count() == kept - 1
    reasons = dict(RejectedRecord.objects.filter(run=run).values_list("location", "reason"))
    assert reasons == {
        "outbox.json orderedItems[0]": "an activity needs an 'id'",
        f"outbox.json orderedItems[{kept}]": "unsupported activity type Delete",
    }


@pytest.mark.django_db
def test_it_refuses_what_is_not_a_mastodon_archive(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"outbox\.json and actor\.json"):
        import_export("mastodon", tmp_path)
    not_zip = tmp_path / "archive.zip"
    not_zip.write_text("not a zip")
    with pytest.raises(ImportFormatError, match=r"a folder or a \.zip"):
        import_export("mastodon", not_zip)
