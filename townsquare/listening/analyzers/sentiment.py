"""Sentiment of English texts: VADER's compound (MIT; its lexicon ships in the package) and a
three-way label from the trained `SentimentModel` (VADER's four scores + hashed byte n-grams,
trained/sentiment.npz, built by `make models`). Texts under MODEL_FROM_WORDS words, shorter than
almost all the tweets it learned from, keep the label of thresholds on the compound.

The compound is VADER's intensity and the label the model's class: they can disagree (a polite
complaint: negative with a positive compound). Counts and shares read the label, means read the
compound; neither assumes the other.

VADER only knows English: a text the language analyzer is confident is in another language gets
compound None and the label "unsupported", never a neutral it did not judge. Short texts are
where the language step guesses most ("Yay!" came back Turkish), so an unsure guess does not
make a text unsupported when it carries English sentiment words or emoticons. Figures, method
and limits: docs/evaluation.md.
"""

from __future__ import annotations

import dataclasses
import html
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from townsquare.listening.analyzers.base import UNSUPPORTED, Analyzer, TextItem
from townsquare.listening.analyzers.classifier import LinearTextModel, shipped_path

# Label thresholds on the compound score: the label of analyzer version 2, kept as the baseline
# the trained label model is measured against (training.py, docs/evaluation.md). VADER's
# published ±0.05 calls almost every message with a mildly positive word positive; in community
# text those words are mostly politeness ("please", "thanks", "like") in messages people read as
# neutral, while mild negative words are rarer and do signal a complaint.
POSITIVE_FROM = 0.3
NEGATIVE_TO = -0.05

# A language guess at or above this confidence makes a text unsupported even if it contains
# words VADER knows. 0.9 is where the language analyzer itself stops calling py3langid unsure
# (language.FALLBACK_BELOW); below it, the guess alone is not enough to refuse a text.
CONFIDENT_LANGUAGE = 0.9

# The label model learned from tweets, 99% of them of 7 words or more (TweetEval sentiment val:
# 1st percentile 7, median 19); a shorter text ("ok", "what's slack?", "Notre Dame") lies outside
# what it saw, and on chat messages it called such texts negative from their style alone. Below
# this many words the label comes from the compound thresholds (docs/evaluation.md).
MODEL_FROM_WORDS = 7

LABELS = ("negative", "neutral", "positive")
OR_NOR = ("or", "nor")
# VADER's four scores, in the order the model's dense weights use them.
VADER_FEATURES = ("neg", "neu", "pos", "compound")

_NOISE = re.compile(
    r"```.*?```|`[^`\n]*`"  # code: never sentiment
    r"|<[@#!][^>\s]*>"  # Slack/Discord mentions and channels
    r"|\b(?:https?://|www\.)\S+",  # URLs: "http://url_removed" must not count as words
    re.DOTALL,
)
# A word with a letter written three or more times in a row ("yayyyy", "LAAAME").
_ELONGATED = re.compile(r"\b\w*([^\W\d_])\1\1\w*\b")
_RUN = re.compile(r"([^\W\d_])\1{2,}")
_WORD = re.compile(r"[^\W\d_]{2,}|\S*[:;=]\S*")
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
# Lexicon entries that are everyday words of other languages ("no" es/it/pt, "die"/"war" de,
# "me" es/fr...): their presence is no evidence that a text is English.
_NOT_EVIDENCE = frozenset(
    {"no", "die", "war", "me", "la", "mal", "son", "fine", "fin", "con", "ha", "hah", "ja"}
)


def _first_emoticon_ratings(lexicon_text: str) -> dict[str, float]:
    # The lexicon file lists a few emoticons twice: first in the emoticon section, then again
    # lower-cased among the words with a different score ("d:" -2.9 then +1.2), and the later
    # line wins when VADER builds its dict; "D:" (dismay) then reads as happy. Keep the first.
    first: dict[str, float] = {}
    for line in lexicon_text.splitlines():
        token, _, rest = line.partition("\t")
        if token and not token.isalpha() and token not in first:
            first[token] = float(rest.split("\t", 1)[0])
    return first


