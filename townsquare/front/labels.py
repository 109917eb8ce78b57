"""What a message's labels look like on a page: badges built from its Enrichment, the thanks
it gives, the tracked terms it mentions and people's corrections. No queries here: `queries.
attach_labels` fetches everything for a whole page first."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from django.conf import global_settings
from django.urls import reverse
from django.utils.dateformat import format as format_date

from townsquare.listening.analyzers.language import configured_languages
from townsquare.listening.models import (
    CorrectableField,
    Enrichment,
    LabelCorrection,
    SentimentLabel,
    TermMatch,
    Thanks,
)

# Below this probability an emotion is not worth a badge: the model always names one.
STRONG_EMOTION = 0.7
EMOTION_NAMES = {
    "anger": "frustrated",
    "joy": "joyful",
    "optimism": "optimistic",
    "sadness": "sad",
}
# The sentiment a mood needs before its badge is shown. The model learnt from tweets that all
# carry one of its four moods, so it names one for any text ("Can you post the full
# traceback?" reads as anger at 0.85): a neutral message shows no mood.
EMOTION_SENTIMENT = {
    "anger": SentimentLabel.NEGATIVE,
    "sadness": SentimentLabel.NEGATIVE,
    "joy": SentimentLabel.POSITIVE,
    "optimism": SentimentLabel.POSITIVE,
}
# Keywords shown per message: the first few say what it is about; more is noise.
MAX_KEYWORDS = 5


def main_language() -> str:
    """The community's main language: the first configured one (English by default)."""
    return configured_languages()[0]


@cache
def language_names() -> dict[str, str]:
    """Two-letter ISO 639-1 code -> English name, from Django's list of languages."""
    return {code: str(name) for code, name in global_settings.LANGUAGES if len(code) == 2}


def language_name(code: str | None) -> str:
    if not code:
        return "unknown"
    return language_names().get(code, code)


@dataclass(frozen=True)
class CorrectionMark:
    """Who corrected a label, when, and what the analyzers had said."""

    by: str
    at: datetime
    previous: Any
    note: str

    @property
    def title(self) -> str:
        previous = "none" if self.previous is None else _shown(self.previous)
        text = (
            f"Corrected by {self.by or 'someone'} on {format_date(self.at, 'Y-m-d H:i')} UTC;"
            f" automatic value: {previous}"
        )
        return f"{text}. Note: {self.note}" if self.note else text


@dataclass(frozen=True)
class Badge:
    text: str
    kind: str  # a CSS modifier: label-<kind>
    title: str = ""
    url: str = ""
    correction: CorrectionMark | None = None


@dataclass
class MessageLabels:
    """Everything shown about one message's labels, in display order."""

    enrichment: Enrichment | None
    # Of a kind that carries words (pipeline.TEXT_KINDS): only those are ever enriched.
    has_words: bool = True
    badges: list[Badge] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    terms: list[Badge] = field(default_factory=list)
    # Field -> its latest correction (the API lists them; the badges carry them as marks).
    corrections: dict[str, LabelCorrection] = field(default_factory=dict)

    @property
    def analyzed(self) -> bool:
        return self.enrichment is not None and self.enrichment.analyzed

    @property
    def correctable(self) -> bool:
        """A message with words, or one never enriched yet (correcting enriches it first)."""
        if self.enrichment is None:
            return self.has_words
        return self.enrichment.analyzed


def _shown(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value) if value not in (None, "") else "none"


