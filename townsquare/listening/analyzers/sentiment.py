"""Sentiment of English texts with VADER (MIT; its lexicon ships in the package).

VADER only knows English: any other language gets compound None and the label "unsupported",
never a neutral it did not judge. A text of unknown language is judged only if it is written in
Latin script (short English messages like "lol ok" often come back with no language).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

from townsquare.listening.analyzers.base import UNSUPPORTED, Analyzer, TextItem

# Label thresholds on the compound score. VADER's published ±0.05 calls almost every message
# with a mildly positive word positive; in community text those words are mostly politeness
# ("please", "thanks", "like", "good morning") in messages people read as neutral, while mild
# negative words are rarer and do signal a complaint. So the positive side is wider. These two
# numbers are the only tuned parameters (checked on TweetEval sentiment val: docs/evaluation.md).
POSITIVE_FROM = 0.3
NEGATIVE_TO = -0.05

_NOISE = re.compile(
    r"```.*?```|`[^`\n]*`"  # code: never sentiment
    r"|<[@#!][^>\s]*>"  # Slack/Discord mentions and channels
    r"|\b(?:https?://|www\.)\S+",  # URLs: "http://url_removed" must not count as words
    re.DOTALL,
)


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import (
        SentimentIntensityAnalyzer,
    )

    analyzer = SentimentIntensityAnalyzer()
    # The lexicon file lists a few emoticons twice: first in the emoticon section, then again
    # lower-cased among the words with a different score ("d:" -2.9 then +1.2), and the later
    # line wins when VADER builds its dict; "D:" (dismay) then reads as happy. Keep the first.
    first: dict[str, float] = {}
    for line in analyzer.lexicon_full_filepath.splitlines():
        token, _, rest = line.partition("\t")
        if token and not token.isalpha() and token not in first:
            first[token] = float(rest.split("\t", 1)[0])
    analyzer.lexicon.update(first)
    return analyzer


def label_for(compound: float) -> str:
    if compound >= POSITIVE_FROM:
        return "positive"
    if compound <= NEGATIVE_TO:
        return "negative"
    return "neutral"


def is_supported(item: TextItem) -> bool:
    if item.language is not None:
        return item.language == "en"
    letters = [ch for ch in item.text if ch.isalpha()]
    # Latin letters are below U+0250; a text of unknown language mostly in another script is
    # not English.
    latin = sum(1 for ch in letters if ord(ch) < 0x250)
    return not letters or latin >= 0.8 * len(letters)


class SentimentAnalyzer(Analyzer):
    name: ClassVar[str] = "sentiment"
    version: ClassVar[str] = "1"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        vader = _vader()
        results: list[dict[str, Any]] = []
        for item in items:
            if not is_supported(item):
                results.append({"compound": None, "label": UNSUPPORTED})
                continue
            text = _NOISE.sub(" ", html.unescape(item.text))
            compound = float(vader.polarity_scores(text)["compound"])
            results.append({"compound": compound, "label": label_for(compound)})
        return results