@cache
def _vader() -> Any:
    from vaderSentiment import vaderSentiment as vs

    class Vader(vs.SentimentIntensityAnalyzer):  # type: ignore[misc]
        """vaderSentiment 3.3.2 with three corrections of its rules (each a bug against VADER's
        own description, measured in docs/evaluation.md)."""

        def polarity_scores(self, text: str) -> dict[str, float]:
            if not text.isascii():
                # VADER's emoji step walks the text one character at a time: only when needed.
                text = self._describe_emojis(text)
            sentitext = vs.SentiText(text)
            # 1. "ok!", "no." and "hi," kept their punctuation (VADER only strips it from
            # tokens longer than two characters, to spare emoticons), so were not found.
            sentitext.words_and_emoticons = [_strip_word(token) for token in text.split()]
            sentitext.is_cap_diff = vs.allcap_differential(sentitext.words_and_emoticons)
            words = sentitext.words_and_emoticons
            sentiments: list[float] = []
            for i, item in enumerate(words):
                lower = item.lower()
                if lower in vs.BOOSTER_DICT or (
                    lower == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of"
                ):
                    sentiments.append(0)
                    continue
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
            sentiments = self._but_check(words, sentiments)
            return dict(self.score_valence(sentiments, text))

        def _describe_emojis(self, text: str) -> str:
            # As in VADER's polarity_scores: each emoji becomes its description ("smiling
            # face"), which the lexicon then rates.
            out: list[str] = []
            prev_space = True
            for ch in text:
                description = self.emojis.get(ch)
                if description is None:
                    out.append(ch)
                    prev_space = ch == " "
                    continue
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            return "".join(out).strip()

        def sentiment_valence(
            self, valence: float, sentitext: Any, item: str, i: int, sentiments: list[float]
        ) -> list[float]:
            words = sentitext.words_and_emoticons
            is_cap_diff = sentitext.is_cap_diff
            lower = item.lower()
            if lower not in self.lexicon:
                sentiments.append(valence)
                return sentiments
            valence = self.lexicon[lower]
            # 2. "no" negates the sentiment word after it, but a repeated "no" is emphasis, not
            # a double negation: 3.3.2 scored "NO NO NO NO" as positive.
            after = words[i + 1].lower() if i < len(words) - 1 else ""
            if lower == "no":
                if after in self.lexicon and after != "no":
                    valence = 0.0
            elif (
                (i > 0 and words[i - 1].lower() == "no")
                or (i > 1 and words[i - 2].lower() == "no")
                or (i > 2 and words[i - 3].lower() == "no" and words[i - 1].lower() in OR_NOR)
            ):  # fmt: skip
                valence = self.lexicon[lower] * vs.N_SCALAR
            if item.isupper() and is_cap_diff:
                valence = valence + vs.C_INCR if valence > 0 else valence - vs.C_INCR
            for start_i in range(3):
                if i <= start_i:
                    break
                before = words[i - (start_i + 1)]
                # 3. A negation or booster stops at the previous sentiment word: in
                # "don't care don't care" the first "don't" negated the second "care" too,
                # so it came out positive.
                if before.lower() in self.lexicon:
                    break
                s = vs.scalar_inc_dec(before, valence, is_cap_diff)
                if start_i == 1 and s != 0:
                    s *= 0.95
                if start_i == 2 and s != 0:
                    s *= 0.9
                valence = self._negation_check(valence + s, words, start_i, i)
                if start_i == 2:
                    valence = self._special_idioms_check(valence, words, i)
            sentiments.append(self._least_check(valence, words, i))
            return sentiments

    analyzer = Vader()
    analyzer.lexicon.update(_first_emoticon_ratings(analyzer.lexicon_full_filepath))
    return analyzer


def _strip_word(token: str) -> str:
    stripped = token.strip(string.punctuation)
    if len(stripped) > 2 or (len(stripped) == 2 and stripped.isalpha()):
        return stripped
    return token  # an emoticon, e.g. ":)" or ":D", or a one-letter word


def prepare(text: str) -> str:
    """The text VADER reads: entities unescaped ("&lt;3" is a heart), code, mentions and links
    removed, and elongated words ("yayyyy", "LAAAME") spelled as the lexicon knows them."""
    text = _NOISE.sub(" ", html.unescape(text))
    if _RUN.search(text):
        lexicon = _vader().lexicon
        text = _ELONGATED.sub(lambda m: _known_spelling(m.group(0), lexicon), text)
    return text


def _known_spelling(word: str, lexicon: dict[str, float]) -> str:
    if word.lower() in lexicon:
        return word
    for replacement in (r"\1\1", r"\1"):  # "coool" -> "cool", "yayyy" -> "yay"
        shorter = _RUN.sub(replacement, word)
        if shorter.lower() in lexicon:
            return shorter
    return word


