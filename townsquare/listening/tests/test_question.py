from __future__ import annotations

from townsquare.listening.analyzers.base import TextItem
from townsquare.listening.analyzers.question import QuestionAnalyzer


def is_question(text: str) -> bool:
    return bool(QuestionAnalyzer().analyze([TextItem(text)])[0]["is_question"])


def test_it_recognises_questions_in_several_languages() -> None:
    for text in [
        "How do I reset my password?",
        "Does anyone know a good bike shop near the station",
        "¿Alguien sabe cómo cambiar la cadena?",
        "Comment est-ce que je peux rejoindre le groupe ?",
        "Weiß jemand, wann das nächste Treffen ist?",
        "Alguém sabe onde fica a sala?",
        "Qualcuno sa come funziona?",
        "Weet iemand hoe dit werkt?",
        "有人知道怎么安装吗？",
        "any idea why the build fails",
        "Is it OK to edit a question after it was answered",
    ]:
        assert is_question(text), text


def test_it_ignores_statements_and_interjections() -> None:
    for text in [
        "The meetup moved to Thursday.",
        "?",
        "what?!",
        "really??",
        "Fixed it by updating the driver.",
        "",
        "😀",
    ]:
        assert not is_question(text), text


def test_it_tells_exclamations_from_questions() -> None:
    for text in [
        "What a stupid bug, this broke again",
        "What an amazing release!",
        "How cool is that",
        "¡Qué bien, gracias!",
        "Quelle belle journée",
        "Wie schön, danke euch",
    ]:
        assert not is_question(text), text
    assert is_question("What a mess, how do I undo it?")
    assert is_question("What a nice chart! How did you make it? Is there a notebook")


def test_it_ignores_question_marks_in_code_urls_and_quotes() -> None:
    assert not is_question("See https://example.com/search?q=bikes for the list.")
    assert not is_question("Use `a ? b : c` here, it works.")
    assert not is_question("> Why is the sky blue?\nBecause of Rayleigh scattering.")


def test_it_scores_between_zero_and_one_deterministically() -> None:
    items = [TextItem("How? Why? When? Does anyone know? Please help?")] * 2
    first, second = QuestionAnalyzer().analyze(items)
    assert first == second and 0.5 <= first["score"] <= 1.0
