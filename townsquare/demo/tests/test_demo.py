"""The demo community: deterministic, importable with nothing rejected, and full of people who
need a personal touch."""

from __future__ import annotations

import hashlib
import json
import mailbox
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import Count, Max

from townsquare.care.models import CareItem, CareReason
from townsquare.community.models import Interaction, Member, Source
from townsquare.connectors.models import RunStatus
from townsquare.demo import texts
from townsquare.demo.generator import DemoExports, generate_demo
from townsquare.demo.management.commands.demo import DEMO_TRACKED_TERMS, DEMO_WATCHED_WORDS
from townsquare.lib.testing import import_export
from townsquare.listening.models import Alert, TermMatch, TrackedTerm
from townsquare.moderation.models import ModerationItem, WatchedWord
from townsquare.staff.roles import role_of

END = datetime(2025, 6, 2, tzinfo=UTC)


def _small(out: Path, seed: int) -> DemoExports:
    return generate_demo(out, seed=seed, members=150, interactions=3000, end=END)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoExports:
    return _small(tmp_path_factory.mktemp("demo"), 7)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# Independent readings of the files, as a person would count them.


def _slack_messages(folder: Path) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for day in sorted(folder.glob("*/*.json")):
        messages += json.loads(day.read_text(encoding="utf-8"))
    return messages


def _slack_interactions(folder: Path) -> int:
    messages = _slack_messages(folder)
    reactions = 0
    for message in messages:
        for reaction in message.get("reactions", []):
            reactions += len(reaction["users"])
    return len(messages) + reactions


def _rows(path: Path) -> list[dict[str, str]]:
    return [row.attrib for row in ET.parse(path).getroot().iter("row")]  # noqa: S314


def _qa_interactions(folder: Path) -> int:
    return sum(
        len(_rows(folder / name))
        for name in ("Posts.xml", "Comments.xml", "Votes.xml", "Badges.xml")
    )


def _mbox_senders(path: Path) -> list[str]:
    return [parseaddr(str(make_header(decode_header(m["From"]))))[1] for m in mailbox.mbox(path)]


def test_it_writes_the_same_bytes_for_the_same_seed(tmp_path: Path) -> None:
    first = _small(tmp_path / "a", 3)
    second = _small(tmp_path / "b", 3)
    other = _small(tmp_path / "c", 4)

    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert first.counts == second.counts
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert first.counts != other.counts


def test_it_regenerates_cleanly_over_a_previous_demo(tmp_path: Path) -> None:
    generate_demo(tmp_path, seed=1, members=80, interactions=1500, end=END)
    generate_demo(tmp_path, seed=1, members=60, interactions=800, end=END)
    fresh = tmp_path / "fresh"
    generate_demo(fresh, seed=1, members=60, interactions=800, end=END)

    again = {k: v for k, v in _digest(tmp_path).items() if not k.startswith("fresh")}
    assert again == _digest(fresh)


def test_it_splits_interactions_across_three_sources(demo: DemoExports) -> None:
    total = sum(demo.interactions.values())

    assert 2700 <= total <= 3300
    assert 0.5 < demo.interactions["slack"] / total < 0.7
    assert 0.18 < demo.interactions["stackexchange"] / total < 0.32
    assert 0.1 < demo.interactions["mbox"] / total < 0.2
    assert demo.members == 150


@pytest.mark.django_db
def test_it_imports_everything_with_nothing_rejected(demo: DemoExports) -> None:
    runs = {
        "slack": import_export("slack", demo.slack_dir, source="Demo Slack"),
        "stackexchange": import_export("stackexchange", demo.stackexchange_dir, source="Demo Q&A"),
        "mbox": import_export("mbox", demo.mbox_file, source="Demo mailing list"),
    }
    independent = {
        "slack": _slack_interactions(demo.slack_dir),
        "stackexchange": _qa_interactions(demo.stackexchange_dir),
        "mbox": len(mailbox.mbox(demo.mbox_file)),
    }

    for platform, run in runs.items():
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert run.rejected_count == 0
        imported = Interaction.objects.filter(source=run.source).count()
        assert imported == demo.interactions[platform] == independent[platform], platform

    # Re-importing the same files adds nothing.
    rerun = import_export("slack", demo.slack_dir, source="Demo Slack")
    assert rerun.counts["created"] == {}


@pytest.mark.django_db
def test_it_has_members_who_drifted_away(demo: DemoExports) -> None:
    import_export("slack", demo.slack_dir, source="Demo Slack")
    quiet_since = END - timedelta(days=90)

    drifted = (
        Member.objects.annotate(n=Count("interactions"), last=Max("interactions__created_at"))
        .filter(n__gte=5, last__lt=quiet_since, is_bot=False)
        .count()
    )

    assert drifted >= 3


def test_it_leaves_some_questions_unanswered(demo: DemoExports) -> None:
    posts = _rows(demo.stackexchange_dir / "Posts.xml")
    answered = {row["ParentId"] for row in posts if row["PostTypeId"] == "2"}
    questions = [row for row in posts if row["PostTypeId"] == "1"]
    unanswered = [row for row in questions if row["Id"] not in answered]
    accepted = [row for row in questions if row.get("AcceptedAnswerId")]

    assert unanswered
    assert len(unanswered) < len(questions) / 2
    assert accepted
    assert all(row["AnswerCount"] == "0" for row in unanswered)

    # On Slack too: questions in #help with no reply at all.
    help_channel = demo.slack_dir / "help"
    roots = [
        m
        for m in _slack_messages(help_channel.parent)
        if "thread_ts" not in m and not m.get("subtype")
    ]
    assert roots


