"""Match a reply against the options just offered: `match_choice`.

Tried in order: "any"/"whoever" (the `is_any` option); an explicit position ("#2", "option 2",
"the second one", "2nd"); a bare number, which is a position when it is within the list (SMS
shows numbered lists, and replying with the number is what customers are told to do) and
otherwise an hour ("3" among two slots picks the 15:00 one); a time ("3pm", "15:00", "half past
3", "a las 3"); then the label, with typos ("hair cut" -> "Haircut", "ana" -> "Ana Silva"). Anything less
than a confident, unique match is None: asking again is cheaper than booking the wrong thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from bot.nlu.lexicon import normalize_languages
from bot.nlu.text import fold, wordset
from bot.nlu.times import resolve_hour
from bot.nlu.when import interpret_when


@dataclass(frozen=True)
class Choice:
    label: str
    time: time | None = None
    is_any: bool = False  # "any practitioner", "first available"


_ANY = {
    "en": r"any|anyone|anybody|any one|whoever|whichever|either|no preference|don't care|dont care"
    r"|doesn't matter|doesnt matter|does not matter|don't mind|dont mind|i don't mind"
    r"|i dont mind|whatever|first available|any of them|anyone is fine|any is fine"
    r"|either is fine|either one|no pref|not fussy|surprise me|you choose|you pick"
    r"|up to you|any available|anyone available",
    "es": r"cualquiera|cualquier|me da igual|da igual|sin preferencia|el que sea|la que sea"
    r"|quien sea|lo que sea|el primero disponible|cualquiera esta bien|indiferente",
    "de": r"egal|ist egal|ist mir egal|mir egal|beliebig|irgendwer|irgendwen|irgendeiner"
    r"|irgendeine|keine praferenz|wer auch immer|jeder|jede|der erste freie|gleich",
    "fr": r"n'importe|n'importe qui|n'importe lequel|n'importe laquelle|peu importe|indifferent"
    r"|pas de preference|qui vous voulez|le premier disponible|ca m'est egal|m'est egal",
    "pt": r"qualquer|qualquer um|qualquer uma|tanto faz|sem preferencia|quem for|o primeiro"
    r" disponivel|indiferente|qualquer pessoa|pode ser qualquer",
}
_ORDINALS = {
    "en": [
        "first|1st|one|earliest|soonest",
        "second|2nd|two",
        "third|3rd|three",
        "fourth|4th|four",
        "fifth|5th|five",
        "sixth|6th|six",
        "seventh|7th|seven",
        "eighth|8th|eight",
        "ninth|9th|nine",
        "tenth|10th|ten",
    ],
    "es": [
        "primero|primera|primer|1o|1a|uno|una",
        "segundo|segunda|2o|2a|dos",
        "tercero|tercera|tercer|3o|3a|tres",
        "cuarto|cuarta|cuatro",
        "quinto|quinta|cinco",
        "sexto|sexta|seis",
        "septimo|septima|siete",
        "octavo|octava|ocho",
        "noveno|novena|nueve",
        "decimo|decima|diez",
    ],
    "de": [
        "erste|ersten|erster|erstes|eins",
        "zweite|zweiten|zweiter|zweites|zwei",
        "dritte|dritten|dritter|drittes|drei",
        "vierte|vierten|vierter|viertes|vier",
        "funfte|funften|funfter|funftes|funf",
        "sechste|sechsten|sechs",
        "siebte|siebten|sieben",
        "achte|achten|acht",
        "neunte|neunten|neun",
        "zehnte|zehnten|zehn",
    ],
    "fr": [
        "premier|premiere|1er|1re|un|une",
        "deuxieme|second|seconde|2e|2eme|deux",
        "troisieme|3e|3eme|trois",
        "quatrieme|4e|quatre",
        "cinquieme|5e|cinq",
        "sixieme|6e|six",
        "septieme|7e|sept",
        "huitieme|8e|huit",
        "neuvieme|9e|neuf",
        "dixieme|10e|dix",
    ],
    "pt": [
        "primeiro|primeira|1o|1a|um|uma",
        "segundo|segunda|2o|2a|dois|duas",
        "terceiro|terceira|3o|3a|tres",
        "quarto|quarta|quatro",
        "quinto|quinta|cinco",
        "sexto|sexta|seis",
        "setimo|setima|sete",
        "oitavo|oitava|oito",
        "nono|nona|nove",
        "decimo|decima|dez",
    ],
}
_LAST = r"last|last one|the last|ultimo|ultima|letzte|letzten|letzter|dernier|derniere"
# Words around a choice that carry no meaning for matching.
_FILLER = wordset(
    "the a an one ones option choice number no nr num please pls i'd id i would like want take"
    " go with for me let's lets book it that this please thanks ok okay yes el la los las lo"
    " opcion opción numero quiero por favor der die das den option nummer bitte ich nehme"
    " möchte mochte le la les l' option numéro numero je veux prends o a os as opção opcao"
    " quero eu obrigado obrigada is fine good great works work perfect sounds suits then so"
)
_CLEAN = re.compile(r"[^\w\s:']+")
_EXPLICIT_NUMBER = re.compile(
    r"^(?:#|n[ºo°]\.?\s*|no\.\s*|nr\.?\s*|number\s+|num\s+|option\s+"
    r"|opcion\s+|opção\s+|opcao\s+|nummer\s+|numero\s+|choice\s+)"
    r"(\d{1,3})$"
)
_BARE_NUMBER = re.compile(r"^(\d{1,3})[.)]?$")
_LABEL_THRESHOLD = 80.0
_LABEL_MARGIN = 8.0


def _alternation(parts: list[str]) -> str:
    return "|".join(sorted({p for part in parts for p in part.split("|")}, key=len, reverse=True))


def _build(languages: tuple[str, ...]) -> tuple[re.Pattern[str], list[re.Pattern[str]], re.Pattern[str]]:
    any_rx = re.compile(
        r"^(?:(?:i'll take |i will take |give me |con |mit |avec |com |with )?"
        r"(?:" + _alternation([_ANY[lang] for lang in languages]) + r"))"
        r"(?: (?:one|person|time|slot|is fine|will do|works|please|por favor"
        r"|bitte|s'il vous plait|svp)){0,4}$"
    )
    ordinals: list[re.Pattern[str]] = []
    for index in range(10):
        words = _alternation([_ORDINALS[lang][index] for lang in languages])
        ordinals.append(
            re.compile(
                r"^(?:the |el |la |der |die |das |le |o |a )?(?:"
                + words
                + r")(?: (?:one|option|choice|opcion|opção|opcao|option"
                r"|slot|time|uno|una|eins))?$"
            )
        )
    last = re.compile(r"^(?:the )?(?:" + _LAST + r")(?: one| option)?$")
    return any_rx, ordinals, last


_TABLES = {
    langs: _build(langs)
    for langs in [
        ("en",),
        *(((lang, "en")) for lang in ("es", "de", "fr", "pt")),
        ("en", "es", "de", "fr", "pt"),
    ]
}


def _tables(languages: Sequence[str]) -> tuple[re.Pattern[str], list[re.Pattern[str]], re.Pattern[str]]:
    langs = normalize_languages(languages)
    if len(langs) > 1:
        return _TABLES[("en", "es", "de", "fr", "pt")]
    return _TABLES[(langs[0],) if langs[0] == "en" else (langs[0], "en")]


def _strip_filler(text: str) -> str:
    return " ".join(w for w in text.split() if w not in _FILLER)


def match_choice(
    text: str,
    options: Sequence[Choice],
    languages: Sequence[str] = ("en",),
    now: datetime | None = None,
    tz: str | ZoneInfo | None = None,
) -> int | None:
    """The index of the option the reply picks, or None when no option is a confident match."""
    if not isinstance(text, str) or not options:
        return None
    folded = " ".join(_CLEAN.sub(" ", fold(text[:300])).split())
    if not folded:
        return None
    any_rx, ordinals, last = _tables(languages)
    core = _strip_filler(folded) or folded

    if any_rx.match(folded) or any_rx.match(core):
        anys = [i for i, o in enumerate(options) if o.is_any]
        return anys[0] if len(anys) == 1 else None

    position = _position(folded, core, ordinals, last, len(options))
    if position is not None:
        return position

    timed = [o.time for o in options]
    bare = _BARE_NUMBER.match(folded)
    if bare is not None:
        found = _bare_number(int(bare.group(1)), timed)
        # a number that is neither a position nor an hour may still be in a label ("60 min")
        return found if found is not None else _by_label(folded, core, options)
    if any(t is not None for t in timed):
        asked = _asked_time(text, languages, now, tz)
        if asked is not None:
            hits = [i for i, t in enumerate(timed) if t is not None and (t.hour, t.minute) == asked]
            if len(hits) == 1:
                return hits[0]
            if not hits:  # a time none of the options has: "9:15 AM" is not "11:15 AM" with a typo
                return None
    bare = _BARE_NUMBER.match(core)  # "2 please"
    if bare is not None:
        found = _bare_number(int(bare.group(1)), timed)
        if found is not None:
            return found
    return _by_label(folded, core, options)


_FIRST_ONE = re.compile(
    r"(?:\b(?:the )?(?:earliest|soonest|first|1st) (?:one|option|slot|time)\b"
    r"|^(?:(?:the|le|la|el|o|a|der|die|das) )?(?:first|premier|premiere|primero|primera|primeiro|primeira"
    r"|erste|ersten|earliest)\b"
    r"(?! (?:of|de|do|da|del|week|semana|semaine|woche|thing|available|free|open|possible)\b))"
)


def position(text: str, count: int, languages: Sequence[str] = ("en",)) -> int | None:
    """The option a reply names by its place ("the first one is fine", "option 2", "the last"), if any."""
    folded = " ".join(_CLEAN.sub(" ", fold(text[:300])).split())
    bare = _BARE_NUMBER.match(folded)
    if bare is not None:  # on a numbered list a bare number is a place, not an hour
        return int(bare.group(1)) - 1 if 1 <= int(bare.group(1)) <= count else None
    _, ordinals, last = _tables(languages)
    found = _position(folded, _strip_filler(folded) or folded, ordinals, last, count) if folded else None
    if found is None and count and _FIRST_ONE.search(folded):
        return 0  # "oh great, I'll take the earliest one", "le premier, c'est parfait"
    return found


def _position(
    folded: str, core: str, ordinals: list[re.Pattern[str]], last: re.Pattern[str], count: int
) -> int | None:
    explicit = _EXPLICIT_NUMBER.match(folded) or _EXPLICIT_NUMBER.match(core)
    if explicit is not None:
        n = int(explicit.group(1))
        return n - 1 if 1 <= n <= count else None
    for candidate in (folded, core):
        for index, pattern in enumerate(ordinals):
            if index < count and pattern.match(candidate):
                return index
        if last.match(candidate):
            return count - 1
    return None


def _bare_number(n: int, times: list[time | None]) -> int | None:
    """ "2": the second option; beyond the list, "3" is the option at 15:00 (or 03:00)."""
    if 1 <= n <= len(times):
        return n - 1
    hour = resolve_hour(n, 0, None, None) if 1 <= n <= 23 else None
    by_time = [
        i
        for i, t in enumerate(times)
        if t is not None and hour is not None and (t.hour, t.minute) in ((hour.hour, 0), (n, 0))
    ]
    if len(by_time) == 1:
        return by_time[0]
    return None


def _asked_time(
    text: str, languages: Sequence[str], now: datetime | None, tz: str | ZoneInfo | None
) -> tuple[int, int] | None:
    """The time of day the reply names ("3pm", "15:00", "half past 3"), if it names one."""
    when = interpret_when(text, now or datetime(2000, 1, 3, 0, 0), tz, languages)
    return None if when.time is None else (when.time.hour, when.time.minute)


def _label_score(folded: str, core: str, label: str) -> float:
    target = " ".join(_CLEAN.sub(" ", fold(label)).split())
    if not target:
        return 0.0
    squeezed = core.replace(" ", "")
    scores = [fuzz.ratio(squeezed, target.replace(" ", "")), fuzz.ratio(core, target)]
    target_words = [w for w in target.split() if len(w) > 1]
    core_words = [w for w in core.split() if len(w) > 2 or w.isdigit()]
    if core_words and target_words:
        # every word the customer wrote should be in the label, give or take a typo
        per_word = [
            max(97.0 if len(w) > 3 and t.startswith(w) else fuzz.ratio(w, t) for t in target_words)
            for w in core_words
        ]
        if min(per_word) >= 75:
            scores.append(min(per_word) * 0.97)
        # a long reply mentioning the label: "the haircut please"
        if len(target_words) <= len(core.split()):
            scores.append(
                fuzz.token_set_ratio(core, target) * 0.95 if set(target.split()) <= set(core.split()) else 0.0
            )
    return max(scores)


def _by_label(folded: str, core: str, options: Sequence[Choice]) -> int | None:
    if len(core.replace(" ", "")) < 2:
        return None
    scores = [_label_score(folded, core, o.label) for o in options]
    ranked = sorted(range(len(options)), key=lambda i: scores[i], reverse=True)
    best = ranked[0]
    if scores[best] < _LABEL_THRESHOLD:
        return None
    if len(ranked) > 1 and scores[best] - scores[ranked[1]] < _LABEL_MARGIN:
        return None
    return best
