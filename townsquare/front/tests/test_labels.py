"""Labels on every message, and staff correcting them through the pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.community.models import Conversation, Interaction, Member
from townsquare.connectors.models import ImportRun
from townsquare.connectors.slack.tests.export import write_slack_export
from townsquare.front.labels import build_labels
from townsquare.front.tests.conftest import ANSWER, FRENCH, NEGATIVE, QUESTION, SPAM, THANKS
from townsquare.lib.testing import import_export
from townsquare.listening.models import Enrichment, LabelCorrection
from townsquare.listening.pipeline import enrich_pending

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def message(text: str) -> Interaction:
    return Interaction.objects.select_related("conversation").get(text=text)


def enrichment(text: str) -> Enrichment:
    return Enrichment.objects.get(interaction__text=text)


def page_of(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def labels_of(page: str, item: Interaction) -> str:
    """The labels block of one message on a page."""
    start = page.index(f'id="labels-{item.pk}"')
    return page[start : page.index("</ul>", start)]


def conversation_page(client: Client, text: str) -> tuple[Interaction, str]:
    item = message(text)
    assert item.conversation is not None
    return item, page_of(client, item.conversation.get_absolute_url())


def current_form(item: Interaction, **changes: str) -> dict[str, str]:
    """The correction form as the page prefills it, with some fields changed."""
    e = Enrichment.objects.get(interaction=item)
    values = {
        "sentiment": e.sentiment_label if e.sentiment_label != "unsupported" else "",
        "toxic": "yes" if e.is_toxic else "no",
        "spam": "yes" if e.is_spam else "no",
        "question": "yes" if e.is_question else "no",
        "language": e.language or "",
        "note": "",
    }
    values.update(changes)
    return {f"c{item.pk}-{name}": value for name, value in values.items()}


def correct(client: Client, item: Interaction, *, next: str = "", **changes: str) -> Any:
    data = current_form(item, **changes)
    if next:
        data["next"] = next
    return client.post(reverse("correct_labels", args=[item.pk]), data)


def test_it_shows_the_labels_of_every_message_on_the_conversation_page(
    alice_client: Client, labelled: ImportRun
) -> None:
    question, page = conversation_page(alice_client, QUESTION)
    asked = labels_of(page, question)
    assert 'class="label label-question"' in asked
    # The community's main language is shown too, but quietly.
    assert 'class="label label-language-main"' in asked
    assert '<li class="label label-keyword" title="Keyword">slides</li>' in asked

    thanked = labels_of(page, message(THANKS))
    bob = Member.objects.get(display_name="Bob Builder")
    assert f'<a href="{bob.get_absolute_url()}">thanked @Bob Builder</a>' in thanked
    assert "label-question" not in labels_of(page, message(ANSWER))

    angry, page = conversation_page(alice_client, NEGATIVE)
    labels = labels_of(page, angry)
    assert re.search(r'class="label label-negative" title="Sentiment: compound -0\.\d\d', labels)
    assert '"label label-emotion-anger"' in labels and ">frustrated<" in labels

    french, page = conversation_page(alice_client, FRENCH)
    labels = labels_of(page, french)
    # Honest: the sentiment analyzer cannot judge French, and says so instead of "neutral".
    assert ">sentiment n/a (fr)<" in labels
    assert 'class="label label-language" title="French, confidence' in labels
    assert "label-neutral" not in labels and "label-emotion" not in labels

    spam, page = conversation_page(alice_client, SPAM)
    assert 'class="label label-spam" title="Spam score 0.' in labels_of(page, spam)


def test_it_shows_the_labels_on_the_member_timeline(
    alice_client: Client, labelled: ImportRun
) -> None:
    chloe = Member.objects.get(display_name="Chloé Martin")
    page = page_of(alice_client, chloe.get_absolute_url())
    assert "label-negative" in labels_of(page, message(NEGATIVE))
    assert ">sentiment n/a (fr)<" in labels_of(page, message(FRENCH))
    assert page.count("<summary>Correct labels</summary>") == 2


def test_it_corrects_a_label_through_the_form(
    alice_client: Client, alice: User, labelled: ImportRun
) -> None:
    angry = message(NEGATIVE)
    url = angry.conversation.get_absolute_url() if angry.conversation else ""

    response = correct(alice_client, angry, sentiment="positive", note="sarcasm", next=url)

    assert response.status_code == 302
    assert response["Location"] == f"{url}#i{angry.pk}"
    # Only the field that changed is a correction.
    correction = LabelCorrection.objects.get()
    assert (correction.field, correction.value, correction.previous) == (
        "sentiment_label",
        "positive",
        "negative",
    )
    assert (correction.corrected_by, correction.note) == (alice, "sarcasm")
    assert enrichment(NEGATIVE).sentiment_label == "positive"

    page = page_of(alice_client, url)
    labels = labels_of(page, angry)
    assert 'class="label label-positive"' in labels
    assert ">corrected by alice</span>" in labels
    assert "automatic value: negative. Note: sarcasm" in labels
    assert "Saved 1 correction." in page

    # A rebuild of every enrichment keeps the person's label.
    enrich_pending(rebuild=True)
    assert enrichment(NEGATIVE).sentiment_label == "positive"
    assert ">corrected by alice</span>" in labels_of(page_of(alice_client, url), angry)


def test_it_shows_a_cleared_flag_as_a_corrected_label(
    alice_client: Client, labelled: ImportRun
) -> None:
    spam = message(SPAM)

    correct(alice_client, spam, spam="no", question="yes")

    assert enrichment(SPAM).is_spam is False
    assert sorted(LabelCorrection.objects.values_list("field", "value")) == [
        ("is_question", True),
        ("is_spam", False),
    ]
    _, page = conversation_page(alice_client, SPAM)
    labels = labels_of(page, spam)
    assert "label-spam" not in labels
    assert re.search(
        r">not spam <span class=\"label-corrected\" title=\"[^\"]*automatic value: yes", labels
    )


def test_it_corrects_the_language_and_analyzes_the_message_again(
    alice_client: Client, labelled: ImportRun
) -> None:
    french = message(FRENCH)
    assert enrichment(FRENCH).sentiment_label == "unsupported"

    correct(alice_client, french, language="en")

    row = enrichment(FRENCH)
    assert (row.language, row.corrected) == ("en", ["language"])
    assert row.sentiment_label != "unsupported"
    _, page = conversation_page(alice_client, FRENCH)
    assert ">corrected by alice</span>" in labels_of(page, french)


def test_it_gives_htmx_the_form_then_the_updated_labels(
    alice_client: Client, labelled: ImportRun
) -> None:
    question = message(QUESTION)
    url = reverse("correct_labels", args=[question.pk])

    form = alice_client.get(url, {"next": "/members/"}, headers=HTMX).content.decode()
    assert form.startswith('<form class="correct-form"')
    assert "csrfmiddlewaretoken" in form
    assert f'hx-target="#labels-{question.pk}"' in form
    assert '<option value="en" selected>English (en)</option>' in form
    assert '<input type="hidden" name="next" value="/members/">' in form

    response = alice_client.post(url, current_form(question, question="no"), headers=HTMX)

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.startswith(f'<div class="labels" id="labels-{question.pk}">')
    assert ">not a question <span" in fragment
    assert "Saved 1 correction." in fragment
    assert enrichment(QUESTION).is_question is False


def test_it_shows_the_form_on_its_own_page_without_javascript(
    alice_client: Client, labelled: ImportRun
) -> None:
    question = message(QUESTION)
    page = page_of(alice_client, reverse("correct_labels", args=[question.pk]))
    assert "<h1>Correct labels</h1>" in page
    assert '<details class="correct-labels" open>' in page
    assert f'name="c{question.pk}-sentiment"' in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("sentiment", "ecstatic"), ("spam", "perhaps"), ("language", "english"), ("toxic", "")],
)
def test_it_shows_an_invalid_value_in_the_form(
    alice_client: Client, labelled: ImportRun, field: str, value: str
) -> None:
    question = message(QUESTION)

    response = correct(alice_client, question, **{field: value})

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(
        r'<p class="field-error" role="alert">(Select a valid choice|This field)', page
    )
    assert not LabelCorrection.objects.exists()
    assert enrichment(QUESTION).corrected == []
    # htmx swaps only successful answers: it gets the form with its errors and a 200.
    response = alice_client.post(
        reverse("correct_labels", args=[question.pk]),
        current_form(question, **{field: value}),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert '<details class="correct-labels" open>' in response.content.decode()


def test_it_saves_nothing_when_nothing_changed(alice_client: Client, labelled: ImportRun) -> None:
    response = correct(alice_client, message(QUESTION))
    assert response.status_code == 302
    assert not LabelCorrection.objects.exists()


def test_it_ignores_a_next_that_leaves_the_site(alice_client: Client, labelled: ImportRun) -> None:
    question = message(QUESTION)
    for outside in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = correct(alice_client, question, question="no", next=outside)
        conversation = question.conversation
        assert conversation is not None
        assert response["Location"] == f"{conversation.get_absolute_url()}#i{question.pk}"


def test_it_checks_csrf_on_corrections(alice: User, labelled: ImportRun) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    negative = message(NEGATIVE)
    response = client.post(
        reverse("correct_labels", args=[negative.pk]), current_form(negative, sentiment="neutral")
    )
    assert response.status_code == 403
    assert not LabelCorrection.objects.exists()


def test_it_sends_anonymous_corrections_to_login(client: Client, labelled: ImportRun) -> None:
    negative = message(NEGATIVE)
    url = reverse("correct_labels", args=[negative.pk])
    response = client.post(url, current_form(negative, sentiment="neutral"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert not LabelCorrection.objects.exists()


def test_it_lets_only_staff_correct_labels(
    client: Client, charlie: User, labelled: ImportRun
) -> None:
    client.force_login(charlie)
    negative = message(NEGATIVE)
    _, page = conversation_page(client, NEGATIVE)
    # Charlie sees the labels, not the form.
    assert "label-negative" in labels_of(page, negative)
    assert "Correct labels" not in page

    response = correct(client, negative, sentiment="neutral")

    assert response.status_code == 403
    assert not LabelCorrection.objects.exists()


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("negative", [NEGATIVE]),
        ("question", [QUESTION]),
        ("spam", [SPAM]),
        ("gratitude", [QUESTION]),  # the thanks is a reply in the question's thread
        ("", [QUESTION, NEGATIVE, FRENCH, SPAM]),
        ("nonsense", [QUESTION, NEGATIVE, FRENCH, SPAM]),
    ],
)
def test_it_filters_conversations_by_label(
    alice_client: Client, labelled: ImportRun, label: str, expected: list[str]
) -> None:
    page = page_of(alice_client, reverse("conversations") + f"?label={label}")
    shown = re.findall(r'<a href="/conversations/(\d+)/">', page)
    wanted = [message(text).conversation_id or 0 for text in expected]
    assert sorted(int(pk) for pk in shown) == sorted(wanted)


def test_it_offers_the_label_filter(alice_client: Client, labelled: ImportRun) -> None:
    page = page_of(alice_client, reverse("conversations") + "?label=toxic")
    assert '<option value="toxic" selected>Toxic messages</option>' in page
    conversations = Conversation.objects.filter(interactions__enrichment__is_toxic=True).distinct()
    assert page.count('<th scope="row"') == conversations.count()


@pytest.mark.django_db
def test_it_shows_what_a_member_is_interested_in(alice_client: Client, tmp_path: Path) -> None:
    texts = [
        "The legend overlaps the axis labels again",
        "Moving the legend outside fixed the axis labels",
        "Legend colours follow the palette now",
        "Coffee at the meetup was great",
    ]
    root = write_slack_export(
        tmp_path / "topics",
        {
            "general": [
                {"type": "message", "user": "U1", "text": t, "ts": f"{1_700_000_000 + i * 60}.0001"}
                for i, t in enumerate(texts)
            ]
        },
    )
    import_export("slack", root, source="topics")
    enrich_pending()
    member = Member.objects.get(identities__external_id="U1", identities__source__name="topics")
    page = alice_client.get(reverse("member", args=[member.pk])).content.decode()
    assert 'id="interests-title"' in page
    interests = page.split('id="interests-title"', 1)[1].split('id="expertise-title"', 1)[0]
    assert "axis labels" in interests
    # A word used once is not a topic.
    assert "coffee" not in interests


@pytest.mark.parametrize(
    ("emotion", "sentiment", "shown"),
    [
        ("anger", "negative", "frustrated"),
        ("anger", "neutral", None),  # "Can you post the full traceback?": no mood
        ("anger", "positive", None),
        ("sadness", "negative", "sad"),
        ("joy", "positive", "joyful"),
        ("optimism", "neutral", None),
        ("joy", "negative", None),
    ],
)
def test_it_shows_a_mood_only_where_the_sentiment_carries_one(
    emotion: str, sentiment: str, shown: str | None
) -> None:
    enrichment = Enrichment(
        analyzed=True,
        sentiment_label=sentiment,
        sentiment=-0.5 if sentiment == "negative" else 0.5 if sentiment == "positive" else 0.0,
        emotion=emotion,
        emotion_scores={emotion: 0.85},
        enriched_at=timezone.now(),
    )
    moods = [
        b.text for b in build_labels(enrichment, [], [], {}).badges if b.kind.startswith("emotion")
    ]
    assert moods == ([shown] if shown else [])