def test_it_writes_in_several_languages(demo: DemoExports) -> None:
    texts = [str(m.get("text", "")) for m in _slack_messages(demo.slack_dir)]
    for message in mailbox.mbox(demo.mbox_file):
        payload = message.get_payload(decode=True)
        assert isinstance(payload, bytes)
        texts.append(payload.decode("utf-8"))
    corpus = "\n".join(texts)
    names = json.loads((demo.slack_dir / "users.json").read_text(encoding="utf-8"))

    markers = {
        "Spanish": ("¿", "gracias", "Hola"),
        "French": ("Merci", "Bonjour", "J'"),
        "German": ("Danke", "Hallo", "Ich "),
        "Portuguese": ("obrigad", "Oi pessoal", "Valeu", "Olá"),
        "Japanese": ("ありがとう", "です"),
        "Russian": ("Спасибо", "Всем привет", "Привет"),
    }
    found = {lang for lang, words in markers.items() if any(w in corpus for w in words)}
    assert len(found) >= 4, found
    # Simple English from members writing in a second language.
    assert (
        "Sorry for my english" in corpus
        or "Somebody can help me" in corpus
        or ("now is working" in corpus)
    )
    assert any(not u["real_name"].isascii() for u in names)


def test_it_shares_emails_between_slack_and_the_mailing_list(demo: DemoExports) -> None:
    users = json.loads((demo.slack_dir / "users.json").read_text(encoding="utf-8"))
    slack_emails = {u["profile"].get("email", "").lower() for u in users} - {""}
    mail_emails = {e.lower() for e in _mbox_senders(demo.mbox_file)}

    shared = slack_emails & mail_emails
    assert len(shared) >= 5
    assert len(shared) <= 0.3 * demo.members


def test_it_has_a_realistic_rhythm(demo: DemoExports) -> None:
    times = [
        datetime.fromtimestamp(float(str(m["ts"])), UTC) for m in _slack_messages(demo.slack_dir)
    ]
    weekdays = Counter(t.weekday() < 5 for t in times)

    assert max(times) < END
    assert min(times) >= END - timedelta(days=366)
    # Five weekdays carry far more than two days of weekend.
    assert weekdays[True] / 5 > 1.5 * weekdays[False] / 2
    # The community grows: more in the last quarter than in the first.
    first = sum(t < END - timedelta(days=270) for t in times)
    last = sum(t >= END - timedelta(days=90) for t in times)
    assert last > first


@pytest.mark.django_db
def test_it_runs_the_demo_command_twice_without_duplicates(tmp_path: Path) -> None:
    args = ["--no-serve", "--members", "100", "--interactions", "1500", "--out", str(tmp_path)]
    out = _Sink()
    call_command("demo", *args, verbosity=0, stdout=out)
    user = User.objects.get(username="demo")
    first = Interaction.objects.count()
    sources = set(Source.objects.values_list("name", flat=True))
    alerts = list(Alert.objects.order_by("pk").values_list("pk", "channel__name", "metric"))

    call_command("demo", *args, verbosity=0, stdout=_Sink())

    # Pulse lists the spikes of the history's last month, stored once.
    assert alerts
    assert f"the history: {len(alerts)} alert" in out.text
    assert list(Alert.objects.order_by("pk").values_list("pk", "channel__name", "metric")) == alerts

    assert user.is_superuser and user.check_password("demo")
    # One login per role, each with its name as password.
    for role in ("manager", "moderator", "viewer"):
        staff = User.objects.get(username=role)
        assert role_of(staff) == role and staff.check_password(role)
    assert sources == {"Demo Slack", "Demo Q&A", "Demo mailing list"}
    assert 1200 < first < 1800
    assert Interaction.objects.count() == first
    # Today opens on people who need a touch, with the reasons the demo's personas give.
    rules = set(CareReason.objects.values_list("rule", flat=True))
    assert CareItem.objects.filter(status="open").exists()
    assert {"unanswered", "newcomer"} <= rules
    # The moderators' queue holds the spam accounts' promotions; nobody is asked to welcome
    # them. The team's watched words and tracked terms are there once, and matched.
    spam = ModerationItem.objects.filter(kinds__contains="spam")
    assert spam.filter(interaction__member__identities__handle="giftcard.hub").exists()
    assert not CareReason.objects.filter(
        rule="newcomer", member__identities__handle__in=[h for _, h, _ in texts.SPAMMERS]
    ).exists()
    assert WatchedWord.objects.count() == len(DEMO_WATCHED_WORDS)
    assert TrackedTerm.objects.count() == len(DEMO_TRACKED_TERMS)
    assert TermMatch.objects.filter(term__term="Plotline").exists()


class _Sink:
    """A stdout that keeps what the command printed."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        return None


@pytest.mark.slow
def test_it_generates_the_full_size_demo(tmp_path: Path) -> None:
    exports = generate_demo(tmp_path, end=END)

    assert exports.members == 2000
    assert 47000 < sum(exports.interactions.values()) < 53000
    assert exports.interactions["slack"] == _slack_interactions(exports.slack_dir)
