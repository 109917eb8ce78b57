from __future__ import annotations

from pathlib import Path

import numpy as np

from townsquare.listening.analyzers.base import UNSUPPORTED, TextItem
from townsquare.listening.analyzers.sentiment import (
    LABELS,
    MODEL_FROM_WORDS,
    VADER_FEATURES,
    SentimentAnalyzer,
    label_for,
    prepare,
    shipped_model,
    vader_scores,
)
from townsquare.listening.evaluation import pearson_r, read_vader


def analyze(text: str, language: str | None = "en") -> dict[str, object]:
    return SentimentAnalyzer().analyze([TextItem(text, language)])[0]


def test_it_labels_clear_english_sentiment() -> None:
    assert analyze("I love this community, you are all amazing!")["label"] == "positive"
    assert analyze("This update is terrible and broke everything. I hate it.")["label"] == (
        "negative"
    )
    assert analyze("The meeting starts at 5 pm in room B.")["label"] == "neutral"
    # long enough for the label model (MODEL_FROM_WORDS words or more)
    assert analyze(
        "The quarterly community meeting will be held on Thursday evening at the downtown "
        "library, room two."
    )["label"] == ("neutral")
    assert analyze(
        "Thank you all so much for the wonderful meetup yesterday, the talks were brilliant "
        "and I learned a lot!"
    )["label"] == ("positive")
    assert analyze(
        "The new release deleted my settings again and support has ignored my ticket for two "
        "weeks, this is awful."
    )["label"] == ("negative")


def test_the_label_model_labels_long_texts_and_the_thresholds_short_ones() -> None:
    texts = [
        "ok",
        "what's slack?",
        "Notre Dame",
        "The quarterly community meeting will be held on Thursday at the downtown library.",
        "Honestly the new dashboard is fine but the export button keeps timing out on me.",
    ]
    prepared = [prepare(t) for t in texts]
    vader = vader_scores(prepared)
    model_labels = shipped_model().predict(prepared, vader)
    results = SentimentAnalyzer().analyze([TextItem(t, "en") for t in texts])
    short = [True, True, True, False, False]  # under / over MODEL_FROM_WORDS (7) words
    assert MODEL_FROM_WORDS == 7
    for text, result, compound, model_label, is_short in zip(
        texts, results, vader[:, 3], model_labels, short, strict=True
    ):
        # the compound is VADER's, whichever decides the label
        assert result["compound"] == float(compound)
        expected = label_for(float(compound)) if is_short else model_label
        assert result["label"] == expected, text
    # and the two differ somewhere, or this test would not tell them apart
    assert any(label_for(float(c)) != m for c, m in zip(vader[:, 3], model_labels, strict=True))


def test_the_shipped_label_model_loads_with_vaders_features() -> None:
    model = shipped_model()
    assert model.labels == LABELS
    assert set(model.dense_features) <= set(VADER_FEATURES)
    assert model.dense_weights.shape == (len(model.dense_features), len(LABELS))
    assert model.text.weights.shape[1] == len(LABELS) and np.any(model.text.weights != 0)


def test_it_never_fakes_a_neutral_for_other_languages() -> None:
    for text, lang in [("Me encanta esta comunidad", "es"), ("C'est nul", "fr")]:
        assert analyze(text, lang) == {"compound": None, "label": UNSUPPORTED}
    # no language detected, but clearly not Latin script
    assert analyze("Это ужасно, ничего не работает", None)["label"] == UNSUPPORTED


def test_it_judges_short_latin_texts_of_unknown_language() -> None:
    assert analyze("lol thanks :)", None)["label"] == "positive"


def test_it_reads_dismay_emoticons_as_negative() -> None:
    result = analyze("the build failed again D:")
    assert isinstance(result["compound"], float) and result["compound"] < 0


def test_it_handles_empty_and_link_only_texts() -> None:
    assert analyze("")["label"] == "neutral"
    assert analyze("https://example.com/great-love-happy")["label"] == "neutral"


def test_it_is_deterministic() -> None:
    items = [TextItem("great job!", "en"), TextItem("awful", "en")] * 3
    assert SentimentAnalyzer().analyze(items) == SentimentAnalyzer().analyze(items)


def test_it_correlates_with_human_ratings(shared_data: Path) -> None:
    gold = read_vader(shared_data / "vader_groundtruth" / "tweets_GroundTruth.txt").limited(800)
    results = SentimentAnalyzer().analyze([TextItem(t, "en") for t in gold.texts])
    assert pearson_r([r["compound"] for r in results], gold.labels) > 0.85


def test_it_reads_repeated_no_as_emphasis_not_double_negation() -> None:
    result = analyze("NO NO NO NO. The release is delayed again")
    assert isinstance(result["compound"], float) and result["compound"] < 0


def test_it_stops_a_negation_at_the_previous_sentiment_word() -> None:
    result = analyze("don't care don't care don't care")
    assert isinstance(result["compound"], float) and result["compound"] < 0


def test_it_finds_short_words_and_elongated_words() -> None:
    assert analyze("ok,")["compound"] == analyze("ok")["compound"] != 0
    assert analyze("YAYYYYY we shipped")["label"] == "positive"


def test_it_overrules_an_unsure_language_guess_only_with_english_evidence() -> None:
    def judged(text: str, lang: str, confidence: float | None) -> dict[str, object]:
        return SentimentAnalyzer().analyze([TextItem(text, lang, confidence)])[0]

    # short English guessed as Turkish, unsure: English sentiment words win
    assert judged("Yay! so happy", "tr", 0.75)["label"] == "positive"
    # the same guess, confident: unsupported
    assert judged("Yay! so happy", "tr", 0.95)["label"] == UNSUPPORTED
    # unsure, but nothing English in it: never a fake neutral
    assert judged("me encanta esto", "es", 0.6)["label"] == UNSUPPORTED
    # a language a person set (no confidence) is taken as given
    assert judged("Yay! so happy", "es", None)["label"] == UNSUPPORTED


def test_it_reaches_the_published_correlation_on_the_vader_tweets(shared_data: Path) -> None:
    gold = read_vader(shared_data / "vader_groundtruth" / "tweets_GroundTruth.txt")
    results = SentimentAnalyzer().analyze([TextItem(t, "en") for t in gold.texts])
    assert pearson_r([r["compound"] for r in results], gold.labels) >= 0.88
