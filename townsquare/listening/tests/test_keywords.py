from __future__ import annotations

from pathlib import Path

from townsquare.listening.analyzers.base import TextItem
from townsquare.listening.analyzers.keywords import MAX_KEYWORDS, KeywordAnalyzer


def keywords(text: str, language: str | None = "en") -> list[str]:
    return list(KeywordAnalyzer().analyze([TextItem(text, language)])[0]["keywords"])


def test_it_keeps_informative_words_and_drops_stop_words() -> None:
    found = keywords("The brake pads on my road bike squeal when it rains. Brake pads again!")
    assert found[0] == "brake pads"
    assert "the" not in found and "when" not in found
    assert all(k == k.lower() for k in found)


def test_it_uses_stop_words_of_other_languages() -> None:
    assert "para" not in keywords("Necesito una bomba para la bicicleta de montaña", "es")
    assert "avec" not in keywords("Problème avec le dérailleur arrière de mon vélo", "fr")
    assert "nicht" not in keywords("Die Schaltung funktioniert nicht mehr richtig", "de")
    assert "não" not in keywords("A corrente da bicicleta não funciona", "pt")
    assert "bicicleta" in keywords("A corrente da bicicleta não funciona", "pt")


def test_it_strips_links_mentions_code_and_numbers() -> None:
    found = keywords("<@U1> @bob see https://docs.example.com/setup `pip install x` 2024 12345")
    assert found == ["see"] or found == []


def test_it_returns_at_most_five() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"
    assert len(keywords(text)) == MAX_KEYWORDS


def test_it_handles_empty_and_emoji() -> None:
    assert keywords("") == [] and keywords("😀🎉", None) == []


def test_it_reads_every_real_message(shared_data: Path) -> None:
    # Its speed is measured by the enrichment benchmark (docs/benchmarks.md), not here.
    lines = (shared_data / "tweeteval" / "offensive" / "train_text.txt").read_text().splitlines()
    results = KeywordAnalyzer().analyze([TextItem(t, "en") for t in lines[:5000]])
    assert len(results) == 5000
    assert all(
        len(r["keywords"]) <= MAX_KEYWORDS and all(k == k.lower() for k in r["keywords"])
        for r in results
    )
    assert sum(1 for r in results if r["keywords"]) > 4000


def test_emoji_codes_and_reactions_are_no_keywords() -> None:
    # Slack's export of "cool :simple_smile: the data jam slides are up".
    found = keywords("cool :simple_smile: the data jam slides are up :+1:")
    assert found[0] == "data jam"
    assert not {"cool", "simple_smile", "simple", "smile"} & set(" ".join(found).split())
    assert keywords("Wow, awesome talk guys! Haha") == ["talk"]
    # A time and C++ keep their words.
    assert "standup" in keywords("standup at 10:30:00 about std::vector")
    assert "vector" in keywords("standup at 10:30:00 about std::vector")


def test_words_of_time_and_hedges_are_no_keywords() -> None:
    found = keywords(
        "Yesterday I found the choropleth legend broken again, probably a bug since last"
        " week. Already tried for hours, I guess the next release fixes it?"
    )
    assert found[0] == "choropleth legend"
    dropped = {"yesterday", "found", "probably", "last", "week", "already", "hours", "guess"}
    assert not dropped & set(" ".join(found).split()), found
    # Words that name a topic in this field stay: a time series, small multiples.
    assert "time series" in keywords("Plotting a time series with small multiples")
    assert "small multiples" in keywords("Plotting a time series with small multiples")
