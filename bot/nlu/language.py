"""Which of the configured languages a message is in: cheap word-list scoring, never a guess
across every language in the world (that is slow and wrong on short messages)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.nlu.lexicon import WORDS, normalize_languages
from bot.nlu.text import fold

# Frequent words that say little about dates but a lot about the language.
_COMMON = {
    "en": "the a an and is are i you it to of for my me we with this that what when can could"
    " would please thanks thank yes no hi hello want need like book booking appointment"
    " time do does have any there how much at on in tomorrow today morning afternoon",
    "es": "el la los las y es son yo tu usted de para mi me con que cuando puedo puede quiero"
    " necesito gracias hola si no cita reserva hora por favor buenos buenas dias tardes"
    " manana hoy una un esta estoy tengo hay como",
    "de": "der die das und ist sind ich du sie es zu fur mein mir wir mit was wann kann konnen"
    " mochte bitte danke ja nein hallo termin buchen uhr heute morgen guten tag haben"
    " gibt wie nicht ein eine einen",
    "fr": "le la les et est sont je tu vous il de pour mon ma moi nous avec que quand puis peux"
    " voudrais veux merci oui non bonjour salut rendez vous reserver heure demain"
    " aujourd'hui un une ce cette c'est pas j'ai",
    "pt": "o a os as e sao eu tu voce de para meu minha me com que quando posso pode quero"
    " preciso obrigado obrigada sim nao ola oi marcacao reserva hora amanha hoje um uma"
    " esta estou tenho ha como por favor",
}
_VOCAB = {
    lang: frozenset(_COMMON[lang].split())
    | frozenset(w for w, canon in WORDS[lang].items() if canon != "_" and not canon.isdigit() and len(w) > 2)
    for lang in _COMMON
}
# Letters that only some of the languages use.
_LETTERS = {"es": "ñ¿¡", "de": "ßäöü", "fr": "èêëàâçœîûù", "pt": "ãõçâêô"}
_WORD = re.compile(r"[a-z']+")


def language_scores(text: str, candidates: Sequence[str]) -> dict[str, float]:
    """Evidence for each of `candidates` (ISO codes) in `text`: its frequent and date words, and half a
    point per letter only it uses. Empty when no candidate is supported."""
    langs = [lang for lang in normalize_languages(candidates) if lang in _VOCAB] if candidates else []
    if not isinstance(text, str) or not langs:
        return {}
    sample = text[:2000]
    words = _WORD.findall(fold(sample))
    lowered = sample.lower()
    return {
        lang: float(sum(1 for w in words if w in _VOCAB[lang]))
        + 0.5 * sum(1 for ch in _LETTERS.get(lang, "") if ch in lowered)
        for lang in langs
    }


def detect_language(text: str, candidates: Sequence[str]) -> str | None:
    """The most likely of `candidates` (ISO codes), or None when the text gives no evidence.
    Ties go to the earlier candidate, so list the tenant's default first."""
    best: str | None = None
    best_score = 0.0
    for lang, score in language_scores(text, candidates).items():
        if score > best_score:
            best, best_score = lang, score
    return best


_ADDRESS = re.compile(r"\S+@\S+|\bhttps?://\S+|\bwww\.\S+")
_NAME_LIKE = re.compile(  # a capitalised word inside a sentence, or one followed by another: names
    r"(?<=[^\s.!?¿¡])(\s+)[A-ZÀ-Ý][a-zà-ÿ'-]+|\b[A-ZÀ-Ý][a-zà-ÿ'-]+(?=\s+[A-ZÀ-Ý][a-zà-ÿ'-]+)"
)


def written_in(text: str, current: str, candidates: Sequence[str], *, first: bool) -> str | None:
    """The language a customer's message is in, when it says so clearly enough to speak it: ``current``
    when that is what the evidence says; another one, on their first message, when its evidence
    outweighs ``current``'s; later, only on a clear switch (two words more), so a "gracias" or a name in
    an English chat changes nothing. None when the message says nothing either way ("ok", "3pm")."""
    text = _ADDRESS.sub(" ", text)  # an email or a link says nothing about the language spoken
    if not first:  # later, names ("Marco Santos") are not evidence: only the words around them are
        text = _NAME_LIKE.sub(" ", text)
    scores = language_scores(text, [current, *candidates])
    if not scores:
        return None
    best = max(scores, key=lambda lang: scores[lang])  # ties: the earlier, so ``current`` wins them
    if best == current:
        return current if scores[best] >= 1 else None
    margin = scores[best] - scores.get(current, 0.0)
    if scores[best] < (1 if first else 2) or margin < (0.5 if first else 2):
        return None
    return best
