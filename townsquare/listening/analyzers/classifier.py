"""Hashed character n-grams + a linear model: the shared engine of spam, toxicity and emotion.

The models are trained by `townsquare.listening.training` from ../shared/data and shipped in
`townsquare/listening/trained/` as plain arrays (`.npz`, loaded with `allow_pickle=False`, so a
model file can never run code) plus a JSON sidecar saying what they were trained on and how well
they did.

Why this featurizer rather than scikit-learn's `HashingVectorizer(analyzer="char_wb")`: that one
builds every n-gram as a Python string and reached ~1,800 texts/s here, well under the 5,000/s an
analyzer must sustain. We hash the UTF-8 bytes of a whole batch at once with numpy (a rolling
polynomial hash over 1..5 bytes, with the n-grams that straddle two texts dropped), which gives
the same kind of features at ~15-20k texts/s, and score with a weighted `bincount` instead of
building a sparse matrix. Byte n-grams are language-agnostic, so they also carry a little signal
for the non-English texts we are asked to score anyway.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from townsquare.listening.analyzers.base import TextItem

TRAINED_DIR = Path(__file__).resolve().parent.parent / "trained"

# Features are n-grams of 1..MAX_N bytes: up to 5 catches "http", ".com", "subs", "f*ck" and
# the stems of most words without needing a tokenizer for every language.
MAX_N = 5
# 2**20 buckets keeps hash collisions rare for the ~10^6 distinct n-grams of our training sets.
DEFAULT_BITS = 20
# Spam, toxicity and emotion show in the first lines; capping a pasted log or a long e-mail keeps
# one huge text from dominating a batch's time.
MAX_CHARS = 1000

_URL = re.compile(
    r"https?://\S+|www\.\S+"
    # bare domains ("murdev.com", "gofundme.com/x"): how spam dodges link filters
    r"|\b[\w-]+\s?\.\s?(?:com|net|org|info|biz|io|ly|gl|me|co|tv|us|uk|ru|de)\b(?:/\S*)?"
)
_SPACE = re.compile(r"\s+")
# "!!!!!!!!" and "sooooo" say the same thing at any length past three; without this their
# n-grams outweigh the words around them.
_REPEAT = re.compile(r"(.)\1{3,}")
_DIGIT = re.compile(r"\d")
_PRIME = np.uint64(1099511628211)  # FNV-1a's 64-bit prime: odd, with well-spread bits
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of h*_MIX are uniform


_LINK_WORD = re.compile(r"[^\W_]+")


def _link_words(match: re.Match[str]) -> str:
    # "https://github.com/org/repo/issues/42" → " httpurl github com org repo issues 42 ": the
    # marker still says "a link", and the words of its address say where to (an issue, the
    # docs, a wiki) rather than a channel, a shortener or a giveaway.
    words = _LINK_WORD.findall(match.group(0).lower().split("://", 1)[-1])
    return " httpurl " + " ".join(w for w in words if w != "www")[:80] + " "


# Markup a raw export may still carry: a byte-order mark, line-break and inline tags, HTML
# entities ("&#39;", "&amp;"). Genuine messages reach the analyzers as plain text (pipeline
# `prepared_text`), but YouTube comments in the public spam data carry all of these (every one
# ends in U+FEFF), so a model trained on them learned "looks like a YouTube export" as spam.
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_INLINE_TAG = re.compile(r"</?(?:a|b|i|u|s|em|strong|span|div|p)\b[^>]*>", re.IGNORECASE)


def strip_markup(text: str) -> str:
    """Text without a byte-order mark, line-break/inline tags and HTML entities."""
    text = _INLINE_TAG.sub(" ", _BR.sub("\n", text.replace("\ufeff", "")))
    return html.unescape(text) if "&" in text else text


def normalize(text: str, link_words: bool = False, plain: bool = False) -> str:
    """Lower-cased text with links reduced to one marker and spacing collapsed.

    Links become " httpurl " because their presence is the signal, their exact address noise
    (a spam domain seen once never recurs); the domain-looking tail of "bit.ly/x" style links
    without a scheme stays as text. With `link_words` (the spam model) the marker is followed by
    the words of the address, capped, so that where a link points counts, not only that there
    is one. The text is padded with spaces so that word starts and ends are n-grams of their
    own, like scikit-learn's `char_wb`. With `plain` (the spam model) markup is stripped first
    (`strip_markup`).
    """
    text = strip_markup(text[:MAX_CHARS]) if plain else text[:MAX_CHARS]
    text = text.lower().replace("\x00", " ")
    text = _URL.sub(_link_words, text) if link_words else _URL.sub(" httpurl ", text)
    # One digit stands for all: a phone number or a view count matters by its shape, not value.
    text = _DIGIT.sub("0", _REPEAT.sub(r"\1\1\1", text))
    return " " + _SPACE.sub(" ", text).strip() + " "


def hashed_ngrams(
    texts: Sequence[str], bits: int = DEFAULT_BITS, link_words: bool = False, plain: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(row, bucket) of every byte n-gram of every text, in row order (duplicates kept)."""
    joined = "\x00".join(normalize(t, link_words, plain) for t in texts).encode("utf-8")
    buf = np.frombuffer(joined, dtype=np.uint8)
    length = len(buf)
    is_sep = buf == 0
    row_of = np.cumsum(is_sep, dtype=np.int64)
    # +1 so that a byte never hashes like "no byte"
    values = buf.astype(np.uint64) + np.uint64(1)
    buckets = np.full((MAX_N, length), -1, dtype=np.int64)
    rolling = np.zeros(length, dtype=np.uint64)
    shift = np.uint64(64 - bits)
    with np.errstate(over="ignore"):  # uint64 wrap-around is the intended modular arithmetic
        for n in range(1, MAX_N + 1):
            m = length - n + 1
            if m <= 0:
                break
            rolling = rolling[:m] * _PRIME + values[n - 1 : n - 1 + m]
            inside = (row_of[:m] == row_of[n - 1 : n - 1 + m]) & ~is_sep[:m]
            mixed = ((rolling[inside] ^ np.uint64(n)) * _MIX) >> shift
            buckets[n - 1, :m][inside] = mixed.astype(np.int64)
    # Column-major flattening lists n-grams by start position, hence by row.
    flat = buckets.T.ravel()
    rows = np.repeat(row_of, MAX_N)
    keep = flat >= 0
    return rows[keep], flat[keep]


