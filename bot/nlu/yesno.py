"""Yes or no, in every supported language: `interpret_yes_no`.

The answer is read from how the message starts ("yes, but at 4" is yes; "no, the 5th" is no);
a short message may carry it anywhere ("that's perfect thanks"). Hesitation ("not sure",
"maybe") and messages that say both are None, so the dialog asks again instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.nlu.lexicon import normalize_languages
from bot.nlu.text import fold

_UNSURE = {
    "en": "not sure|im not sure|i'm not sure|unsure|maybe|perhaps|dunno|i don't know|i dont know"
    "|idk|not yet|let me think|hmm|hm|no idea|possibly|depends",
    "es": "no se|no estoy seguro|no estoy segura|quizas|quiza|tal vez|a lo mejor|depende",
    "de": "weiss nicht|ich weiss nicht|nicht sicher|vielleicht|mal sehen|kommt drauf an",
    "fr": "je ne sais pas|sais pas|pas sur|pas sure|peut etre|je sais pas|ca depend",
    "pt": "nao sei|nao tenho certeza|talvez|depende|se calhar",
}
_YES = {
    "en": "yes|yess|yes please|yep|yup|yeah|yea|ya|yah|yas|y|sure|sure thing|ok|okay|okey|k|kk"
    "|alright|all right|sounds good|sounds great|sounds perfect|perfect|great|good|fine"
    "|go ahead|go for it|book it|book|confirm|confirmed|correct|right|that's right"
    "|thats right|that is right|absolutely|definitely|certainly|of course|please do|do it"
    "|works|that works|works for me|that's fine|thats fine|that's great|that's perfect"
    "|thats perfect|yes that's right|affirmative|indeed|exactly|lovely|cool|awesome"
    "|deal|agreed|true|yes it is|let's do it|lets do it|i do|please|that'd be great"
    "|that would be great|no problem|no worries|why not",
    "es": "si|sii|claro|claro que si|vale|dale|de acuerdo|perfecto|correcto|por supuesto|bueno"
    "|esta bien|muy bien|genial|confirmo|confirmar|hazlo|adelante|exacto|ok|sip|seguro",
    "de": "ja|jawohl|jap|jo|genau|gerne|gern|klar|na klar|passt|stimmt|richtig|einverstanden"
    "|in ordnung|perfekt|super|okay|ok|bestatigen|sicher|auf jeden fall|sehr gut|gut"
    "|mach das|machen wir|jep",
    "fr": "oui|ouais|ouaip|d'accord|dacc|dac|daccord|ok|parfait|bien sur|volontiers|exact"
    "|exactement|c'est bon|cest bon|ca marche|ca me va|tres bien|bien|entendu|certainement"
    "|absolument|confirme|confirmer|vas y|allez y|super|genial|carrement|si",
    "pt": "sim|claro|com certeza|certo|pode ser|pode|beleza|perfeito|isso|isso mesmo|otimo"
    "|esta bem|ta bem|ta|ok|combinado|confirmo|confirmar|correto|exato|fechado|bora"
    "|vamos|sem duvida|boa|s",
}
_NO = {
    "en": "no|nope|nah|na|n|no thanks|no thank you|not really|never|never mind|nevermind"
    "|don't|dont|do not|not now|no way|negative|wrong|incorrect|not that|cancel that"
    "|not quite|not at all|nothing|no it's not|no it isnt|i don't think so|i dont think so",
    "es": "no|no gracias|para nada|nunca|incorrecto|mejor no|de ninguna manera|nop",
    "de": "nein|ne|nee|noe|nicht|auf keinen fall|lieber nicht|falsch|nein danke|keineswegs",
    "fr": "non|non merci|pas du tout|jamais|pas vraiment|faux|nan|nope|surtout pas",
    "pt": "nao|nao obrigado|nao obrigada|nunca|de jeito nenhum|errado|negativo|nem pensar",
}
_YES_EMOJI = ("👍", "👌", "✅", "✔", "🆗", "🙆", "💯", "🤝")
_NO_EMOJI = ("👎", "❌", "✖", "🙅", "⛔", "🚫")


def _phrase_rx(table: dict[str, str], languages: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted({w for lang in languages for w in table[lang].split("|")}, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w'])")


def _tables(languages: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return (_phrase_rx(_UNSURE, languages), _phrase_rx(_YES, languages), _phrase_rx(_NO, languages))


_ALL = ("en", "es", "de", "fr", "pt")
# Built at import for each single language (with English) and for all of them.
_COMPILED: dict[tuple[str, ...], tuple[re.Pattern[str], ...]] = {
    **{
        (lang,) if lang == "en" else (lang, "en"): _tables((lang,) if lang == "en" else (lang, "en"))
        for lang in _ALL
    },
    _ALL: _tables(_ALL),
}
_CLEAN = re.compile(r"[^\w\s']+")
_SHORT = 5  # words; a longer message must start with its answer


_STRETCHED = re.compile(r"([a-z])\1{2,}")


def interpret_yes_no(text: str, languages: Sequence[str] = ("en",)) -> bool | None:
    """True for yes, False for no, None when the message is neither (or both, or unsure)."""
    if not isinstance(text, str):
        return None
    text = text.strip()[:500]
    if not text:
        return None
    has_yes_emoji = any(e in text for e in _YES_EMOJI)
    has_no_emoji = any(e in text for e in _NO_EMOJI)
    langs = normalize_languages(languages)
    key = (langs[0],) if langs[0] == "en" else (langs[0], "en")
    unsure, yes, no = _COMPILED[key] if len(langs) == 1 else _COMPILED[_ALL]
    folded = " ".join(_CLEAN.sub(" ", fold(text)).split())
    folded = _STRETCHED.sub(r"\1", folded)  # "yesss", "okkk", "nooooo"
    if not folded:
        return (
            True
            if has_yes_emoji and not has_no_emoji
            else (False if has_no_emoji and not has_yes_emoji else None)
        )
    if unsure.search(folded):
        return None
    # The answer at the start: the longest phrase that begins the message.
    y = yes.match(folded)
    n = no.match(folded)
    if y and n:
        # "no problem" is yes, "no" is no: the longer phrase decides.
        return len(y.group()) > len(n.group()) if len(y.group()) != len(n.group()) else None
    if y:
        return True
    if n:
        return False
    if len(folded.split()) > _SHORT:
        return None
    said_yes = has_yes_emoji
    said_no = bool(no.search(folded)) or has_no_emoji
    for m in yes.finditer(folded):
        if folded[: m.start()].split()[-1:] in (["not"], ["nicht"], ["pas"], ["nao"], ["no"]):
            said_no = True  # "not good", "pas bien"
        else:
            said_yes = True
    if said_yes and not said_no:
        return True
    if said_no and not said_yes:
        return False
    return None
