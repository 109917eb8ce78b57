from __future__ import annotations

from pathlib import Path

from townsquare.listening.analyzers.base import UNSUPPORTED, TextItem
from townsquare.listening.analyzers.sentiment import SentimentAnalyzer
from townsquare.listening.evaluation import pearson_r, read_vader


def analyze(text: str, language: str | None = "en") -> dict[str, object]:
    return SentimentAnalyzer().analyze([TextItem(text, language)])[0]


def test_it_labels_clear_english_sentiment() -> None:
    assert analyze("I love this community, you are all amazing!")["label"] == "positive"
    assert analyze("This update is terrible and broke everything. I hate it.")["label"] == (
        "negative"
    )
    assert analyze("The meeting starts at 5 pm in room B.")["label"] == "neutral"


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
