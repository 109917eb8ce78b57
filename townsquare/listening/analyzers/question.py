"""Is this message a question that wants an answer?

Rules that work across languages, no model: a question mark (also the full-width and the
inverted one) in the member's own words, an interrogative opener at the start of a sentence
(en/es/fr/de/pt/it/nl), or a request for help ("does anyone know", "any idea", "alguien
sabe", ...). Question marks inside code, URLs (query strings) and quoted lines do not count,
nor a bare "?" or "what?!".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from townsquare.listening.analyzers.base import Analyzer, TextItem

THRESHOLD = 0.5

_NOISE = re.compile(
    r"```.*?```|`[^`\n]*`"  # code
    r"|^\s*>.*$"  # quoted lines (e-mail / Markdown quotes): someone else's words
    r"|<[@#!][^>\s]*>"  # Slack/Discord mentions
    r"|\b(?:https?://|www\.)\S+",  # URLs: their "?" starts a query string
    re.DOTALL | re.MULTILINE,
)

_OPENERS = {
    # en
    "who", "what", "when", "where", "why", "how", "which", "whose", "whom", "is", "are", "am",
    "was", "were", "do", "does", "did", "can", "could", "would", "will", "should", "shall",
    "may", "might", "has", "have", "isn't", "aren't", "don't", "doesn't", "didn't", "can't",
    "won't", "wouldn't", "shouldn't", "anyone", "anybody", "somebody", "someone",
    # es
    "qué", "cómo", "cuándo", "dónde", "quién", "quiénes", "cuál", "cuáles", "cuánto",
    "cuánta", "cuántos", "alguien", "puedo", "puedes", "podría", "sabéis", "sabes",
    # fr
    "qui", "quoi", "quand", "où", "comment", "pourquoi", "quel", "quelle", "quels", "quelles",
    "est-ce", "quelqu'un", "peut-on", "pouvez-vous", "savez-vous",
    # de
    "wer", "wann", "wo", "warum", "wieso", "weshalb", "wie", "welche", "welcher",
    "welches", "kann", "könnte", "kennt", "weiß", "gibt",
    # pt
    "quem", "qual", "quais", "quando", "onde", "porque", "alguém", "posso", "pode", "como",
    # it
    "chi", "cosa", "dove", "perché", "quale", "quali", "qualcuno", "potete",
    # nl
    "wat", "wanneer", "waar", "waarom", "hoe", "welke", "weet", "iemand",
}  # fmt: skip

# A plea for an answer, with or without a question mark.
_ASKING = re.compile(
    r"\b(?:does|do|did|would|could|can|has|have)\s+(?:any\s?one|any\s?body|some\s?one|you)\s+"
    r"(?:know|knows|have|has|tried|seen|help|recommend|suggest)"
    r"|\bhow\s+(?:do|can|should|could|would)\s+(?:i|we|you|one)\b"
    r"|\bany\s+(?:idea|ideas|clue|tips?|suggestions?|advice|pointers|thoughts|recommendations?)\b"
    r"|\b(?:is|are)\s+there\s+(?:a|an|any)\b"
    r"|\b(?:i\s+need|need\s+some|please|pls|plz)\s+help\b|\bhelp\s+(?:me|us|needed|please)\b"
    r"|\bi(?:'m|\s+am)?\s+(?:wondering|not\s+sure\s+(?:how|what|why|whether|if))\b"
    r"|\bi\s+wonder\s+(?:if|whether|how|why|what)\b"
    r"|\b(?:alguien|algu[eé]m|quelqu'un|jemand|qualcuno|iemand)\s+(?:sabe|sait|wei[sß]s?"
    r"|sa|weet|conoce|conhece|conna[iî]t|kennt|ha|hat|tiene|tem)\b"
    r"|\b(?:necesito|preciso|j'ai\s+besoin\s+d'|ich\s+brauche|ho\s+bisogno\s+di)\s*(?:ayuda|"
    r"ajuda|aide|hilfe|aiuto)\b",
    re.IGNORECASE,
)

# Opening the whole message with one of these asks even without "?" ("How to true a wheel").
_WH_WORDS = {
    "who", "what", "when", "where", "why", "how", "which", "qué", "cómo", "cuándo", "dónde",
    "por qué", "comment", "pourquoi", "où", "wie", "warum", "wo", "wieso", "como", "onde",
    "porquê", "perché", "dove", "hoe", "waarom", "waar",
    # an English auxiliary first is a yes/no question ("Is it OK to ..."); not "do", which
    # opens instructions as often as questions
    "is", "are", "can", "does", "should", "could", "would", "will", "did", "has", "have",
}  # fmt: skip

# An exclamation that opens like a question ("What a stupid bug!", "¡Qué bien!", "Quelle
# journée", "Wie schön") asks nothing unless it carries a question mark.
_EXCLAMATIVE = re.compile(
    r"^\W*(?:what\s+an?\b|such\s+an?\b|how\s+(?:cool|nice|great|awesome|sad|weird|strange|"
    r"annoying|frustrating|lovely|beautiful|amazing|funny|sweet|kind)\b|qu[eé]\s+(?:bien|bueno|"
    r"buena|bonito|bonita|pena|raro|lindo|linda|legal|chato)\b|quel(?:le)?s?\s|wie\s+(?:sch[oö]n|"
    r"toll|cool|bl[oö]d|nervig)\b|che\s+(?:bello|bella|peccato)\b)",
    re.IGNORECASE,
)

_SENTENCE_START = re.compile(r"(?:^|[.!?。\uff01\uff1f¿\n]\s*)([^\W\d_][\w'-]*)", re.UNICODE)


def question_score(text: str) -> float:
    own = _NOISE.sub(" ", text).strip()
    if not own:
        return 0.0
    marks = own.count("?") + own.count("\uff1f") + own.count("¿")
    core = re.sub(r"[?\uff1f¿!\uff01]", "", own).strip()
    # CJK writes a whole question without spaces: judge its shortness in characters.
    # (max() compares code points in C: some character at or above U+3040, the kana.)
    longest = 4 if core and max(core) >= "\u3040" else 14
    if len(core.split()) <= 2 and len(core) <= longest:
        # "?", "what?!", "really??": a reaction, not a question waiting for an answer
        return 0.15 if marks else 0.0
    score = 0.0
    if marks:
        score += 0.6
        if own.rstrip(" \t\n)!.\"'»:;-").endswith(("?", "\uff1f")):
            score += 0.15
    openers = [m.group(1).lower() for m in _SENTENCE_START.finditer(own)]
    exclaiming = not marks and _EXCLAMATIVE.search(own) is not None
    # An exclamation's opening word asks nothing; a later sentence still may.
    asking_openers = openers[1:] if exclaiming else openers
    if any(word in _OPENERS for word in asking_openers):
        score += 0.25
        if not exclaiming and openers[0] in _WH_WORDS and own[:1].isalpha():
            score += 0.25
    if _ASKING.search(own):
        score += 0.5
    return min(score, 1.0)


class QuestionAnalyzer(Analyzer):
    name: ClassVar[str] = "question"
    version: ClassVar[str] = "2"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for item in items:
            score = round(question_score(item.text), 4)
            results.append({"is_question": score >= THRESHOLD, "score": score})
        return results
