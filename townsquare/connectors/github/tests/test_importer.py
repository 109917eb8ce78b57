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

SAMPLE = "github_issues_bitcoin_core_gui"
PASSIVE = {"subscribed", "unsubscribed", "mentioned"}


def count_sample(root: Path) -> Counter[str]:
    """An independent reading of a github-metadata-backup folder: what the import should hold."""
    counts: Counter[str] = Counter()
    users: set[int] = set()
    comment_ids: set[int] = set()
    for f in (root / "issues").glob("*.json"):
        entry = json.loads(f.read_text())
        counts["issues"] += 1
        users.add(entry["issue"]["user"]["id"])
        for event in entry["events"]:
            if event["event"] == "commented":
                comment_ids.add(event["id"])
                users.add(event["user"]["id"])
            else:
                counts["events"] += 1
                if event["event"] not in PASSIVE and event.get("actor"):
                    users.add(event["actor"]["id"])
    counts["comments"] = len(comment_ids)
    counts["users"] = len(users)
    return counts


def user(uid: int, login: str, kind: str = "User") -> dict[str, Any]:
    return {"id": uid, "login": login, "type": kind, "html_url": f"https://github.com/{login}"}


def issue(number: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": 1000 + number,
        "number": number,
        "repository_url": "https://api.github.com/repos/acme/widgets",
        "html_url": f"https://github.com/acme/widgets/issues/{number}",
        "title": f"Issue {number}",
        "body": f"Body {number}",
        "user": user(1, "ada"),
        "comments": 0,
        "created_at": "2024-01-01T10:00:00Z",
        "updated_at": "2024-01-05T10:00:00Z",
        **fields,
    }


def comment(cid: int, author: dict[str, Any], body: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "user": author,
        "body": body,
        "html_url": f"https://github.com/acme/widgets/issues/1#issuecomment-{cid}",
        "created_at": "2024-01-02T10:00:00Z",
        "updated_at": "2024-01-02T10:00:00Z",
        **fields,
    }


@pytest.mark.django_db
def test_it_imports_the_real_bitcoin_core_gui_backup(shared_data: Path) -> None:
    root = shared_data / SAMPLE
    expected = count_sample(root)
    run = import_export("github", root)

    assert run.status == RunStatus.SUCCEEDED
    assert run.rejected_count == 0
    kinds = Counter(Interaction.objects.values_list("kind", flat=True))
    assert kinds == {
        "post": expected["issues"],
        "comment": expected["comments"],
        "event": expected["events"],
    }
    assert Conversation.objects.count() == expected["issues"]
    assert Identity.objects.filter(is_placeholder=False).count() == expected["users"]
    assert not Identity.objects.filter(is_placeholder=True).exists()
    channel = Channel.objects.get()
    assert (channel.external_id, channel.url) == (
        "bitcoin-core/gui",
        "https://github.com/bitcoin-core/gui",
    )

    first = Interaction.objects.get(external_id="issue:1")
    assert first.raw is not None and "events" not in first.raw and first.raw["number"] == 1
    assert first.conversation is not None and first.conversation.title == first.raw["title"]
    replies = Interaction.objects.filter(kind="comment", parent=first)
    assert replies.count() == first.raw["comments"]
    assert Interaction.objects.filter(kind="comment", parent__isnull=True).count() == 0
    # Who was mentioned or subscribed did nothing: those events are nobody's activity.
    assert not Interaction.objects.filter(
        kind="event", text__startswith="mentioned", identity__isnull=False
    ).exists()


@pytest.mark.django_db
def test_it_applies_an_edited_comment_on_reimport_and_adds_nothing(
    shared_data: Path, tmp_path: Path
) -> None:
    root = tmp_path / "backup"
    (root / "issues").mkdir(parents=True)
    for name in ("1.json", "10.json", "100.json"):
        shutil.copy(shared_data / SAMPLE / "issues" / name, root / "issues" / name)
    import_export("github", root)
    total = Interaction.objects.count()

    again = import_export("github", root)
    assert again.counts["created"] == {}
    assert Interaction.objects.count() == total

    path = root / "issues" / "1.json"
    entry = json.loads(path.read_text())
    target = next(e for e in entry["events"] if e["event"] == "commented")
    target["body"] = "edited body"
    target["updated_at"] = "2030-01-01T00:00:00Z"
    path.write_text(json.dumps(entry))
    edited = import_export("github", root)
    assert edited.counts["updated"] == {"comment": 1}
    row = Interaction.objects.get(external_id=f"comment:{target['id']}")
    assert row.text == "edited body"
    assert row.edited_at is not None and row.edited_at.year == 2030
    assert Interaction.objects.count() == total


