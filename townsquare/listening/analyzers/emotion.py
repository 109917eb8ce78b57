"""Emotion: anger (which covers frustration), joy, optimism, sadness — and gratitude.

The four moods come from a one-vs-rest logistic regression over hashed byte n-grams trained on
the SemEval-2018 tweets of TweetEval "emotion" (trained/emotion.json has the figures). We train
our own because the usual emotion lexicon, NRC EmoLex, may not be used commercially.

Gratitude is not in that data set; a thanks expression is so formulaic that a small multilingual
word list finds it more reliably than a model could learn it. Its score is 1.0 or 0.0 (a rule,
not a probability), and it wins the label unless the model is confident the text is angry:
"thanks for nothing, broken again" stays anger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from townsquare.listening.analyzers.base import Analyzer, TextItem
from townsquare.listening.analyzers.classifier import language_supported, shipped_model

GRATITUDE = "gratitude"
# Above this anger probability a thanks is read as sarcasm or politeness around a complaint.
ANGER_OVER_THANKS = 0.6

# Lower case, matched against the lower-cased text (three times faster than re.IGNORECASE).
_THANKS = re.compile(
    r"\b(?:thanks?|thank\s*(?:you|u|ya|yall|y'all)|thx|thnx|tnx|tysm|tyvm|ty|"
    r"appreciated?|appreciating|grateful|gratitude|kudos|"
    r"gracias|agradecid[oa]|merci|remercie|danke|dankesch[öo]n|vielen\s+dank|"
    r"obrigad[oa]|grazie|bedankt|dank\s+je|dank\s+u|dankjewel|tack\s+så|tusen\s+takk|mange\s+tak|kiitos|"
    r"dzi[eę]kuj[eę]|dzięki|teşekkür(?:ler)?|sa[gğ]ol|terima\s+kasih|makasih|"
    r"c[aả]m\s+[oơ]n|спасибо|благодарю|дякую)\b"
    r"|ありがとう|谢谢|謝謝|多谢|감사|고마워|고맙습니다|شكرا|شكراً|متشکرم|ممنون|धन्यवाद|शुक्रिया|תודה",
)


def thanks_in(text: str) -> bool:
    return _THANKS.search(text.lower()) is not None


class EmotionAnalyzer(Analyzer):
    name: ClassVar[str] = "emotion"
    version: ClassVar[str] = "1"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        model = shipped_model(self.name)
        probabilities = model.probabilities([item.text for item in items])
        anger = model.labels.index("anger")
        results: list[dict[str, Any]] = []
        for item, row in zip(items, probabilities, strict=True):
            scores = {label: round(float(p), 4) for label, p in zip(model.labels, row, strict=True)}
            thanked = thanks_in(item.text)
            scores[GRATITUDE] = 1.0 if thanked else 0.0
            if thanked and row[anger] < ANGER_OVER_THANKS:
                label = GRATITUDE
            else:
                label = model.labels[int(row.argmax())]
            results.append(
                {"label": label, "scores": scores, "language_supported": language_supported(item)}
            )
        return results
