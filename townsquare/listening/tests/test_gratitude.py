from __future__ import annotations

from townsquare.listening.analyzers.base import TextItem
from townsquare.listening.analyzers.gratitude import GratitudeAnalyzer


def analyze(text: str) -> dict[str, object]:
    return GratitudeAnalyzer().analyze([TextItem(text)])[0]


def test_it_recognises_thanks_in_several_languages() -> None:
    for text in [
        "Thanks a lot!", "thank you so much", "thx", "ty!", "Cheers mate", "Much appreciated",
        "That fixed it, you're a lifesaver", "¡Muchas gracias!", "Merci beaucoup",
        "Danke schön", "Vielen Dank für die Hilfe", "Obrigado pela ajuda", "Grazie mille",
        "Dank je wel", "Спасибо большое", "ありがとうございます", "谢谢你",
    ]:  # fmt: skip
        assert analyze(text)["is_gratitude"], text


def test_it_rejects_refusals_requests_and_sarcasm() -> None:
    for text in [
        "No thanks, I'm fine.",
        "Can someone review my PR? Thanks in advance!",
        "Any idea? TIA",
        "Thanks for nothing.",
        "Merci d'avance pour vos réponses",
        "Danke im Voraus",
        "Gracias de antemano",
        "The thanksgiving party is on Friday",
        "",
    ]:
        assert not analyze(text)["is_gratitude"], text


def test_it_extracts_mentioned_members() -> None:
    result = analyze("thanks <@U123|alice> and @bob.smith, also <@!4567> (mail me@x.org)")
    assert result["mentions"] == ["U123", "bob.smith", "4567"]
    assert analyze("thank you!")["mentions"] == []


def test_it_ignores_thanks_inside_code() -> None:
    assert not analyze("```print('thanks')```")["is_gratitude"]


def test_it_ignores_letter_case() -> None:
    from townsquare.listening.analyzers.emotion import thanks_in

    analyzer = GratitudeAnalyzer()
    shouted = ["THANK YOU SO MUCH!!", "Merci Beaucoup", "DANKE", "Muchas GRACIAS", "СПАСИБО"]
    for result in analyzer.analyze([TextItem(text) for text in shouted]):
        assert result["is_gratitude"], result
    assert all(thanks_in(text) for text in shouted)
    [refused] = analyzer.analyze([TextItem("NO THANKS, I'll pass")])
    assert not refused["is_gratitude"]
