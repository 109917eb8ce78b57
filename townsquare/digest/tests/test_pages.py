"""The digest pages: who reads them, what they show, and the email choice."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.digest.models import Digest, DigestOptOut
from townsquare.digest.services import do_build_digest
from townsquare.digest.tests.conftest import NOW, WEEK, Community
from townsquare.lib.testing import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def vera(db: None) -> User:
    """A viewer: reads the digest, and chooses whether it comes by email."""
    return make_staff("vera", role="viewer")


@pytest.fixture
def built(two_weeks: Community) -> Digest:
    return do_build_digest(week_start=WEEK, now=NOW)


def _page(client: Client, week: str = "2026-03-09") -> str:
    response = client.get(reverse("digest", kwargs={"week": week}))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_a_digest_to_a_viewer(client: Client, vera: User, built: Digest) -> None:
    client.force_login(vera)
    page = _page(client)
    assert "<h1>Weekly digest, 9–15 March 2026</h1>" in page
    assert '<td class="num">7</td>' in page and "▲ +75 %" in page
    assert '<span class="delta-down">▲ +50 %</span>' in page  # a slower answer is worse
    assert "Volume in #help on 12 Mar 2026" in page
    assert "1 year in the community this week." in page
    care_item = reverse("care_item", args=[built.content["care"]["items"][0]["item_id"]])
    assert f'<a class="care-member" href="{care_item}">bob</a>' in page
    assert "The weekly digest comes to you by email." in page


def test_it_lists_past_digests_newest_first(client: Client, vera: User, built: Digest) -> None:
    Digest.objects.create(week_start=WEEK.replace(day=2), content=built.content, built_at=NOW)
    client.force_login(vera)
    page = client.get(reverse("digest_list")).content.decode()
    assert page.index("Week of 9 Mar 2026") < page.index("Week of 2 Mar 2026")
    assert client.get(reverse("digest_latest"))["Location"] == reverse(
        "digest", args=["2026-03-09"]
    )
    assert "Week of 2 Mar 2026" in _page(client)  # the link to the week before


def test_it_keeps_the_list_to_a_few_queries(
    client: Client, vera: User, built: Digest, django_assert_num_queries: Any
) -> None:
    for day in (2, 16, 23):
        Digest.objects.create(week_start=WEEK.replace(day=day), content={}, built_at=NOW)
    client.force_login(vera)
    # Session, user, role; the count and the page of digests.
    with django_assert_num_queries(5):
        client.get(reverse("digest_list"))


def test_it_says_when_there_is_no_digest_yet(client: Client, vera: User) -> None:
    client.force_login(vera)
    assert client.get(reverse("digest_latest"))["Location"] == reverse("digest_list")
    assert "No digest yet." in client.get(reverse("digest_list")).content.decode()


def test_it_answers_404_for_a_week_without_a_digest(
    client: Client, vera: User, built: Digest
) -> None:
    client.force_login(vera)
    for week in ("2026-03-02", "1", "2026-02-30", "x"):
        assert client.get(reverse("digest", kwargs={"week": week})).status_code == 404


def test_it_lets_anyone_with_a_role_stop_and_resume_the_email(
    client: Client, vera: User, built: Digest
) -> None:
    client.force_login(vera)
    url = reverse("digest_email", kwargs={"week": "2026-03-09"})
    response = client.post(url, {"receive": "no"}, follow=True)
    assert DigestOptOut.objects.filter(user=vera).exists()
    assert "You will no longer get the weekly digest by email." in response.content.decode()
    assert "Email it to me again" in _page(client)
    client.post(url, {"receive": "yes"})
    assert not DigestOptOut.objects.exists()
    assert client.post(url, {"receive": "maybe"}).status_code == 400


def test_it_shows_nothing_to_a_user_without_a_role(client: Client, built: Digest) -> None:
    client.force_login(make_staff("oscar", staff=False))
    url = reverse("digest_email", kwargs={"week": "2026-03-09"})
    assert client.get(reverse("digest", kwargs={"week": "2026-03-09"})).status_code == 403
    assert client.post(url, {"receive": "no"}).status_code == 403
    assert not DigestOptOut.objects.exists()


def test_it_names_members_as_they_are_now(client: Client, vera: User, built: Digest) -> None:
    from townsquare.community.models import Member

    Member.objects.filter(display_name="cleo").update(display_name="Erased member #9")
    client.force_login(vera)
    page = _page(client)
    assert "Erased member #9" in page and ">cleo<" not in page


def test_it_links_the_digest_from_today(client: Client, vera: User) -> None:
    client.force_login(vera)
    page = client.get(reverse("home")).content.decode()
    assert f'<a href="{reverse("digest_latest")}">Last week\'s digest</a>' in page
