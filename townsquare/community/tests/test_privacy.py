"""A member's data on request: the export holds everything, the erasure leaves no trace of
their name, handles, email or words in any table, nor in the SQLite file itself."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Conversation,
    Identity,
    Interaction,
    KnowledgeEntry,
    Member,
    MemberTag,
    MergeSuggestion,
    Note,
    Tag,
    Touchpoint,
)
from townsquare.community.privacy import do_erase_member, do_export_member
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.lib.testing import import_export, make_staff
from townsquare.listening.models import Enrichment, LabelCorrection, TermMatch, Thanks
from townsquare.listening.pipeline import enrich_pending
from townsquare.listening.services import do_track_term

NAME = "Zyxwvut Quokkason"
HANDLE = "quokka_zyx"
EMAIL = "quokka@zyx.example"
PHRASE = "my secret quokka phrase: flibbertigibbet marmalade"
THANKS_TEXT = "thanks <@U2>, snorkelwaffle forever"
AGREE = "I agree about dashboards, zanzibarquokka"
FORUM = "Another secret about pumpernickelquokka recipes"
# What must be gone after the erasure, in any case: every piece of their name and words.
TRACES = [
    "Zyxwvut",
    "Quokkason",
    HANDLE,
    EMAIL,
    "my secret quokka phrase",
    "flibbertigibbet",
    "snorkelwaffle",
    "zanzibarquokka",
    "pumpernickelquokka",
]
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def write_exports(root: Path) -> tuple[Path, Path]:
    """A Slack workspace and a forum where Zyxwvut Quokkason talks with Bob and Ann."""
    users = [
        {
            "id": "UQZ",
            "name": HANDLE,
            "real_name": NAME,
            "profile": {"real_name": NAME, "email": EMAIL, "title": "Quokkason at Zyxwvut"},
        },
        {"id": "U2", "name": "bob", "profile": {"real_name": "Bob Builder"}},
    ]
    root_ts = "1700000000.000100"
    profile = {"real_name": NAME, "display_name": HANDLE}
    general: list[dict[str, Any]] = [
        {"type": "message", "user": "UQZ", "text": PHRASE, "ts": root_ts,
         "user_profile": profile},
        {"type": "message", "user": "U2", "text": "Great tip, I will try it today",
         "ts": "1700000060.000100", "thread_ts": root_ts},
        {"type": "message", "user": "UQZ", "text": THANKS_TEXT, "ts": "1700000120.000100",
         "thread_ts": root_ts, "user_profile": profile},
        {"type": "message", "user": "U2", "text": "Dashboards should load faster this week",
         "ts": "1700000300.000100",
         "reactions": [{"name": "thumbsup", "users": ["UQZ"], "count": 1}]},
        {"type": "message", "user": "UQZ", "text": AGREE, "ts": "1700000360.000100",
         "thread_ts": "1700000300.000100", "user_profile": profile},
    ]  # fmt: skip
    slack = write_slack_export(root / "slack", {"general": general}, users)
    forum = root / "forum.jsonl"
    lines = [
        {"id": "f1", "created_at": "2024-03-01T10:00:00Z", "text": FORUM, "kind": "post",
         "author_id": "q-77", "author_name": NAME, "author_handle": HANDLE,
         "author_email": EMAIL, "author_url": f"https://forum.example/u/{HANDLE}",
         "conversation_id": "t1", "conversation_title": f"{NAME} asks about recipes",
         "channel": "kitchen"},
        {"id": "f2", "created_at": "2024-03-01T11:00:00Z", "text": "Sourdough works best",
         "kind": "reply", "author_id": "a-1", "author_name": "Ann", "conversation_id": "t1",
         "parent_id": "f1", "channel": "kitchen"},
    ]  # fmt: skip
    forum.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return slack, forum


def merge(into: Member, other: Member) -> None:
    """As a merge leaves them: the other member's identities and interactions moved over."""
    Identity.objects.filter(member=other).update(member=into)
    Interaction.objects.filter(member=other).update(member=into)
    other.merged_into = into
    other.merged_at = timezone.now()
    other.save(update_fields=["merged_into", "merged_at"])


