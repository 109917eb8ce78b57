"""Finding members who may be one person: keys, evidence in words, confidence, scale."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command

from townsquare.community.models import (
    AuditAction,
    AuditEntry,
    Identity,
    Member,
    MergeStatus,
    MergeSuggestion,
    Platform,
    Source,
)
from townsquare.community.resolution import (
    SAME_EMAIL,
    SAME_HANDLE,
    SAME_NAME,
    find_candidates,
    japanese_readings,
    normalise,
    resolve,
)
from townsquare.community.services import do_reject_suggestion, do_unmerge_member

pytestmark = pytest.mark.django_db


def person(
    source: Source, ext: str, name: str, *, handle: str = "", email: str = "", bot: bool = False
) -> Member:
    member = Member.objects.create(display_name=name, is_bot=bot)
    Identity.objects.create(
        source=source,
        member=member,
        external_id=ext,
        handle=handle,
        display_name=name,
        email=email,
        is_bot=bot,
    )
    return member


@pytest.fixture
def slack() -> Source:
    return Source.objects.create(name="slack", platform=Platform.SLACK)


@pytest.fixture
def github() -> Source:
    return Source.objects.create(name="github", platform=Platform.GITHUB)


@pytest.fixture
def mbox() -> Source:
    return Source.objects.create(name="list", platform=Platform.MBOX)


def suggestion(a: Member, b: Member) -> MergeSuggestion:
    low, high = sorted((a.id, b.id))
    return MergeSuggestion.objects.get(member_a_id=low, member_b_id=high)


def test_it_normalises_accents_scripts_and_case() -> None:
    assert normalise("José  Núñez") == "jose nunez"
    assert normalise("ＪＯＳＥ") == "jose"  # full-width letters, through NFKC
    assert normalise("Иван Петров") == "ivan petrov"
    assert normalise("さとう けん") == "satou ken"
    assert normalise("きょうこ ジュン") == "kyouko jun"  # Hepburn, not "kiyouko jiyun"
    assert normalise("Ørsted-Straße") == "orsted strasse"


def test_it_merges_the_same_verified_email_automatically(slack: Source, github: Source) -> None:
    ada = person(slack, "U1", "Ada Lovelace", email="Ada@Example.org")
    ada_gh = person(github, "7", "ada-l", handle="ada-l", email="ada@example.org")

    result = resolve(auto=True)

    assert result.merged == 1
    ada.refresh_from_db()
    ada_gh.refresh_from_db()
    merged = [m for m in (ada, ada_gh) if m.merged_into_id]
    assert len(merged) == 1
    assert merged[0].merged_into_id == ({ada.id, ada_gh.id} - {merged[0].id}).pop()
    entry = AuditEntry.objects.get(action=AuditAction.MERGE)
    assert entry.automatic
    assert entry.actor is None
    assert entry.reason == "same verified email"
    assert "ada" not in str(entry.details).lower()  # ids and counts only


def test_it_only_suggests_an_unverified_email(slack: Source, mbox: Source) -> None:
    ada = person(slack, "U1", "Ada", email="ada@example.org")
    ada_list = person(mbox, "ada@example.org", "A. L.", handle="ada", email="ada@example.org")

    result = resolve(auto=True)

    assert result.merged == 0
    assert Member.objects.filter(merged_into__isnull=False).count() == 0
    found = suggestion(ada, ada_list)
    assert found.status == MergeStatus.OPEN
    assert found.evidence == ["same email"]
    assert found.confidence == SAME_EMAIL


def test_it_suggests_the_same_handle_on_two_platforms(slack: Source, github: Source) -> None:
    a = person(slack, "U1", "grace", handle="ghopper")
    b = person(github, "9", "ghopper", handle="GHopper")

    resolve()

    found = suggestion(a, b)
    assert "same handle on GitHub and Slack" in found.evidence
    assert found.confidence >= SAME_HANDLE


def test_it_suggests_names_across_accents_scripts_and_word_order(
    slack: Source, mbox: Source
) -> None:
    jose = person(slack, "U1", "José Núñez")
    jose_list = person(mbox, "jn@example.org", "nunez jose")
    ivan = person(slack, "U2", "Иван Петров")
    ivan_list = person(mbox, "ip@example.org", "Ivan Petrov")
    sato = person(slack, "U3", "さとう けん")
    sato_list = person(mbox, "sk@example.org", "Sato Ken")

    resolve()

    assert suggestion(jose, jose_list).evidence == ["same display name"]
    assert suggestion(jose, jose_list).confidence == SAME_NAME
    assert suggestion(ivan, ivan_list).confidence == SAME_NAME
    # "satou ken" without its long vowel, as romaji usually writes it.
    assert suggestion(sato, sato_list).evidence == ["same display name"]


def test_it_reads_japanese_names_written_in_kanji(slack: Source, mbox: Source) -> None:
    assert japanese_readings("佐藤 健") == ["satou ken", "sato ken"]
    assert japanese_readings("高橋翔太") == ["takahashi shouta", "takahashi shota"]
    assert japanese_readings("José Núñez") == []
    sato = person(slack, "U1", "佐藤健")
    sato_list = person(mbox, "ks@example.org", "Ken Sato")
    yamada = person(slack, "U2", "山田太郎")
    yamada_list = person(mbox, "ty@example.org", "Tarou Yamada")
    # A Chinese name keeps its Mandarin reading too.
    zhang = person(slack, "U3", "张伟明")
    zhang_list = person(mbox, "zw@example.org", "Zhang Weiming")
    other = person(mbox, "x@example.org", "Ken Satoshi")

    resolve()

    assert suggestion(sato, sato_list).evidence == ["same display name"]
    assert suggestion(yamada, yamada_list).confidence == SAME_NAME
    assert suggestion(zhang, zhang_list).evidence == ["same display name"]
    assert not MergeSuggestion.objects.filter(member_b=other).exists()


def test_it_combines_evidence(slack: Source, github: Source, mbox: Source) -> None:
    a = person(slack, "U1", "Grace Hopper", handle="ghopper")
    b = person(github, "9", "Grace Hopper", handle="ghopper")

    resolve()

    found = suggestion(a, b)
    assert found.evidence == ["same handle on GitHub and Slack", "same display name"]
    expected = 1 - (1 - SAME_HANDLE) * (1 - SAME_NAME)
    assert found.confidence == pytest.approx(expected, abs=0.001)


def test_it_matches_a_handle_to_a_display_name(slack: Source, github: Source) -> None:
    a = person(slack, "U1", "José Núñez")
    b = person(github, "9", "josenunez", handle="josenunez")

    resolve()

    assert suggestion(a, b).evidence == ["handle matches name"]


def test_it_never_suggests_bots_or_different_people(slack: Source, mbox: Source) -> None:
    person(slack, "U1", "Deploy Bot", handle="deploy", bot=True)
    person(mbox, "d@example.org", "Deploy Bot", handle="deploy")
    person(slack, "U2", "Ada Lovelace")
    person(mbox, "b@example.org", "Bob Builder")

    resolve()

    assert MergeSuggestion.objects.count() == 0


def test_it_remembers_rejected_suggestions(slack: Source, mbox: Source) -> None:
    a = person(slack, "U1", "Ada Lovelace", email="ada@example.org")
    b = person(mbox, "ada@example.org", "Ada Lovelace", email="ada@example.org")
    resolve()
    do_reject_suggestion(suggestion=suggestion(a, b), actor=None)

    resolve()
    resolve(auto=True)

    assert list(MergeSuggestion.objects.values_list("status", flat=True)) == ["rejected"]
    assert not Member.objects.filter(merged_into__isnull=False).exists()


def test_it_never_merges_again_after_an_unmerge(slack: Source, github: Source) -> None:
    a = person(slack, "U1", "Ada", email="ada@example.org")
    b = person(github, "7", "ada-l", email="ada@example.org")
    resolve(auto=True)
    absorbed = Member.objects.get(merged_into__isnull=False)
    do_unmerge_member(member=absorbed, actor=None, reason="two people")

    resolve(auto=True)

    assert not Member.objects.filter(merged_into__isnull=False).exists()
    assert suggestion(a, b).status == MergeStatus.REJECTED


def test_it_suggests_for_the_absorbing_member_after_a_merge(
    slack: Source, github: Source, mbox: Source
) -> None:
    a = person(slack, "U1", "Ada Lovelace", email="ada@example.org")
    person(github, "7", "ada-l", email="ada@example.org")
    c = person(mbox, "al@example.org", "ada lovelace")

    resolve(auto=True)

    survivor = Member.objects.get(merged_into__isnull=True, identities__source__name="slack")
    assert survivor.id == a.id or Member.objects.get(id=a.id).merged_into_id == survivor.id
    found = MergeSuggestion.objects.get(status=MergeStatus.OPEN)
    assert {found.member_a_id, found.member_b_id} == {survivor.id, c.id}


def test_it_limits_a_pass_to_a_source(slack: Source, github: Source, mbox: Source) -> None:
    person(slack, "U1", "Ada Lovelace")
    person(github, "7", "Ada Lovelace")
    person(mbox, "x@example.org", "Bob Builder")
    person(mbox, "y@example.org", "Bob Builder")

    found = find_candidates(mbox)

    assert len(found) == 1


def test_it_skips_keys_too_common_to_be_evidence(slack: Source, mbox: Source) -> None:
    for n in range(20):
        person(mbox, f"{n}@example.org", "John Smith")

    resolve()

    assert MergeSuggestion.objects.count() == 0


def test_it_resolves_from_the_command(slack: Source, github: Source) -> None:
    person(slack, "U1", "Ada", email="ada@example.org")
    person(github, "7", "ada-l", email="ada@example.org")

    call_command("resolve")
    assert not Member.objects.filter(merged_into__isnull=False).exists()
    call_command("resolve", "--auto")

    assert Member.objects.filter(merged_into__isnull=False).count() == 1


def test_it_resolves_many_members_quickly(slack: Source, github: Source) -> None:
    """10,000 members (the scale script in the report measures 100,000): blocking keeps the
    pass far from comparing every pair."""
    first = ["Ana", "Bo", "Chen", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jun"]
    members = Member.objects.bulk_create(
        Member(display_name=f"{first[n % 10]} Family{n}") for n in range(10_000)
    )
    Identity.objects.bulk_create(
        Identity(
            source=slack if n % 2 else github,
            member=m,
            external_id=str(n),
            handle=f"user{n // 2}",
            display_name=m.display_name,
            email=f"p{n // 2}@example.org" if n % 3 == 0 else "",
        )
        for n, m in enumerate(members)
    )
    started = time.monotonic()

    result = resolve()

    assert time.monotonic() - started < 20
    assert result.suggestions >= 5000  # every pair shares a handle