def build_labels(
    enrichment: Enrichment | None,
    thanks: list[Thanks],
    matches: list[TermMatch],
    corrections: dict[str, LabelCorrection],
    *,
    has_words: bool = True,
) -> MessageLabels:
    """The badges of one message. `corrections`: field -> its latest correction; `has_words`:
    whether its kind carries words (a reaction is never enriched)."""
    labels = MessageLabels(enrichment, has_words=has_words, corrections=corrections)
    labels.terms = [
        Badge(
            m.term.term,
            "term",
            f"Tracked {m.term.get_kind_display().lower()}",
            reverse("term", args=[m.term_id]),
        )
        for m in matches
    ]
    if enrichment is None or not enrichment.analyzed:
        return labels

    def mark(name: str) -> CorrectionMark | None:
        if name not in enrichment.corrected:
            return None
        c = corrections.get(name)
        if c is None:
            return CorrectionMark("", enrichment.enriched_at, None, "")
        by = c.corrected_by.get_username() if c.corrected_by is not None else ""
        return CorrectionMark(by, c.created_at, c.previous, c.note)

    badges = labels.badges
    add = badges.append
    e = enrichment

    # Spam and toxicity first: they are what a manager must not miss.
    spam_mark = mark(CorrectableField.IS_SPAM)
    if e.is_spam:
        add(Badge("spam", "spam", f"Spam score {e.spam:.2f}", correction=spam_mark))
    elif spam_mark:
        add(Badge("not spam", "cleared", f"Spam score {e.spam:.2f}", correction=spam_mark))
    toxic_mark = mark(CorrectableField.IS_TOXIC)
    if e.is_toxic:
        add(Badge("toxic", "toxic", f"Toxicity score {e.toxicity:.2f}", correction=toxic_mark))
    elif toxic_mark:
        add(
            Badge("not toxic", "cleared", f"Toxicity score {e.toxicity:.2f}", correction=toxic_mark)
        )

    sentiment_mark = mark(CorrectableField.SENTIMENT_LABEL)
    compound = "" if e.sentiment is None else f"compound {e.sentiment:+.2f} on -1..1"
    if e.sentiment_label == SentimentLabel.UNSUPPORTED:
        add(
            Badge(
                f"sentiment n/a ({e.language or '?'})",
                "unsupported",
                f"Sentiment cannot be judged in {language_name(e.language)} yet",
                correction=sentiment_mark,
            )
        )
    elif e.sentiment_label in (SentimentLabel.NEGATIVE, SentimentLabel.POSITIVE) or (
        sentiment_mark and e.sentiment_label
    ):
        add(
            Badge(
                str(e.sentiment_label),
                str(e.sentiment_label),
                f"Sentiment: {compound}" if compound else "Sentiment",
                correction=sentiment_mark,
            )
        )

    question_mark = mark(CorrectableField.IS_QUESTION)
    if e.is_question:
        title = f"Question score {e.question_score:.2f}"
        add(Badge("question", "question", title, correction=question_mark))
    elif question_mark:
        add(Badge("not a question", "cleared", correction=question_mark))

    if thanks:
        for t in thanks:
            name = t.to_member.display_name or "someone"
            add(Badge(f"thanked @{name}", "gratitude", "Gratitude", t.to_member.get_absolute_url()))
    elif e.is_gratitude:
        add(Badge("thanks", "gratitude", "Gratitude, to nobody identified"))

    emotion_mark = mark(CorrectableField.EMOTION)
    score = float((e.emotion_scores or {}).get(e.emotion, 0.0) or 0.0)
    # The emotion model learnt English tweets: where sentiment cannot judge the language,
    # its emotion is a guess, not shown unless a person set it.
    judged = e.sentiment_label != SentimentLabel.UNSUPPORTED
    felt = judged and e.sentiment_label == EMOTION_SENTIMENT.get(e.emotion)
    if e.emotion in EMOTION_NAMES and ((felt and score >= STRONG_EMOTION) or emotion_mark):
        add(
            Badge(
                EMOTION_NAMES[e.emotion],
                f"emotion-{e.emotion}",
                f"Emotion: {e.emotion} ({score:.2f})",
                correction=emotion_mark,
            )
        )

    language_mark = mark(CorrectableField.LANGUAGE)
    if e.language:
        main = e.language == main_language()
        title = f"{language_name(e.language)}, confidence {e.language_confidence:.2f}"
        add(Badge(e.language, "language-main" if main else "language", title, "", language_mark))

    labels.keywords = [str(k) for k in (e.keywords or [])[:MAX_KEYWORDS]]
    return labels
