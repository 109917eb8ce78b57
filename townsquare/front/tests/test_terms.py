"""Tracked terms: staff add keywords, brands and hashtags; the messages mentioning them are
tagged and listed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from townsquare.community.models import Interaction
from townsquare.connectors.models import ImportRun
from townsquare.front.tests.conftest import ANSWER, QUESTION
from townsquare.listening.models import TermMatch, TrackedTerm

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[Any]]


@pytest.fixture(autouse=True)
def immediate_tasks(settings: Any) -> None:
    """Matching a new term runs at once, in the request, as a worker would run it later."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def track(client: Client, capture: CaptureOnCommit, term: str, kind: str = "keyword") -> Any:
    # The matching task is queued when the transaction commits; tests run inside one.
    with capture(execute=True):
        return client.post(reverse("terms"), {"term": term, "kind": kind})


def test_it_tracks_a_term_and_lists_the_messages_that_mention_it(
    alice_client: Client,
    alice: User,
    labelled: ImportRun,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    response = track(alice_client, django_capture_on_commit_callbacks, "  Meetup ")

    assert response.status_code == 302
    assert response["Location"] == reverse("terms")
    term = TrackedTerm.objects.get()
    assert (term.term, term.kind, term.created_by, term.is_active) == (
        "Meetup",
        "keyword",
        alice,
        True,
    )
    mentioning = {
        Interaction.objects.get(text=QUESTION).pk,
        Interaction.objects.get(text=ANSWER).pk,
    }
    assert set(TermMatch.objects.values_list("interaction_id", flat=True)) == mentioning

    listing = alice_client.get(reverse("terms")).content.decode()
    assert "Now tracking “Meetup”." in listing
    detail = reverse("term", args=[term.pk])
    assert f'<td class="num"><a href="{detail}">2</a></td>' in listing

    page = alice_client.get(detail).content.decode()
    assert page.count('class="timeline-item"') == 2
    assert QUESTION in page and ANSWER in page
    # The messages carry the term as a label, linking back here.
    assert (
        page.count(
            f'<li class="label label-term" title="Tracked keyword"><a href="{detail}">Meetup</a>'
        )
        == 2
    )


def test_it_tags_new_messages_with_a_tracked_term_when_they_are_enriched(
    alice_client: Client,
    labelled: ImportRun,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    track(alice_client, django_capture_on_commit_callbacks, "#houston", "hashtag")
    assert not TermMatch.objects.exists()
    question = Interaction.objects.get(text=QUESTION)
    Interaction.objects.filter(pk=question.pk).update(
        text="Slides of #Houston, anyone?", content_hash="edited"
    )

    from townsquare.listening.pipeline import enrich_pending

    enrich_pending()

    term = TrackedTerm.objects.get(term="#houston")
    assert list(term.matches.values_list("interaction_id", flat=True)) == [question.pk]


def test_it_refuses_a_duplicate_whatever_its_case(
    alice_client: Client,
    labelled: ImportRun,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    track(alice_client, django_capture_on_commit_callbacks, "meetup")

    response = track(alice_client, django_capture_on_commit_callbacks, "MEETUP ")

    assert response.status_code == 400
    assert "“meetup” is already tracked as a keyword." in response.content.decode()
    assert TrackedTerm.objects.count() == 1
    # The same word as another kind is another term.
    assert (
        track(alice_client, django_capture_on_commit_callbacks, "Meetup", "brand").status_code
        == 302
    )


@pytest.mark.parametrize(
    ("term", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("!!!", "A term needs at least one letter or digit."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_it_refuses_an_empty_or_too_long_term(
    alice_client: Client,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    term: str,
    error: str,
) -> None:
    response = track(alice_client, django_capture_on_commit_callbacks, term)
    assert response.status_code == 400
    assert f'<p class="field-error" role="alert">{error}</p>' in response.content.decode()
    assert not TrackedTerm.objects.exists()


def test_it_escapes_a_hostile_term(
    alice_client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'

    track(alice_client, django_capture_on_commit_callbacks, hostile)

    term = TrackedTerm.objects.get()
    for url in (reverse("terms"), reverse("term", args=[term.pk])):
        page = alice_client.get(url).content.decode()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img" in page
        assert "<script>alert" not in page and "<img src=x" not in page


def test_it_pauses_and_resumes_a_term(
    alice_client: Client,
    labelled: ImportRun,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    track(alice_client, django_capture_on_commit_callbacks, "meetup")
    term = TrackedTerm.objects.get()
    url = reverse("term_active", args=[term.pk])

    response = alice_client.post(url, {"active": "0"})

    assert response.status_code == 302
    term.refresh_from_db()
    assert term.is_active is False
    # What it found stays listed while it is paused.
    assert term.matches.count() == 2
    assert ">Resume<" in alice_client.get(reverse("terms")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url, {"active": "1"})
    term.refresh_from_db()
    assert term.is_active is True
    assert term.matches.count() == 2


def test_it_lets_only_staff_manage_terms(
    client: Client, charlie: User, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client.force_login(charlie)
    term = TrackedTerm.objects.create(term="meetup")

    page = client.get(reverse("terms")).content.decode()

    assert "meetup" in page
    assert 'aria-label="Track a term"' not in page and ">Pause<" not in page
    assert track(client, django_capture_on_commit_callbacks, "houston").status_code == 403
    assert client.post(reverse("term_active", args=[term.pk]), {"active": "0"}).status_code == 403
    assert list(TrackedTerm.objects.values_list("term", "is_active")) == [("meetup", True)]


def test_it_checks_csrf_on_terms(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("terms"), {"term": "meetup", "kind": "keyword"}).status_code == 403
    term = TrackedTerm.objects.create(term="houston")
    assert client.post(reverse("term_active", args=[term.pk]), {"active": "0"}).status_code == 403
    assert list(TrackedTerm.objects.values_list("term", "is_active")) == [("houston", True)]


def test_it_pages_through_many_matches(
    alice_client: Client,
    two_workspaces: list[ImportRun],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    track(alice_client, django_capture_on_commit_callbacks, "reply")
    term = TrackedTerm.objects.get()
    assert term.matches.count() == 60

    first = alice_client.get(reverse("term", args=[term.pk])).content.decode()
    second = alice_client.get(reverse("term", args=[term.pk]), {"page": 2}).content.decode()

    assert first.count('class="timeline-item"') == 50
    assert second.count('class="timeline-item"') == 10
    assert "Page 2 of 2" in second
