"""Spam score and flag: community spam ("check out my channel", "subscribe", links, prizes).

A logistic regression over tf-idf weighted hashed byte n-grams (v5; markup such as HTML
entities and a byte-order mark stripped first), trained on YouTube comment spam and SMS spam,
with ordinary tweets and genuine community messages (Stack Exchange, Slack) as not-spam so that
sharing a link is not taken for spam; a link counts by where it points (the words of its
address), not by being there. See trained/spam.json for the data, the held-out figures (incl.
the flag rate on community text never trained on) and the decision threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from townsquare.listening.analyzers.base import Analyzer, TextItem
from townsquare.listening.analyzers.classifier import binary_results, shipped_model


class SpamAnalyzer(Analyzer):
    name: ClassVar[str] = "spam"
    version: ClassVar[str] = "5"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        return binary_results(shipped_model(self.name), items)