@pytest.mark.django_db
def test_it_reads_a_json_array_of_issues_without_counting_a_comment_twice(
    tmp_path: Path,
) -> None:
    ada, bot = user(1, "ada"), user(2, "dependabot[bot]", "Bot")
    both = comment(11, bot, "Thanks!", updated_at="2024-01-03T10:00:00Z")
    issues = [
        # One comment arrives both in the timeline and in an embedded comment list.
        issue(
            1,
            timeline=[
                {**both, "event": "commented", "actor": bot},
                {
                    "event": "labeled",
                    "id": 501,
                    "actor": ada,
                    "created_at": "2024-01-02T11:00:00Z",
                    "label": {"name": "bug"},
                },
                {
                    "event": "cross-referenced",
                    "actor": ada,
                    "created_at": "2024-01-02T12:00:00Z",
                    "source": {"issue": {"html_url": "https://github.com/acme/widgets/pull/7"}},
                },
                {
                    "event": "mentioned",
                    "id": 502,
                    "actor": user(3, "bo"),
                    "created_at": "2024-01-02T13:00:00Z",
                },
            ],
            comments=[both],
        ),
        {"type": "issue", "issue": issue(2, pull_request={"url": "x"}), "events": []},
    ]
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(issues, indent=2))
    run = import_export("github", path)

    assert run.status == RunStatus.SUCCEEDED and run.rejected_count == 0
    kinds = Counter(Interaction.objects.values_list("kind", flat=True))
    assert kinds == {"post": 2, "comment": 1, "event": 3}
    reply = Interaction.objects.get(external_id="comment:11")
    assert reply.parent is not None and reply.parent.external_id == "issue:1"
    assert reply.edited_at is not None
    assert Identity.objects.get(external_id="2").is_bot
    assert Interaction.objects.get(external_id="event:501").text == "labeled bug"
    cross = Interaction.objects.get(text__startswith="cross-referenced")
    assert cross.external_id == "event:1:cross-referenced:2024-01-02T12:00:00Z:1"
    mention = Interaction.objects.get(external_id="event:502")
    assert mention.identity_id is None and mention.text == "mentioned @bo"
    # Only people who did something are described: "bo" was only mentioned.
    assert set(Identity.objects.values_list("handle", flat=True)) == {"ada", "dependabot[bot]"}
    post = Interaction.objects.get(external_id="issue:1")
    assert post.raw is not None and "timeline" not in post.raw and post.edited_at is None

    again = import_export("github", path)
    assert again.counts["created"] == {}


@pytest.mark.django_db
def test_it_names_the_file_and_line_of_broken_json(tmp_path: Path) -> None:
    (tmp_path / "issues").mkdir()
    broken = tmp_path / "issues" / "3.json"
    broken.write_text('{\n  "type": "issue",\n  "issue": {"number" 3}\n}')
    with pytest.raises(ImportFormatError) as e:
        import_export("github", tmp_path)
    assert str(broken) in str(e.value)
    assert "line 3" in str(e.value) and "expected JSON" in str(e.value)

    array = tmp_path / "issues.json"
    text = json.dumps([issue(1), issue(2)], indent=2)
    lines = text.splitlines()
    line = next(i for i, t in enumerate(lines) if '"number": 2' in t)
    lines[line] = lines[line].replace('"number": 2', '"number" 2')
    array.write_text("\n".join(lines))
    with pytest.raises(ImportFormatError) as e:
        import_export("github", array)
    assert str(array) in str(e.value)
    assert f"line {line + 1}" in str(e.value) and "expected JSON" in str(e.value)


@pytest.mark.django_db
def test_it_rejects_an_issue_without_a_number_and_goes_on(tmp_path: Path) -> None:
    nameless = issue(2)
    del nameless["number"]
    path = tmp_path / "issues.json"
    path.write_text(json.dumps([issue(1), nameless]))
    run = import_export("github", path)
    assert run.status == RunStatus.SUCCEEDED
    assert Interaction.objects.filter(external_id="issue:1").exists()
    rejected = RejectedRecord.objects.get(run=run)
    assert rejected.location == "issues.json[1]"
    assert "'number'" in rejected.reason
    assert "Body 2" in rejected.excerpt


@pytest.mark.django_db
def test_it_refuses_what_is_not_a_github_export(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"issues/<number>\.json"):
        import_export("github", tmp_path)
    obj = tmp_path / "issue.json"
    obj.write_text(json.dumps(issue(1)))
    with pytest.raises(ImportFormatError, match=r"JSON array of GitHub issue"):
        import_export("github", obj)
