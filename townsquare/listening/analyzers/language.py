"""Language identification with py3langid's model, restricted to the community's languages.

py3langid (BSD-3) ships a naive-Bayes model over byte n-grams found by a DFA walk. Its own
`classify` walks the DFA one byte at a time in Python (~3.4k sentences/s here); we walk the same
DFA for a whole batch at once with numpy and score the batch with one sparse product, which gives
the same decisions about four times faster. py3langid is weak on very short texts, where lingua
(Apache-2.0) is clearly better but ~10x slower and ~300 MB of models: so the texts py3langid is
unsure about (a minority of real messages, mostly 1-3 words) go to lingua, restricted to the same
languages and loaded on first need. Figures in docs/evaluation.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from townsquare.listening.analyzers.base import Analyzer, TextItem

# The 20 languages with the most internet users that py3langid and the lingua test set both
# cover; a community sets its own with settings.TOWNSQUARE_LANGUAGES.
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "ru", "pl", "tr",
    "ja", "zh", "ko", "ar", "hi", "id", "vi", "uk", "sv", "fa",
)  # fmt: skip

# Below this py3langid probability the text is asked of lingua (measured on the lingua test
# sentences cut to 2-3 words: accuracy 0.77 -> 0.88 and 0.90 -> 0.94, ~45% / ~30% of them asked).
FALLBACK_BELOW = 0.9
# ... but only short ones: that is where lingua is better, and on longer texts it runs at well
# under 100 texts/s on one core (measured on tweets), which the pipeline cannot afford.
FALLBACK_MAX_WORDS = 4
# Below these probabilities the best language is not trusted. lingua spreads its confidence
# more thinly on short texts (two words: right 97% of the time when its top value is >= 0.3).
MIN_CONFIDENCE = 0.5
MIN_LINGUA_CONFIDENCE = 0.3
# Language is a property of running text; beyond this many bytes the answer does not change,
# and a cap keeps one huge pasted log from slowing a batch.
MAX_BYTES = 600
# The batch walk allocates chunk x longest-text cells; this keeps that small.
CHUNK = 2048

_NOISE = re.compile(
    r"```.*?```"  # fenced code
    r"|`[^`\n]*`"  # inline code
    r"|<[@#!][^>\s]*>"  # Slack/Discord mentions, channels and commands
    r"|\b(?:https?://|www\.)\S+"  # URLs
    r"|\S+@\S+\.\w+"  # e-mail addresses
    r"|[@#][\w.-]+",  # @handles and #hashtags: names, not language
    re.DOTALL,
)


def configured_languages() -> tuple[str, ...]:
    """settings.TOWNSQUARE_LANGUAGES when Django is configured and sets it, else the default 20."""
    from django.conf import settings

    if settings.configured:
        langs = getattr(settings, "TOWNSQUARE_LANGUAGES", None)
        if langs:
            return tuple(str(lang).lower() for lang in langs)
    return DEFAULT_LANGUAGES


def clean_text(text: str) -> str:
    """The text with code, links, mentions, digits and symbols removed; letters and spacing kept."""
    text = _NOISE.sub(" ", text)
    return "".join(ch if ch.isalpha() or ch in " '\n" else " " for ch in text).strip()


@dataclass(frozen=True)
class _Model:
    nextmove: npt.NDArray[np.int64]
    rowbase: npt.NDArray[np.int64]
    out_feat: npt.NDArray[np.int64]
    ptc: npt.NDArray[np.float32]  # features x languages, only the configured languages
    pc: npt.NDArray[np.float32]
    languages: tuple[str, ...]


@cache
def _load_model(languages: tuple[str, ...]) -> _Model:
    import py3langid
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, out_feat = load_model(
        Path(py3langid.__file__).parent / "data" / "model.npz.xz"
    )
    unknown = sorted(set(languages) - set(classes))
    if unknown:
        raise ValueError(
            f"TOWNSQUARE_LANGUAGES: py3langid does not know {', '.join(unknown)}; "
            f"it knows: {', '.join(sorted(set(classes)))}"
        )
    columns = [classes.index(lang) for lang in languages]
    return _Model(
        nextmove=np.asarray(nextmove, dtype=np.int64),
        rowbase=np.asarray(row, dtype=np.int64) << 8,
        out_feat=np.asarray(out_feat, dtype=np.int64),
        ptc=np.ascontiguousarray(np.asarray(ptc)[:, columns], dtype=np.float32),
        pc=np.asarray(pc, dtype=np.float32)[columns],
        languages=languages,
    )


def _encode(text: str) -> bytes:
    # The same normalisation py3langid applies before its walk.
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")[:MAX_BYTES]


def _probabilities(model: _Model, encoded: Sequence[bytes]) -> npt.NDArray[np.float32]:
    """Row i: the probability of each configured language for encoded[i] (uniform if empty)."""
    from scipy.sparse import csr_matrix

    n = len(encoded)
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n)
    probs = np.full((n, len(model.languages)), 1.0 / len(model.languages), dtype=np.float32)
    # Longest first, so the texts still being walked at step i are always a prefix of the chunk.
    order = np.argsort(-lengths, kind="stable")
    order = order[lengths[order] > 0]
    for start in range(0, len(order), CHUNK):
        idx = order[start : start + CHUNK]
        k, width = len(idx), int(lengths[idx[0]])
        buf = np.frombuffer(
            b"".join(encoded[i].ljust(width, b"\0") for i in idx), dtype=np.uint8
        ).reshape(k, width)
        # active[i] = how many texts are longer than i bytes
        active = np.searchsorted(-lengths[idx], -np.arange(width), side="left")
        state = np.zeros(k, dtype=np.int64)
        visited = np.zeros((k, width), dtype=np.int64)  # state 0 emits no feature
        for i in range(width):
            a = int(active[i])
            state[:a] = model.nextmove[model.rowbase[state[:a]] + buf[:a, i]]
            visited[:a, i] = state[:a]
        feats = model.out_feat[visited]
        rows, cols = np.nonzero(feats >= 0)
        counts = csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, feats[rows, cols])),
            shape=(k, model.ptc.shape[0]),
        )
        counts.sum_duplicates()
        np.log1p(counts.data, out=counts.data)
        scores = np.asarray(counts @ model.ptc, dtype=np.float32) + model.pc
        # py3langid's calibration: temperature sqrt(bytes) keeps the softmax sane across lengths
        scores /= np.sqrt(lengths[idx]).astype(np.float32)[:, None]
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        has_features = np.asarray(counts.getnnz(axis=1)) > 0
        probs[idx[has_features]] = scores[has_features]
    return probs


@cache
def _lingua_detector(languages: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    known = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, lang.upper())) for lang in languages
    ]
    return LanguageDetectorBuilder.from_languages(*known).build()


def _ask_lingua(languages: tuple[str, ...], texts: list[str]) -> list[tuple[str | None, float]]:
    detector = _lingua_detector(languages)
    answers: list[tuple[str | None, float]] = []
    for values in detector.compute_language_confidence_values_in_parallel(texts):
        if not values:
            answers.append((None, 0.0))
            continue
        top = values[0]
        answers.append((top.language.iso_code_639_1.name.lower(), float(top.value)))
    return answers


class LanguageAnalyzer(Analyzer):
    name: ClassVar[str] = "language"
    version: ClassVar[str] = "1"

    def __init__(self, languages: Sequence[str] | None = None, *, fallback: bool = True) -> None:
        self._languages = tuple(languages) if languages else None
        # Without the lingua fallback: ~40% less accurate on 2-word messages, no 300 MB of models.
        self._fallback = fallback

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages or configured_languages()

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        model = _load_model(self.languages)
        cleaned = [clean_text(item.text) for item in items]
        probs = _probabilities(model, [_encode(text) for text in cleaned])
        best = probs.argmax(axis=1)
        answers: list[tuple[str | None, float]] = []
        unsure: list[int] = []
        for n, (text, row, i) in enumerate(zip(cleaned, probs, best, strict=True)):
            if not _has_enough_letters(text):
                answers.append((None, 0.0))
                continue
            answers.append((model.languages[i], float(row[i])))
            if (
                self._fallback
                and row[i] < FALLBACK_BELOW
                and len(text.split()) <= FALLBACK_MAX_WORDS
            ):
                unsure.append(n)
        asked = set(unsure)
        if unsure:
            second = _ask_lingua(model.languages, [cleaned[n] for n in unsure])
            for n, (language, confidence) in zip(unsure, second, strict=True):
                trusted = confidence >= MIN_LINGUA_CONFIDENCE
                answers[n] = (language if trusted else None, confidence)
        return [
            {
                "language": language if confidence >= MIN_CONFIDENCE or n in asked else None,
                "confidence": round(confidence, 4),
            }
            for n, (language, confidence) in enumerate(answers)
        ]


def _has_enough_letters(text: str) -> bool:
    """At least two letters of a logographic/syllabic script or three of an alphabetic one."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) >= 3:
        return True
    return len(letters) == 2 and all(_is_ideographic(ch) for ch in letters)


def _is_ideographic(ch: str) -> bool:
    # CJK ideographs, kana and Hangul carry a word in one or two characters.
    return ord(ch) >= 0x3040 and not (0xFB00 <= ord(ch) <= 0xFEFF)
