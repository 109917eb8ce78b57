from __future__ import annotations

from pathlib import Path

import pytest

from townsquare.listening.analyzers.base import TextItem
from townsquare.listening.analyzers.language import DEFAULT_LANGUAGES, LanguageAnalyzer

SENTENCES = {
    "en": "The meetup is moved to Thursday because the room was booked twice.",
    "es": "La reunión se traslada al jueves porque la sala estaba reservada dos veces.",
    "fr": "La réunion est déplacée à jeudi parce que la salle était réservée deux fois.",
    "de": "Das Treffen wird auf Donnerstag verschoben, weil der Raum doppelt gebucht war.",
    "pt": "A reunião foi transferida para quinta-feira porque a sala estava reservada.",
    "ru": "Встреча перенесена на четверг, потому что зал был забронирован дважды.",
    "ja": "会場が二重に予約されていたため、ミーティングは木曜日に変更になりました。",
    "ar": "تم نقل الاجتماع إلى يوم الخميس لأن القاعة كانت محجوزة مرتين.",
}


@pytest.fixture(scope="module")
def analyzer() -> LanguageAnalyzer:
    return LanguageAnalyzer(DEFAULT_LANGUAGES)


def test_it_identifies_sentences_in_several_languages(analyzer: LanguageAnalyzer) -> None:
    results = analyzer.analyze([TextItem(text) for text in SENTENCES.values()])
    assert [r["language"] for r in results] == list(SENTENCES)
    assert all(r["confidence"] > 0.9 for r in results)


def test_it_returns_none_for_texts_without_language(analyzer: LanguageAnalyzer) -> None:
    texts = ["", "   ", "😀🎉👍", "https://example.com/a?b=c", "```x = f(y)```", "12:30 42", "ok"]
    for result in analyzer.analyze([TextItem(t) for t in texts]):
        assert result["language"] is None
        assert result["confidence"] < 0.5


def test_it_ignores_links_and_mentions_around_the_words(analyzer: LanguageAnalyzer) -> None:
    text = "<@U123> @bob regarde https://example.org/docs : la documentation est très claire"
    assert analyzer.analyze([TextItem(text)])[0]["language"] == "fr"


def test_it_is_deterministic_and_order_independent(analyzer: LanguageAnalyzer) -> None:
    items = [TextItem(t) for t in SENTENCES.values()]
    first = analyzer.analyze(items)
    again = analyzer.analyze(list(reversed(items)))
    assert first == list(reversed(again))


def test_it_restricts_to_the_configured_languages() -> None:
    only = LanguageAnalyzer(["en", "de"])
    result = only.analyze([TextItem(SENTENCES["es"])])[0]
    assert result["language"] in ("en", "de", None)


def test_it_reads_languages_from_settings(settings: pytest.FixtureRequest) -> None:
    settings.TOWNSQUARE_LANGUAGES = ["en", "fr"]  # type: ignore[attr-defined]
    assert LanguageAnalyzer().languages == ("en", "fr")


def test_it_is_accurate_on_real_sentences(shared_data: Path, analyzer: LanguageAnalyzer) -> None:
    folder = shared_data / "lingua_language_testdata" / "sentences"
    items, gold = [], []
    for lang in DEFAULT_LANGUAGES:
        lines = folder.joinpath(f"{lang}.txt").read_text(encoding="utf-8").splitlines()[:40]
        items += [TextItem(line) for line in lines]
        gold += [lang] * len(lines)
    results = analyzer.analyze(items)
    accuracy = sum(r["language"] == g for r, g in zip(results, gold, strict=True)) / len(gold)
    assert accuracy >= 0.97