def vader_scores(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """(n, 4): VADER's neg, neu, pos and compound for each (already prepared) text."""
    vader = _vader()
    out = np.empty((len(texts), len(VADER_FEATURES)))
    for row, text in enumerate(texts):
        scores = vader.polarity_scores(text)
        out[row] = [scores[name] for name in VADER_FEATURES]
    return out


def label_for(compound: float) -> str:
    """The compound-threshold label (analyzer version 2): the trained model's baseline."""
    if compound >= POSITIVE_FROM:
        return "positive"
    if compound <= NEGATIVE_TO:
        return "negative"
    return "neutral"


def has_english_evidence(text: str) -> bool:
    """Whether the text holds a word or emoticon VADER knows that is not also an everyday word
    of another language."""
    lexicon = _vader().lexicon
    for token in _WORD.findall(text):
        lower = _strip_word(token).lower()
        if lower in lexicon and lower not in _NOT_EVIDENCE:
            return True
    return False


def is_supported(item: TextItem) -> bool:
    if item.language == "en":
        return True
    if item.language is None:
        letters = [ch for ch in item.text if ch.isalpha()]
        # Latin letters are below U+0250; a text of unknown language mostly in another script
        # is not English.
        latin = sum(1 for ch in letters if ord(ch) < 0x250)
        return not letters or latin >= 0.8 * len(letters)
    # Another language. Without a confidence (e.g. a person set the language) it is taken as
    # given; an unsure guess is overruled by English sentiment words.
    confidence = item.language_confidence
    if confidence is None or confidence >= CONFIDENT_LANGUAGE:
        return False
    return has_english_evidence(_NOISE.sub(" ", html.unescape(item.text)))


@dataclass(frozen=True)
class SentimentModel:
    """The label model: a linear score per label over hashed byte n-grams (a LinearTextModel,
    as in classifier.py) plus VADER's four scores; the label is the best-scoring one.

    Trained by `townsquare.listening.training` in two stages that fold into these weights: an
    n-gram model on all the labelled tweets, then a small multinomial logistic regression of
    TweetEval's labels on VADER's scores and the n-gram model's scores (docs/evaluation.md).
    """

    text: LinearTextModel  # (2**bits, k) n-gram weights and the k intercepts
    dense_weights: npt.NDArray[np.float64]  # (len(dense_features), k)
    dense_features: tuple[str, ...] = VADER_FEATURES  # which of VADER's scores, in that order

    @property
    def labels(self) -> tuple[str, ...]:
        return self.text.labels

    @property
    def meta(self) -> dict[str, Any]:
        return self.text.meta

    def decision(
        self, texts: Sequence[str], vader: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """(n, k) label scores of (prepared) texts with their VADER scores (vader_scores)."""
        columns = [VADER_FEATURES.index(name) for name in self.dense_features]
        dense: npt.NDArray[np.float64] = vader[:, columns] @ self.dense_weights
        return self.text.decision(texts) + dense

    def predict(self, texts: Sequence[str], vader: npt.NDArray[np.float64]) -> list[str]:
        best = self.decision(texts, vader).argmax(axis=1)
        return [self.labels[int(i)] for i in best]

    def save(self, path: Path) -> None:
        """As the other shipped models (LinearTextModel.save), the dense weights beside."""
        meta = {**self.meta, "dense_features": list(self.dense_features)}
        text = dataclasses.replace(self.text, meta=meta)
        text.save(path, arrays={"dense_weights": self.dense_weights.astype(np.float64)})

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        text = LinearTextModel.load(path)
        features = tuple(text.meta.get("dense_features", ()))
        if not set(features) <= set(VADER_FEATURES):
            raise ValueError(f"{path}: trained on {features}, not VADER's {VADER_FEATURES}")
        with np.load(path, allow_pickle=False) as arrays:
            dense = arrays["dense_weights"].astype(np.float64)
        if dense.shape != (len(features), len(text.labels)):
            raise ValueError(f"{path}: dense weights of shape {dense.shape}")
        return cls(text=text, dense_weights=dense, dense_features=features)


def labels_of(
    model: SentimentModel, texts: Sequence[str], vader: npt.NDArray[np.float64]
) -> list[str]:
    """The analyzer's labels of prepared texts: the model's, or the compound thresholds' for a
    text of fewer than MODEL_FROM_WORDS words (an empty one is neutral)."""
    short = [len(_LETTER_WORD.findall(text)) < MODEL_FROM_WORDS for text in texts]
    long_rows = [n for n, is_short in enumerate(short) if not is_short]
    predicted = iter(model.predict([texts[n] for n in long_rows], vader[long_rows]))
    return [
        label_for(float(vader[n, 3])) if is_short else next(predicted)
        for n, is_short in enumerate(short)
    ]


@cache
def shipped_model() -> SentimentModel:
    """trained/sentiment.npz, loaded once per process on first use."""
    return SentimentModel.load(shipped_path("sentiment"))


class SentimentAnalyzer(Analyzer):
    name: ClassVar[str] = "sentiment"
    # 3: the label comes from the trained SentimentModel instead of thresholds on the compound.
    version: ClassVar[str] = "3"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        judged = [n for n, item in enumerate(items) if is_supported(item)]
        texts = [prepare(items[n].text) for n in judged]
        scores = vader_scores(texts)
        labels = labels_of(shipped_model(), texts, scores) if texts else []
        results: list[dict[str, Any]] = [{"compound": None, "label": UNSUPPORTED} for _ in items]
        for n, compound, label in zip(judged, scores[:, 3], labels, strict=True):
            results[n] = {"compound": float(compound), "label": label}
        return results
