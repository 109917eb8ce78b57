"""The care rules and the queue, on a community imported and enriched through the real path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from townsquare.care.models import CareItem, CareReason, ChannelPolicy, RuleAdjustment, Status
from townsquare.care.queue import AFTER_NEW_MESSAGES, refresh_queue
from townsquare.care.services import do_dismiss, do_resolve, do_snooze
from townsquare.care.tests.conftest import NOW, Town, say
from townsquare.community.models import (
    Channel,
    Identity,
    Interaction,
    Platform,
    Source,
    Touchpoint,
)
from townsquare.lib.testing import make_staff
from townsquare.moderation.models import ModerationItem, WatchedWord, WatchedWordAction
from townsquare.moderation.services import scan_word


def reasons_of(town: Town, handle: str) -> dict[str, str]:
    return {
        r.rule: r.detail
        for r in CareReason.objects.filter(member=town.member(handle), cleared_at__isnull=True)
    }


def test_it_finds_each_kind_of_person_who_needs_a_touch(town: Town) -> None:
    refresh_queue(NOW)
    ada = reasons_of(town, "ada")
    assert "unusual for them" in ada["bad_day"]
    assert ada["helper"].startswith("This week they")
    assert "answered 3 questions first" in ada["helper"]
    assert "were thanked 2 times" in ada["helper"]
    assert "30 hours ago" in reasons_of(town, "bob")["unanswered"]
    assert "first question" in reasons_of(town, "cleo")["newcomer"]
    assert "drifting away" in reasons_of(town, "dan")["drifting"]
    eve = reasons_of(town, "eve")
    assert (
        "Wrote in French in general, where most write in English" in eve["language"]
        and "Nobody has replied yet" in eve["language"]
    )
    # Bots never get an item; Cleo's question got an answer.
    assert not CareItem.objects.filter(member__is_bot=True).exists()
    assert "unanswered" not in reasons_of(town, "cleo")


def test_it_gathers_a_members_reasons_on_one_item_ranked_by_priority(town: Town) -> None:
    # Frustration at the build is not abuse (the toxicity model no longer flags it), but the
    # staff watch the word she used: her message waits for a moderator too. The bot said it as
    # well, and gets no care item for it.
    scan_word(WatchedWord.objects.create(term="horrible", action=WatchedWordAction.FLAG))
    refresh_queue(NOW)
    ada = town.member("ada")
    item = CareItem.objects.get(member=ada)
    standing = CareReason.objects.filter(item=item)
    assert {r.rule for r in standing} == {"bad_day", "helper", "moderation"}
    assert "(watched word)" in standing.get(rule="moderation").detail
    assert not CareItem.objects.filter(member__is_bot=True).exists()
    assert item.priority == pytest.approx(sum(r.score for r in standing))
    ranked = list(CareItem.objects.filter(status=Status.OPEN).order_by("-priority"))
    assert ranked[0].member == ada  # two reasons outweigh one


def test_after_new_messages_only_the_rules_messages_can_trigger_run(town: Town) -> None:
    partial = refresh_queue(NOW, rules=AFTER_NEW_MESSAGES)
    assert "drifting" not in partial.by_rule and "milestone" not in partial.by_rule
    assert set(partial.seconds_by_rule) == set(partial.by_rule)
    assert "drifting" not in reasons_of(town, "dan")
    assert "unanswered" in reasons_of(town, "bob")
    # The scheduled refresh runs them all and files the rest, nothing twice.
    full = refresh_queue(NOW + timedelta(minutes=10))
    assert "drifting away" in reasons_of(town, "dan")["drifting"]
    assert full.new_reasons == CareReason.objects.filter(rule__in=["drifting", "milestone"]).count()


def test_a_regular_whose_every_account_was_deactivated_is_not_drifting_away(town: Town) -> None:
    dan = town.member("dan")
    for account in dan.identities.all():
        account.raw = {**(account.raw or {}), "deleted": True}
        account.save(update_fields=["raw"])
    refresh_queue(NOW)
    assert "drifting" not in reasons_of(town, "dan")
    # Still reachable elsewhere: an account of theirs on another platform is not gone.
    Identity.objects.create(
        member=dan,
        source=Source.objects.create(name="Forum", platform=Platform.GITHUB),
        external_id="dan",
        handle="dan-on-github",
        raw={"login": "dan"},
    )
    refresh_queue(NOW + timedelta(minutes=10))
    assert "drifting away" in reasons_of(town, "dan")["drifting"]


def test_a_refresh_files_nothing_twice(town: Town) -> None:
    first = refresh_queue(NOW)
    reasons = CareReason.objects.count()
    again = refresh_queue(NOW + timedelta(minutes=10))
    assert first.new_reasons == reasons > 0
    assert again.new_reasons == 0
    assert CareReason.objects.count() == reasons


def test_an_answer_clears_the_unanswered_reason_and_the_item(town: Town) -> None:
    refresh_queue(NOW)
    bob = town.member("bob")
    item = CareItem.objects.get(member=bob)
    asked = NOW - timedelta(hours=30)
    town.add("general", say(NOW + timedelta(minutes=5), "U3", "Try theme(legend=...)", asked))
    stats = refresh_queue(NOW + timedelta(minutes=10))
    assert stats.cleared_reasons >= 1
    item.refresh_from_db()
    assert item.status == Status.EXPIRED
    # The answered question does not come back at the next refresh.
    refresh_queue(NOW + timedelta(minutes=20))
    assert not CareItem.objects.filter(member=bob, status=Status.OPEN).exists()


def test_the_channel_answer_time_decides_when_a_question_is_late(town: Town) -> None:
    channel = Channel.objects.get(name="general")
    ChannelPolicy.objects.create(channel=channel, sla_hours=48)
    refresh_queue(NOW)
    assert "unanswered" not in reasons_of(town, "bob")
    refresh_queue(NOW + timedelta(hours=19))
    assert "48 hours" in reasons_of(town, "bob")["unanswered"]


def test_a_channel_whose_language_is_french_sees_no_barrier_in_french(town: Town) -> None:
    ChannelPolicy.objects.create(channel=Channel.objects.get(name="general"), main_language="fr")
    refresh_queue(NOW)
    assert "language" not in reasons_of(town, "eve")


def test_do_not_contact_members_get_no_item(town: Town) -> None:
    cleo = town.member("cleo")
    cleo.do_not_contact = True
    cleo.save()
    refresh_queue(NOW)
    assert not CareItem.objects.filter(member=cleo).exists()


def test_resolving_logs_a_touchpoint_and_keeps_the_item_as_history(town: Town) -> None:
    refresh_queue(NOW)
    bob_staff = make_staff("bob")
    item = CareItem.objects.get(member=town.member("cleo"))
    touchpoint = do_resolve(
        item=item,
        actor=bob_staff,
        what="Welcomed her in a DM",
        outcome="She is happy",
        channel="Slack",
    )
    item.refresh_from_db()
    assert item.status == Status.RESOLVED and item.touchpoint == touchpoint
    assert Touchpoint.objects.get(member=item.member).reason == "Welcomed her in a DM"
    with pytest.raises(ValidationError, match="already resolved"):
        do_resolve(item=item, actor=bob_staff, what="again", outcome="")
    # The newcomer reason is filed once for good: no new item for it.
    refresh_queue(NOW + timedelta(minutes=10))
    assert not CareItem.objects.filter(member=item.member, status=Status.OPEN).exists()


def test_dismissals_lower_the_weight_of_similar_items(town: Town) -> None:
    refresh_queue(NOW)
    manager = make_staff("bob")
    eve_item = CareItem.objects.get(member=town.member("eve"))
    before = CareReason.objects.get(item=eve_item, rule="language").score
    with pytest.raises(ValidationError):
        do_dismiss(item=eve_item, actor=manager, reason=" ")
    do_dismiss(item=eve_item, actor=manager, reason="French is welcome here")
    general = Channel.objects.get(name="general")
    adjustment = RuleAdjustment.objects.get(rule="language", channel=general)
    assert adjustment.factor == pytest.approx(0.85) and adjustment.dismissals == 1
    # Ivy then writes in French too: her reason weighs 0.85 of Eve's.
    town.add(
        "general",
        say(
            NOW + timedelta(minutes=1),
            "U8",
            "Bonjour à tous, je voudrais savoir comment changer la couleur des axes",
        ),
    )
    refresh_queue(NOW + timedelta(minutes=5))
    ivy = CareReason.objects.get(member=town.member("ivy"), rule="language")
    assert ivy.score == pytest.approx(before * 0.85, rel=0.01)


def test_a_snoozed_item_comes_back_when_its_time_comes(town: Town) -> None:
    refresh_queue(NOW)
    item = CareItem.objects.get(member=town.member("dan"))
    manager = make_staff("bob")
    with pytest.raises(ValidationError):
        do_snooze(item=item, until=NOW - timedelta(days=1), actor=manager)
    until = timezone.now() + timedelta(days=2)  # a snooze must end in the real future
    do_snooze(item=item, until=until, actor=manager)
    refresh_queue(until - timedelta(hours=1))
    item.refresh_from_db()
    assert item.status == Status.SNOOZED
    refresh_queue(until + timedelta(minutes=1))
    item.refresh_from_db()
    assert item.status == Status.OPEN and item.snoozed_until is None


def test_anniversaries_across_new_year(db: None) -> None:
    from datetime import UTC, datetime

    from townsquare.care.rules import Context, anniversaries
    from townsquare.community.models import Member

    now = datetime(2026, 1, 2, 12, tzinfo=UTC)
    old = Member.objects.create(
        display_name="Old Timer",
        first_seen_at=datetime(2023, 12, 30, 9, tzinfo=UTC),
        last_seen_at=datetime(2025, 12, 20, tzinfo=UTC),
        interaction_count=40,
    )
    Member.objects.create(
        display_name="Not this week",
        first_seen_at=datetime(2024, 3, 1, tzinfo=UTC),
        last_seen_at=datetime(2025, 12, 20, tzinfo=UTC),
    )
    found = list(anniversaries(Context.load(now)))
    assert [(c.member_id, c.detail) for c in found] == [
        (old.pk, "2 years in the community this week.")
    ]


def test_nobody_is_asked_to_welcome_a_spammer(town: Town) -> None:
    # Ivy's first message is channel spam; Hana's first question was hidden by a moderator.
    town.add(
        "general",
        say(
            NOW - timedelta(hours=3),
            "U8",
            "Check out my channel and subscribe for free gift cards http://youtube.com/c/freegiftz",
        ),
    )
    hana = town.member("hana")
    first = Interaction.objects.filter(member=hana).earliest("created_at")
    ModerationItem.objects.create(interaction=first, reasons=[], text_hash="x", is_hidden=True)
    refresh_queue(NOW)
    assert "newcomer" not in reasons_of(town, "ivy")
    assert "newcomer" not in reasons_of(town, "hana")
    assert "newcomer" in reasons_of(town, "gus")  # asked in the open: welcomed