def features(
    texts: Sequence[str],
    bits: int = DEFAULT_BITS,
    norm_power: float = 0.5,
    link_words: bool = False,
) -> sp.csr_matrix:
    """The training matrix: n-gram counts divided by (the text's n-gram count) ** norm_power.

    0.5 is close to the usual L2 norm. 1.0 averages the n-gram weights, so a long text scores
    like a short one: spam needs that, because its training comments are short and a sum would
    call every long forum post spam. Dividing by a power of the count rather than the exact
    norm is what lets `LinearTextModel.decision` skip summing duplicate n-grams; training and
    scoring use the same definition, so it is exact.
    """
    rows, cols = hashed_ngrams(texts, bits, link_words)
    counts = np.bincount(rows, minlength=len(texts))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    scale = 1.0 / np.maximum(counts, 1) ** norm_power
    matrix = sp.csr_matrix((scale[rows], cols, indptr), shape=(len(texts), 1 << bits))
    matrix.sum_duplicates()
    return matrix


def ngram_counts(
    texts: Sequence[str], bits: int = DEFAULT_BITS, link_words: bool = False, plain: bool = False
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(row, bucket, count) of every distinct byte n-gram of every text, sorted by row."""
    rows, cols = hashed_ngrams(texts, bits, link_words, plain)
    keys, counts = np.unique((rows << bits) | cols, return_counts=True)
    return keys >> bits, keys & ((1 << bits) - 1), counts.astype(np.float64)


def idf_of(doc_freq: npt.NDArray[np.int64], n_docs: int) -> npt.NDArray[np.float32]:
    """Smoothed inverse document frequency, as scikit-learn's `TfidfTransformer` computes it."""
    return (np.log((n_docs + 1) / (doc_freq + 1.0)) + 1.0).astype(np.float32)


def tfidf_features(
    texts: Sequence[str],
    idf: npt.NDArray[np.float32],
    bits: int = DEFAULT_BITS,
    link_words: bool = False,
) -> sp.csr_matrix:
    """The feature matrix of a `tfidf` model: (1 + log count) * idf per distinct n-gram of the
    markup-stripped text, rows scaled to unit L2 norm (so length does not decide the score)."""
    rows, cols, counts = ngram_counts(texts, bits, link_words, plain=True)
    values = (1.0 + np.log(counts)) * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=len(texts)))
    values /= np.maximum(norms, 1e-12)[rows]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
    return sp.csr_matrix((values, cols, indptr), shape=(len(texts), 1 << bits))


# Texts scored at once at most: a batch's n-gram arrays (five per byte, 8 bytes each) stay in
# the processor's cache. A batch of 1,000 messages scored whole took 20-45 % longer than in
# slices of 256, and 2,000 longer still.
DECISION_CHUNK = 256


