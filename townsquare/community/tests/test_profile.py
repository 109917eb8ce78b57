"""The member portrait (community/profile.py), checked against values computed here in Python
from the rows of a small crafted community."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from townsquare.community import profile
from townsquare.community.models import Interaction, InteractionKind, Member
from townsquare.community.tests.profile_exports import (
    ANSWER_2,
    portrait_community,
)
from townsquare.listening.models import Enrichment, Thanks
from townsquare.listening.pulse import MESSAGE_KINDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def community(tmp_path: Path) -> dict[str, Member]:
    portrait_community(tmp_path / "portrait")
    return {m.display_name.lower(): m for m in Member.objects.all()}


def _expected_interests(
    member: Member, window: int | None = None
) -> list[tuple[str, int, int, float]]:
    """(keyword, messages, responses, score) by the documented formula, in plain Python; over
    the member's latest `window` interactions when given."""
    messages = Interaction.objects.filter(member=member, kind__in=MESSAGE_KINDS)
    if window is not None:
        latest = Interaction.objects.filter(member=member).order_by("-created_at", "-id")
        messages = messages.filter(pk__in=[i.pk for i in latest[:window]])
    enrichments = {e.interaction_id: e for e in Enrichment.objects.filter(analyzed=True)}
    counts: Counter[str] = Counter()
    responses: Counter[str] = Counter()
    sentiments: dict[str, list[float]] = defaultdict(list)
    for message in messages:
        e = enrichments.get(message.pk)
        if e is None:
            continue
        answered = [
            r
            for r in Interaction.objects.filter(parent=message).exclude(pk=message.pk)
            if r.member_id not in (None, member.pk)
            and r.kind in (*MESSAGE_KINDS, InteractionKind.REACTION)
        ]
        for keyword in e.keywords:
            counts[keyword] += 1
            responses[keyword] += len(answered)
            if e.sentiment is not None:
                sentiments[keyword].append(e.sentiment)
    rows = []
    for keyword, n in counts.items():
        if n < profile.MIN_INTEREST_MESSAGES:
            continue
        scores = sentiments[keyword]
        mean = sum(scores) / len(scores) if scores else 0.0
        score = n * (1 + max(mean, 0.0)) * (1 + responses[keyword] / n)
        rows.append((keyword, n, responses[keyword], score))
    rows.sort(key=lambda r: (-r[3], -r[1], r[0]))
    return rows[:5]


def test_it_ranks_an_interest_with_positive_energy_and_replies_above_a_merely_frequent_one(
    community: dict[str, Member],
) -> None:
    ada = community["ada"]
    found = profile.interests(ada)
    assert [(i.keyword, i.messages, i.responses) for i in found] == [
        (k, n, r) for k, n, r, _ in _expected_interests(ada)
    ]
    assert [i.score for i in found] == pytest.approx([s for *_, s in _expected_interests(ada)])
    keywords = [i.keyword for i in found]
    assert keywords.index("kubernetes") < keywords.index("database migration")
    kubernetes = found[keywords.index("kubernetes")]
    database = found[keywords.index("database migration")]
    # Two happy messages, each answered and reacted to, beat three flat unanswered ones.
    assert kubernetes.messages == 2 < database.messages == 3
    assert kubernetes.responses == 2 + 3  # a reply under each, and three reactions
    assert database.responses == 0
    assert kubernetes.mean_sentiment is not None and kubernetes.mean_sentiment > 0.5


def test_it_gives_each_interest_examples_from_the_member_linking_their_conversation(
    community: dict[str, Member],
) -> None:
    ada = community["ada"]
    for interest in profile.interests(ada, examples=2):
        assert 1 <= len(interest.examples) <= 2
        for example in interest.examples:
            item = Interaction.objects.get(pk=example.interaction_id)
            assert item.member_id == ada.pk
            assert interest.keyword in Enrichment.objects.get(interaction=item).keywords
            assert example.conversation_id == item.conversation_id
    # The most answered message comes first.
    kubernetes = next(i for i in profile.interests(ada) if i.keyword == "kubernetes")
    assert kubernetes.examples[0].text.startswith("Kubernetes is great")


def test_it_shows_a_message_under_one_interest_while_the_others_have_their_own(
    community: dict[str, Member],
) -> None:
    ada = community["ada"]
    for examples in (1, 2, 3):
        shown: set[int] = set()
        for interest in profile.interests(ada, examples=examples):
            ids = [e.interaction_id for e in interest.examples]
            carrying = {
                e.interaction_id
                for e in Enrichment.objects.filter(interaction__member=ada, analyzed=True)
                if interest.keyword in e.keywords
            }
            # As many as asked for, or all the keyword's messages when it has fewer.
            assert len(ids) == min(examples, len(carrying))
            # A message shown above comes back only when the keyword has no other to show.
            repeated = [i for i in ids if i in shown]
            assert len(repeated) <= max(0, examples - len(carrying - shown))
            shown.update(ids)
    # Both of Ada's kubernetes messages also carry "love kubernetes": one example each shows
    # both messages, not the most answered one twice.
    first, second = profile.interests(ada, examples=1)[:2]
    assert (first.keyword, second.keyword) == ("kubernetes", "love kubernetes")
    assert first.examples[0].interaction_id != second.examples[0].interaction_id


