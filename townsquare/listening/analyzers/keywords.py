"""Up to five keywords per message: informative words and two-word phrases, lower-cased.

Deliberately simple and fast: tokenise, drop stop words (small lists for en/es/fr/de/pt/it/nl
written here; the English one also holds chat's reactions and interjections, which are how
people answer, not what they talk about), numbers and very short tokens, then score each
remaining unigram and bigram by its frequency in the message with a bonus for appearing early.
Links, mentions, code and emoji short codes are removed first. Topics per period and per
member are built on these later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

from townsquare.listening.analyzers.base import Analyzer, TextItem

MAX_KEYWORDS = 5
MIN_LENGTH = 3

_NOISE = re.compile(
    r"```.*?```|`[^`\n]*`"
    r"|<[@#!][^>\s]*>"
    r"|\b(?:https?://|www\.)\S+|\S+@\S+\.\w+|@[\w.-]+"
    r"|&\w+;"  # HTML entities left in exported text
    # Emoji short codes as Slack, GitHub and Discord export them (":simple_smile:", ":+1:");
    # not a time ("10:30:45"), not C++'s "std::vector".
    r"|(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])",
    re.DOTALL | re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_](?:[\w'\u2019-]*[^\W_])?")
# A phrase does not run across punctuation that ends a clause.
_CLAUSE = re.compile(r"[.,;:!?()\[\]{}\"“”«»…。、\uff01\uff1f\n]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """a about above after again against all also am an and any are aren't as at be because
        been before being below between both but by can can't cannot could couldn't did didn't
        do does doesn't doing don't down during each few for from further get got had hadn't has
        hasn't have haven't having he he'd he'll he's her here here's hers herself him himself
        his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's like
        me more most much mustn't my myself no nor not now of off on once only or other ought
        our ours ourselves out over own really same shan't she she'd she'll she's should
        shouldn't so some such than that that's the their theirs them themselves then there
        there's these they they'd they'll they're they've this those through to too under until
        up us very was wasn't we we'd we'll we're we've were weren't what what's when when's
        where where's which while who who's whom why why's will with won't would wouldn't yes
        you you'd you'll you're you've your yours yourself yourselves thanks thank please hi
        hello hey ok okay yeah yep lol one two also still even well know think want need going
        make use used using way thing things something anything anyone someone would could
        should maybe sure good great new see look looks lot lots etc via im dont cant ive
        wow haha hahaha lmao omg btw fyi imo imho cool nice awesome amazing fantastic
        interesting excited glad guys folks everyone everybody anybody might let try tried
        trying looking went sounds hope soon sorry morning evening afternoon details works
        worked working today yesterday tomorrow tonight day days hour hours minute minutes
        week weeks month months year years ago last next later already always never often
        sometimes guess usually probably actually basically seem seems seemed getting gives
        give gave find found possible must fine bit little kind pretty quite everything
        nothing"""
    ),
    "es": _words(
        """a al algo algunas algunos ante antes como con contra cual cuando de del desde donde
        durante e el ella ellas ellos en entre era es esa esas ese eso esos esta estas este esto
        estos estoy fue fueron ha han hay hasta la las le les lo los mas más me mi mis mucho muy
        nada ni no nos nosotros o os otra otro para pero poco por porque que qué quien se sea
        ser si sí sin sobre son su sus también tan tanto te tengo tiene todo todos tu tus un una
        uno unos y ya yo gracias hola bien está están puede hacer"""
    ),
    "fr": _words(
        """a à au aux avec avoir c ce ceci cela celle ces cet cette chez comme dans de des du elle
        elles en est et été être eu il ils je j'ai la le les leur leurs lui ma mais me même mes
        moi mon ne nos notre nous on ou où par pas peu plus pour qu que qui sa sans se ses si
        son sont sur ta te tes toi ton tous tout très tu un une vos votre vous y merci bonjour
        salut fait faire peut c'est n'est il y"""
    ),
    "de": _words(
        """aber alle als also am an auch auf aus bei bin bis bist da dann das dass dein deine dem
        den der des die dies diese dieser dir doch du durch ein eine einem einen einer er es für
        hab habe hat hatte ich ihr im in ist ja jetzt kann kein keine man mein meine mich mir
        mit nach nicht noch nur oder schon sehr sein sich sie sind so über um und uns unser von
        vor war was weil wenn wer wie wir wird zu zum zur danke hallo gibt gut mal"""
    ),
    "pt": _words(
        """a ao aos as até com como da das de dele dela do dos e é ela ele eles em entre era essa
        esse esta está estão este eu foi há isso isto já la lhe mais mas me meu minha muito na
        nas nem no nos não o os ou para pela pelo por porque qual quando que se sem ser seu sua
        são também te tem ter tu um uma você vocês obrigado obrigada olá bem pode fazer"""
    ),
    "it": _words(
        """a ad al alla alle anche che chi ci come con da dal dalla dei del della di e è ed gli ha
        hanno ho i il in io la le lei lo loro lui ma mi mio ne nei nel nella no non noi o per
        perché più quando quello questa questo se si sono su sua suo ti tu tutto un una uno voi
        grazie ciao bene può fare"""
    ),
    "nl": _words(
        """aan al als bij dan dat de der deze die dit doch door een en er had heb heeft het hij hoe
        ik in is je kan maar me met mij mijn na naar niet nog nu of om onder ons ook op over te
        tot u uit van veel voor was wat we wel wie wij worden zal ze zich zijn zo dank bedankt
        hallo goed"""
    ),
}


@cache
def _all_stop_words() -> frozenset[str]:
    # Unknown language: every list applies (a keyword that is a stop word anywhere is a poor one).
    return frozenset().union(*STOP_WORDS.values())


def _stop_words(language: str | None) -> frozenset[str]:
    if language is None or language not in STOP_WORDS:
        return _all_stop_words()
    # English words are everywhere in community chat, whatever the main language.
    return STOP_WORDS[language] | STOP_WORDS["en"]


def _useful(token: str, stop: frozenset[str]) -> bool:
    if token in stop or (len(token) < MIN_LENGTH and token.isascii()):
        return False
    return not token.replace("'", "").isdigit()


def extract_keywords(text: str, language: str | None = None) -> list[str]:
    stop = _stop_words(language)
    text = _NOISE.sub(" . ", text).lower()
    scores: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    position = 0
    for clause in _CLAUSE.split(text):
        tokens = _TOKEN.findall(clause)
        previous: str | None = None
        for token in tokens:
            position += 1
            if not _useful(token, stop):
                previous = None
                continue
            # Earlier words weigh a little more: people state the subject first.
            weight = 1.0 + 1.0 / (1 + position / 10)
            scores[token] = scores.get(token, 0.0) + weight
            first_seen.setdefault(token, position)
            if previous is not None:
                phrase = f"{previous} {token}"
                # A phrase that recurs is a better keyword than its words apart.
                scores[phrase] = scores.get(phrase, 0.0) + weight * 1.2
                first_seen.setdefault(phrase, position)
            previous = token
    ranked = sorted(scores, key=lambda k: (-scores[k], first_seen[k], k))
    chosen: list[str] = []
    for candidate in ranked:
        # Skip a word already covered by a chosen phrase, and a phrase whose words are chosen.
        words = candidate.split()
        if any(candidate in c.split() for c in chosen if " " in c):
            continue
        if len(words) == 2 and all(w in chosen for w in words):
            continue
        chosen.append(candidate)
        if len(chosen) == MAX_KEYWORDS:
            break
    return chosen


class KeywordAnalyzer(Analyzer):
    name: ClassVar[str] = "keywords"
    # 2: emoji short codes dropped; chat's reactions ("cool", "awesome"), interjections and
    # filler verbs ("try", "looking") are no topic. 3: nor words of time ("yesterday", "last
    # week"), hedges ("probably", "guess") and more filler verbs ("found", "getting").
    version: ClassVar[str] = "3"

    def analyze(self, items: Sequence[TextItem]) -> list[dict[str, Any]]:
        return [{"keywords": extract_keywords(item.text, item.language)} for item in items]
