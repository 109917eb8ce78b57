"""Analyzer name → dotted path of its class, imported on first use (models load lazily)."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from townsquare.listening.analyzers.base import Analyzer

ANALYZERS: dict[str, str] = {
    "language": "townsquare.listening.analyzers.language.LanguageAnalyzer",
    "sentiment": "townsquare.listening.analyzers.sentiment.SentimentAnalyzer",
    "question": "townsquare.listening.analyzers.question.QuestionAnalyzer",
    "gratitude": "townsquare.listening.analyzers.gratitude.GratitudeAnalyzer",
    "keywords": "townsquare.listening.analyzers.keywords.KeywordAnalyzer",
    "emotion": "townsquare.listening.analyzers.emotion.EmotionAnalyzer",
    "toxicity": "townsquare.listening.analyzers.toxicity.ToxicityAnalyzer",
    "spam": "townsquare.listening.analyzers.spam.SpamAnalyzer",
}


@cache
def get_analyzer(name: str) -> Analyzer:
    try:
        dotted = ANALYZERS[name]
    except KeyError:
        raise KeyError(
            f"unknown analyzer {name!r}; expected one of: {', '.join(ANALYZERS)}"
        ) from None
    module_name, class_name = dotted.rsplit(".", 1)
    cls: type[Analyzer] = getattr(import_module(module_name), class_name)
    return cls()