def test_it_counts_answers_in_others_threads_and_thanks_received_as_expertise(
    community: dict[str, Member],
) -> None:
    bob, dan = community["bob"], community["dan"]
    answer = Interaction.objects.get(member=bob, text=ANSWER_2)
    # Dan accepts Bob's answer, as a Stack Exchange import records it.
    Interaction.objects.create(
        source=answer.source,
        external_id="accepted-1",
        kind=InteractionKind.ACCEPTED,
        member=dan,
        conversation=answer.conversation,
        parent=answer,
        created_at=answer.created_at + timedelta(minutes=5),
        content_hash="x",
        imported_at=datetime.now(UTC),
    )
    assert Thanks.objects.filter(to_member=bob).count() == 1
    found = {row.keyword: row for row in profile.expertise(bob)}
    replication = found["postgres replication"]
    # Chloe's and Dan's questions; his own thread does not count.
    assert (replication.conversations, replication.answers) == (2, 2)
    assert (replication.thanks, replication.accepted) == (1, 1)
    assert replication.score == 2 + 2 * (1 + 1)
    # Chloe answered nobody else's question.
    assert profile.expertise(community["chloe"]) == []


def test_it_lists_the_people_a_member_talks_with_most(community: dict[str, Member]) -> None:
    bob = community["bob"]
    expected: Counter[int] = Counter()
    for item in Interaction.objects.filter(kind__in=MESSAGE_KINDS, parent__isnull=False):
        parent = item.parent
        assert parent is not None
        if item.member_id == bob.pk and parent.member_id not in (None, bob.pk):
            expected[parent.member_id] += 1
        if parent.member_id == bob.pk and item.member_id not in (None, bob.pk):
            expected[item.member_id] += 1
    for t in Thanks.objects.filter(from_member=bob):
        expected[t.to_member_id] += 1
    for t in Thanks.objects.filter(to_member=bob):
        expected[t.from_member_id] += 1
    found = profile.people(bob)
    assert {c.member_id: c.total for c in found} == dict(expected)
    assert found[0].display_name == "Chloe"  # a reply to her question and her thanks
    assert (found[0].replied_to, found[0].thanked_by) == (1, 1)


def test_it_draws_weekly_activity_languages_and_monthly_sentiment(
    community: dict[str, Member],
) -> None:
    ada = community["ada"]
    found = profile.activity(ada)
    assert len(found.weeks) == profile.SPARKLINE_WEEKS
    assert found.total == Interaction.objects.filter(member=ada).count()
    # Each week's count, as the rollup gives it, is the count of the interactions of that week.
    days = [i.created_at.astimezone(UTC).date() for i in Interaction.objects.filter(member=ada)]
    mondays = Counter(day - timedelta(days=day.weekday()) for day in days)
    assert {w.start: w.count for w in found.weeks if w.count} == dict(mondays)
    assert found.spark_points.count(",") == profile.SPARKLINE_WEEKS
    assert str(found.total) in found.spark_description
    analysed = Enrichment.objects.filter(
        interaction__member=ada, interaction__kind__in=MESSAGE_KINDS, analyzed=True
    )
    languages = Counter(e.language for e in analysed)
    assert {row.language: row.messages for row in found.languages} == dict(languages)
    scored = [e.sentiment for e in analysed if e.sentiment is not None]
    months = [m for m in found.sentiment if m.scored]
    assert sum(m.scored for m in months) == len(scored)
    assert len(months) == 1
    assert months[0].mean == pytest.approx(sum(scored) / len(scored))


def test_it_reads_only_the_latest_interactions_of_a_busy_member(
    community: dict[str, Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = community["ada"]
    whole = profile.activity(ada)
    total = Interaction.objects.filter(member=ada).count()
    for window in range(1, total + 1):
        monkeypatch.setattr(profile, "PORTRAIT_INTERACTIONS", window)
        found = profile.interests(ada)
        assert [(i.keyword, i.messages, i.responses) for i in found] == [
            (k, n, r) for k, n, r, _ in _expected_interests(ada, window)
        ]
        latest = Interaction.objects.filter(member=ada).order_by("-created_at", "-id")[:window]
        analysed = Enrichment.objects.filter(
            interaction__in=list(latest), interaction__kind__in=MESSAGE_KINDS, analyzed=True
        )
        windowed = profile.activity(ada)
        # The weekly counts read every interaction (the index alone); the labels, the window.
        assert windowed.weeks == whole.weeks
        assert {row.language: row.messages for row in windowed.languages} == dict(
            Counter(e.language for e in analysed)
        )
    # A window as large as the history is the whole history.
    assert [(i.keyword, i.messages) for i in profile.interests(ada)] == [
        (k, n) for k, n, _, _ in _expected_interests(ada)
    ]


def test_it_shows_nothing_for_a_member_without_activity(db: None) -> None:
    nobody = Member.objects.create(display_name="Nobody")
    assert profile.interests(nobody) == []
    assert profile.expertise(nobody) == []
    assert profile.people(nobody) == []
    found = profile.activity(nobody)
    assert found.weeks == [] and found.spark_points == ""