def quokka(tmp_path: Path, staff: User) -> Member:
    """Zyxwvut imported from both places, merged into one member, enriched, with everything
    the team can add about a member."""
    slack, forum = write_exports(tmp_path)
    with override_settings(TASKS=DUMMY_TASKS):
        import_export("slack", slack, source="workspace")
        import_export("jsonl", forum, source="forum")
    person = Identity.objects.get(external_id="UQZ").member
    other = Identity.objects.get(external_id="q-77").member
    merge(person, other)
    do_track_term(term="marmalade", kind="keyword", user=staff)
    enrich_pending()
    person.custom_fields = {"company": f"{NAME} Ltd", "handle elsewhere": HANDLE}
    person.save()
    Note.objects.create(member=person, author=staff, text=f"Met **{NAME}** ({EMAIL}) at a meetup")
    secret = Interaction.objects.get(text=PHRASE)
    Touchpoint.objects.create(
        member=person,
        staff=staff,
        happened_at=datetime(2024, 3, 2, tzinfo=UTC),
        channel="email",
        reason=f"Thanked {NAME} for the flibbertigibbet tip",
        outcome=f"{HANDLE} will write a guide",
        interaction=secret,
    )
    KnowledgeEntry.objects.create(
        member=person, interaction=secret, title="The flibbertigibbet trick", created_by=staff
    )
    MemberTag.objects.create(member=person, tag=Tag.objects.create(name="speaker"))
    ann = Identity.objects.get(external_id="a-1").member
    low, high = sorted([person.pk, ann.pk])
    MergeSuggestion.objects.create(
        member_a_id=low, member_b_id=high, confidence=0.4, evidence=[f"both near {HANDLE}"]
    )
    AuditEntry.objects.create(
        action=AuditAction.MERGE,
        member_ids=[person.pk, other.pk],
        actor=staff,
        reason=f"{NAME} asked us to merge their accounts",
    )
    LabelCorrection.objects.create(
        interaction=secret, field="sentiment_label", value="positive", note=f"{HANDLE} jokes"
    )
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=[person],
        action_flag=CHANGE,
        change_message=f"Renamed to {NAME}",
        single_object=True,
    )
    return person


def traces_in_tables() -> list[str]:
    """Every trace found in a text or JSON value of any row of any table, as table: trace."""
    found: list[str] = []
    lowered = [t.casefold() for t in TRACES]
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue  # no table of its own (django-rq's dashboard is a view on Redis)
        columns = [f.attname for f in model._meta.concrete_fields]
        for row in model._default_manager.values_list(*columns).iterator():
            for value in row:
                if value is None or isinstance(value, bool | int | float | datetime):
                    continue
                text = (
                    json.dumps(value, ensure_ascii=False, default=str)
                    if isinstance(value, dict | list)
                    else str(value)
                ).casefold()
                found.extend(
                    f"{model._meta.db_table}: {trace}"
                    for trace, low in zip(TRACES, lowered, strict=True)
                    if low in text
                )
    return found


@pytest.fixture
def alice(db: None) -> User:
    return make_staff("alice", superuser=True)


def test_it_exports_everything_about_a_member(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)
    data = do_export_member(member=person, actor=alice)

    again = json.loads(json.dumps(data))  # JSON as it is, with no encoder help
    assert again["member"]["id"] == person.pk
    assert again["member"]["custom_fields"]["company"] == f"{NAME} Ltd"
    assert len(again["merged_members"]) == 1
    assert sorted(i["external_id"] for i in again["identities"]) == ["UQZ", "q-77"]
    assert {i["email"] for i in again["identities"]} == {EMAIL}
    slack_identity = next(i for i in again["identities"] if i["external_id"] == "UQZ")
    assert slack_identity["raw"]["profile"]["email"] == EMAIL
    texts = {i["text"] for i in again["interactions"]}
    assert {PHRASE, THANKS_TEXT, AGREE, FORUM} <= texts
    assert len(again["interactions"]) == Interaction.objects.filter(member=person).count()
    secret = next(i for i in again["interactions"] if i["text"] == PHRASE)
    assert secret["conversation"]["title"] == PHRASE.split("\n")[0]
    assert secret["channel"]["name"] == "general"
    assert secret["raw"]["user_profile"]["real_name"] == NAME
    assert secret["enrichment"]["analyzed"] is True
    assert secret["label_corrections"][0]["note"] == f"{HANDLE} jokes"
    assert secret["tracked_terms"] == ["marmalade"]
    assert datetime.fromisoformat(secret["created_at"]) == datetime.fromtimestamp(
        1700000000.0001, tz=UTC
    )
    bob = Identity.objects.get(external_id="U2").member_id
    assert [t["to_member_id"] for t in again["thanks_given"]] == [bob]
    assert again["notes"][0]["text"].startswith(f"Met **{NAME}**")
    assert again["touchpoints"][0]["outcome"] == f"{HANDLE} will write a guide"
    assert again["knowledge"][0]["title"] == "The flibbertigibbet trick"
    assert again["tags"][0]["name"] == "speaker"
    assert again["merge_suggestions"][0]["evidence"] == [f"both near {HANDLE}"]
    assert [a["action"] for a in again["audit"]] == ["merge"]