@dataclass(frozen=True)
class LinearTextModel:
    """A linear model over hashed n-grams; binary models have one weight column, others one per
    label (one-vs-rest logistic regression, probabilities normalised like scikit-learn's)."""

    labels: tuple[str, ...]
    weights: npt.NDArray[np.float32]  # (2**bits, k) with k = 1 for binary models
    intercepts: npt.NDArray[np.float64]  # (k,)
    bits: int = DEFAULT_BITS
    threshold: float = 0.5
    norm_power: float = 0.5
    link_words: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    # With document frequencies (the spam model since v5) the features are those of
    # `tfidf_features`: markup stripped, (1 + log count) * idf, unit L2 rows.
    doc_freq: npt.NDArray[np.int64] | None = None
    n_docs: int = 0
    idf: npt.NDArray[np.float32] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        idf = (
            np.zeros(0, np.float32) if self.doc_freq is None else idf_of(self.doc_freq, self.n_docs)
        )
        object.__setattr__(self, "idf", idf)

    @property
    def binary(self) -> bool:
        return bool(self.weights.shape[1] == 1)

    @property
    def tfidf(self) -> bool:
        return self.doc_freq is not None

    def decision(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        n = len(texts)
        k = self.weights.shape[1]
        if n == 0:
            return np.zeros((0, k))
        if n > DECISION_CHUNK:
            # Each text's score depends on that text alone: slices give the same numbers.
            return np.concatenate(
                [self.decision(texts[i : i + DECISION_CHUNK]) for i in range(0, n, DECISION_CHUNK)]
            )
        if self.doc_freq is not None:
            return self._tfidf_decision(texts)
        rows, cols = hashed_ngrams(texts, self.bits, self.link_words)
        scale = 1.0 / np.maximum(np.bincount(rows, minlength=n), 1) ** self.norm_power
        picked = self.weights[cols]
        out = np.empty((n, k))
        for j in range(k):
            out[:, j] = np.bincount(rows, weights=picked[:, j], minlength=n) * scale
        return out + self.intercepts

    def _tfidf_decision(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        matrix = tfidf_features(texts, self.idf, self.bits, self.link_words)
        return np.asarray(matrix @ self.weights, dtype=np.float64) + self.intercepts

    def probabilities(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """(n, 1) probability of the positive class, or (n, k) rows summing to 1."""
        prob = 1.0 / (1.0 + np.exp(-self.decision(texts)))
        if self.binary:
            return prob
        total = prob.sum(axis=1, keepdims=True)
        normalised: npt.NDArray[np.float64] = np.divide(
            prob, total, out=np.full_like(prob, 1 / prob.shape[1]), where=total > 0
        )
        return normalised

    def save(self, path: Path, arrays: Mapping[str, npt.NDArray[Any]] | None = None) -> None:
        """Only the weights the training touched are stored, as float16: the rest are zero.
        `arrays` are stored beside them as they are (the sentiment model's dense weights)."""
        used = np.any(self.weights != 0, axis=1)
        if self.doc_freq is not None:
            used |= self.doc_freq > 0
        nonzero = np.flatnonzero(used)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written only when set, so a model without it saves exactly as before this option.
        extra: dict[str, Any] = {"link_words": np.array(True)} if self.link_words else {}
        if self.doc_freq is not None:
            # Document frequencies are whole numbers: stored exactly, the idf is recomputed.
            extra["doc_freq"] = self.doc_freq[nonzero].astype(np.uint32)
            extra["n_docs"] = np.array(self.n_docs)
        extra.update(arrays or {})
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                **extra,
                # Delta-coding the sorted bucket numbers makes them small, so they compress.
                index_deltas=np.diff(nonzero, prepend=0).astype(np.uint32),
                values=self.weights[nonzero].astype(np.float16),
                intercepts=self.intercepts.astype(np.float64),
                bits=np.array(self.bits),
                threshold=np.array(self.threshold),
                norm_power=np.array(self.norm_power),
            )
        meta = {**self.meta, "labels": list(self.labels), "threshold": self.threshold}
        path.with_suffix(".json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(path, allow_pickle=False) as arrays:
            bits = int(arrays["bits"])
            index = np.cumsum(arrays["index_deltas"].astype(np.int64))
            values = arrays["values"].astype(np.float32)
            weights = np.zeros((1 << bits, values.shape[1]), dtype=np.float32)
            weights[index] = values
            doc_freq = None
            if "doc_freq" in arrays.files:
                doc_freq = np.zeros(1 << bits, dtype=np.int64)
                doc_freq[index] = arrays["doc_freq"].astype(np.int64)
            return cls(
                labels=tuple(meta["labels"]),
                weights=weights,
                intercepts=arrays["intercepts"].astype(np.float64),
                bits=bits,
                threshold=float(arrays["threshold"]),
                norm_power=float(arrays["norm_power"]),
                link_words="link_words" in arrays.files and bool(arrays["link_words"]),
                meta=meta,
                doc_freq=doc_freq,
                n_docs=int(arrays["n_docs"]) if "n_docs" in arrays.files else 0,
            )


def shipped_path(name: str) -> Path:
    """trained/<name>.npz, or FileNotFoundError saying how to rebuild it."""
    path = TRAINED_DIR / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(
            f"the {name} model is missing ({path}); rebuild it with `make models`"
        )
    return path


@cache
def shipped_model(name: str) -> LinearTextModel:
    """The model shipped as trained/<name>.npz, loaded once per process on first use."""
    return LinearTextModel.load(shipped_path(name))


def language_supported(item: TextItem) -> bool:
    """Our models are trained on English; an unknown language is scored as if it were English."""
    return item.language is None or item.language == "en"


_WORD = re.compile(r"[^\W\d_]{2,}")


# Hosts whose bare link, posted alone, is a promotion far more often than a share: URL
# shorteners (they hide where the link goes), video and streaming channels and social profiles
# ("my channel", "follow me" without the words). A short fixed list by kind of host, not a list
# of the spam domains seen in training (those never recur).
PROMOTION_HOSTS = frozenset(
    {
        # shorteners
        "bit.ly", "goo.gl", "tinyurl.com", "t.co", "ow.ly", "is.gd", "buff.ly", "adf.ly",
        "cutt.ly", "tiny.cc", "rebrand.ly", "shorte.st",
        # video, streaming and music channels
        "youtube.com", "youtu.be", "vimeo.com", "twitch.tv", "soundcloud.com", "tiktok.com",
        "dailymotion.com",
        # social profiles
        "facebook.com", "fb.com", "instagram.com", "twitter.com", "x.com",
    }
)  # fmt: skip
# Referral and affiliate parameters ("?ref=123", "&AffiliateID=9", "/ref=olp"): someone is
# paid per click, which is what a promotion is.
_AFFILIATE = re.compile(r"[?&/;](?:ref|aff|affiliate|affiliateid|referral|tag)[=_]", re.IGNORECASE)
_HOST_END = re.compile(r"[/?#:]")


def is_promotion_link(link: str) -> bool:
    """Whether a link points to a PROMOTION_HOSTS host (or a subdomain) or carries a referral."""
    address = _SPACE.sub("", link.lower()).split("://", 1)[-1]
    host = _HOST_END.split(address, maxsplit=1)[0].removeprefix("www.")
    if _AFFILIATE.search(link):
        return True
    return any(host == h or host.endswith("." + h) for h in PROMOTION_HOSTS)


def exempt_as_a_share(text: str) -> bool:
    """A message that is only links, none of them to a promotion host: a share, never flagged."""
    text = text[:MAX_CHARS]
    if _WORD.search(_URL.sub(" ", text)) is not None:
        return False
    return not any(is_promotion_link(m.group(0)) for m in _URL.finditer(text))


def flags(
    model: LinearTextModel, texts: Sequence[str], scores: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """score >= threshold; for a model with `link_words` (spam), never a message that is only
    links unless one of them is a promotion link (shortener, channel, social profile, referral):
    in a community a bare link to an issue, the docs or an article is how people share, and
    with no words nothing tells it from a promotion, whereas a bare channel or shortened link
    is the typical YouTube spam comment (see docs/evaluation.md)."""
    flagged = scores >= model.threshold
    if model.link_words:
        flagged &= ~np.array([exempt_as_a_share(t) for t in texts], dtype=bool)
    return flagged


def binary_results(model: LinearTextModel, items: Sequence[TextItem]) -> list[dict[str, Any]]:
    """{"score", "flag", "language_supported"} per item, for the spam and toxicity analyzers."""
    texts = [item.text for item in items]
    scores = model.probabilities(texts)[:, 0]
    flagged = flags(model, texts, scores)
    return [
        {
            "score": round(float(score), 4),
            "flag": bool(flag),
            "language_supported": language_supported(item),
        }
        for item, score, flag in zip(items, scores, flagged, strict=True)
    ]
