"""Toxicity score and flag: insults, threats, profanity aimed at someone.

A logistic regression over tf-idf weighted hashed byte n-grams (v4, like spam v5; markup
stripped first) trained on the OffensEval 2019 tweets of
TweetEval ("offensive") plus genuine community messages (Stack Exchange, Slack) and everyday
chat (the not-spam SMS and YouTube comments) as not-offensive at small weights, so that ordinary
technical talk, short questions and complaints about software are flagged less; its flag
threshold was chosen on a split of the training data, never on the evaluation split (see
trained/toxicity.json). OffensEval counts profanity and words like "stupid" as
offensive whoever they aim at, so the score ranks; it does not prove abuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from townsquare.listening.analyzers.base import Analyzer, TextItem
from townsquare.listening.analyzers.classifier import binary_results, shipped_model


class ToxicityAnalyzer(Analyzer):
    name: ClassVar[str] = "toxicity"
    version: ClassVar[str] = "4"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        return binary_results(shipped_model(self.name), items)