def test_it_audits_an_export_without_personal_data(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)
    data = do_export_member(member=person, actor=alice)

    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == alice
    assert sorted(entry.member_ids) == sorted(
        [person.pk, *(m["id"] for m in data["merged_members"])]
    )
    assert entry.details["interactions"] == len(data["interactions"])
    logged = json.dumps([entry.reason, entry.details]).casefold()
    assert not [t for t in TRACES if t.casefold() in logged]


def test_it_erases_every_trace_of_a_member_from_every_table(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)
    assert len(traces_in_tables()) > 20  # the probe finds them while they are there
    ids = [person.pk, *Member.objects.filter(merged_into=person).values_list("id", flat=True)]
    interactions_before = dict(
        Interaction.objects.values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    thanks_before = Thanks.objects.filter(from_member=person).count()
    theirs_before = Interaction.objects.filter(member=person).count()

    erasure = do_erase_member(member=person, actor=alice, reason=f"{NAME} asked by email")

    assert traces_in_tables() == []
    assert sorted(erasure.member_ids) == sorted(ids)
    # The counts stay: every interaction, its kind, time, channel and conversation; thanks.
    after = dict(
        Interaction.objects.values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    assert after == interactions_before
    assert Thanks.objects.filter(from_member=person).count() == thanks_before == 1
    theirs = Interaction.objects.filter(member=person)
    # 3 Slack messages, 1 reaction and the forum post
    assert theirs.count() == theirs_before == 5
    assert not theirs.exclude(text="").exists()
    assert not theirs.filter(raw__isnull=False).exists()
    assert not theirs.filter(conversation__isnull=True, kind="reply").exists()
    person.refresh_from_db()
    assert person.display_name == f"Erased member #{person.pk}"
    assert person.erased_at is not None
    assert person.do_not_contact is True
    assert person.custom_fields == {}
    assert not Note.objects.exists()
    assert not Touchpoint.objects.exists()
    assert not KnowledgeEntry.objects.exists()
    assert not MemberTag.objects.exists()
    assert not MergeSuggestion.objects.exists()
    assert not LabelCorrection.objects.exists()
    assert not TermMatch.objects.exists()
    assert not Enrichment.objects.filter(interaction__member=person, analyzed=True).exists()
    for identity in Identity.objects.filter(member=person):
        assert identity.external_id.startswith("erased-")
        assert (identity.handle, identity.email, identity.raw) == ("", "", None)
    # The title of the conversation Bob started stays; those Zyxwvut started go.
    assert Conversation.objects.filter(title="Dashboards should load faster this week").exists()
    assert Conversation.objects.filter(title="").count() == 2
    entry = AuditEntry.objects.get(action=AuditAction.ERASE)
    assert sorted(entry.member_ids) == sorted(ids)
    assert entry.reason == "[erased] asked by email"
    assert entry.details["counts"]["interactions"] == 5
    assert LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Member)
    ).object_repr == (f"Erased member #{person.pk}")


def test_it_erases_the_whole_person_from_a_merged_member(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)
    merged = Member.objects.get(merged_into=person)

    erasure = do_erase_member(member=merged, actor=None, reason="")

    assert sorted(erasure.member_ids) == sorted([person.pk, merged.pk])
    assert traces_in_tables() == []


def test_it_leaves_other_members_alone(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)
    bob = Identity.objects.get(external_id="U2")
    bob_texts = sorted(Interaction.objects.filter(member=bob.member).values_list("text", flat=True))

    do_erase_member(member=person, actor=alice)

    bob.refresh_from_db()
    assert (bob.external_id, bob.handle, bob.display_name) == ("U2", "bob", "Bob Builder")
    assert (
        sorted(Interaction.objects.filter(member=bob.member).values_list("text", flat=True))
        == bob_texts
    )
    assert Enrichment.objects.filter(interaction__member=bob.member, analyzed=True).exists()


def test_it_exports_from_the_command_line(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)
    out = tmp_path / "export.json"

    call_command("members", "export", str(person.pk), "--out", str(out))

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["member"]["display_name"] == NAME
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, actor=None).count() == 1


def test_it_refuses_to_erase_without_yes(tmp_path: Path, alice: User) -> None:
    person = quokka(tmp_path, alice)

    with pytest.raises(CommandError, match="--yes") as error:
        call_command("members", "erase", str(person.pk))

    assert error.value.returncode == 2
    person.refresh_from_db()
    assert person.display_name == NAME
    assert not AuditEntry.objects.filter(action=AuditAction.ERASE).exists()


def test_it_says_so_for_an_unknown_member(db: None) -> None:
    with pytest.raises(CommandError, match="no member #404") as error:
        call_command("members", "export", "404")
    assert error.value.returncode == 2


def _variants(trace: str) -> list[bytes]:
    return [
        form.encode(encoding)
        for form in {trace, trace.lower(), trace.upper()}
        for encoding in ("utf-8", "utf-16-le", "utf-16-be")
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the file-level check is about SQLite's own file",
)
def test_it_leaves_no_trace_in_the_sqlite_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "TOWNSQUARE_DATA_DIR": str(data_dir),
        "TOWNSQUARE_TASK_BACKEND": "immediate",
    }
    env.pop("DATABASE_URL", None)
    townsquare = str(Path(sys.executable).parent / "townsquare")
    slack, forum = write_exports(tmp_path / "exports")

    def run(*args: str) -> str:
        done = subprocess.run(
            [townsquare, *args], env=env, check=True, capture_output=True, text=True
        )
        return done.stdout

    run("migrate", "-v0")
    run("import", "slack", str(slack), "--source", "workspace", "--no-progress")
    run("import", "jsonl", str(forum), "--source", "forum", "--no-progress")
    member_id = run(
        "shell",
        "-c",
        "from townsquare.community.models import Identity, Note, Touchpoint\n"
        "from townsquare.community.tests.test_privacy import merge, NAME\n"
        "from django.utils import timezone\n"
        "person = Identity.objects.get(external_id='UQZ').member\n"
        "merge(person, Identity.objects.get(external_id='q-77').member)\n"
        "Note.objects.create(member=person, text=f'Met {NAME} at the meetup')\n"
        "Touchpoint.objects.create(member=person, happened_at=timezone.now(),"
        " reason=f'Called {NAME}')\n"
        "print(person.pk)",
    ).split()[-1]
    db_file = data_dir / "townsquare.sqlite3"
    wal_file = data_dir / "townsquare.sqlite3-wal"
    before = db_file.read_bytes() + (wal_file.read_bytes() if wal_file.exists() else b"")
    assert EMAIL.encode() in before  # the probe sees it while it is there
    with sqlite3.connect(db_file) as conn:
        enriched = conn.execute("SELECT COUNT(*) FROM listening_enrichment").fetchone()[0]
    assert enriched > 0

    out = run("members", "erase", member_id, "--yes", "--reason", "request by email")

    assert f"#{member_id}" in out
    raw = db_file.read_bytes() + (wal_file.read_bytes() if wal_file.exists() else b"")
    left = [t for t in TRACES for v in _variants(t) if v in raw]
    assert left == []
    assert not wal_file.exists() or wal_file.stat().st_size == 0
