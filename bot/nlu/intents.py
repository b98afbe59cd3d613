"""What a customer wants done with a booking they have, in plain words: `booking_intent`.

"please cancel it", "can I push it to 4pm?", "could we do Wednesday at 12 instead?", "did that go
through?", and "never mind" (nothing to do after all). The commands module knows the fixed phrases
("cancel my booking"); these are the ways people say it in a conversation that has a booking in it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum

from bot.nlu.lexicon import normalize_languages
from bot.nlu.text import fold

__all__ = ["BookingIntent", "booking_intent", "shift_of"]


class BookingIntent(StrEnum):
    CANCEL = "cancel"
    MOVE = "move"
    CHECK = "check"
    NEVER_MIND = "never_mind"


_CANCEL = {
    "en": r"cancel\w*|call (?:it )?off|can'?t (?:make|come|do) it|won'?t (?:make|be able)"
    r"|not going to make it|drop (?:it|the booking)",
    "es": r"cancel\w*|anul\w*|no (?:puedo|podre) ir",
    "de": r"storn\w*|absag\w*|sage? \w* ab|cancel\w*|kann nicht kommen",
    "fr": r"annul\w*|decommand\w*|ne (?:peux|pourrai) pas venir",
    "pt": r"cancel\w*|desmarc\w*|anul\w*|nao (?:posso|vou poder) ir",
}
_MOVE = {
    "en": r"move|moving|push|reschedul\w*|change (?:it|the time|the day|that)|make it|bring (?:it )?forward"
    r"|postpone|instead|switch (?:it|to)|shift|rebook",
    "es": r"mover|cambiar|pasar(?:la|lo)?|aplazar|adelantar|atrasar|reprogramar|en vez|en lugar",
    "de": r"verschieb\w*|verleg\w*|umbuch\w*|andern|stattdessen|lieber",
    "fr": r"deplac\w*|decal\w*|report\w*|changer|avancer|plutot|a la place",
    "pt": r"mudar|passar|remarcar|adiar|antecipar|trocar|em vez",
}
_CHECK = {
    "en": r"did (?:that|it|the booking) go through|am i (?:booked|all set|confirmed)|all set|just checking"
    r"|is (?:it|that|my booking) (?:confirmed|booked)|did you book|was (?:it|that) booked",
    "es": r"(?:esta|quedo) (?:confirmad|reservad)\w*|ya (?:esta|tengo)",
    "de": r"hat (?:das|es) geklappt|ist (?:das|es) (?:gebucht|bestatigt)|bin ich gebucht",
    "fr": r"c'est (?:bon|confirme|reserve)|est ce (?:confirme|reserve)|ca a marche",
    "pt": r"(?:ficou|esta) (?:marcad|confirmad)\w*|ja (?:esta|ficou)",
}


_NEVER_MIND = {
    "en": r"never ?mind|ignore (?:me|that|this)|forget (?:it|that|about it)|scratch that|no need|not anymore"
    r"|i'?ll (?:get|be) (?:back )?in touch|i'?ll let you know|i'?ll (?:come|check) back"
    r"|closer to the (?:date|time)"
    r"|don'?t (?:book|bother)|leave it",
    "es": r"olvidalo|olvida(?:lo)?|da igual|no importa|dejalo|ya no",
    "de": r"vergiss es|egal|schon gut|nicht mehr notig|lass (?:es|mal)",
    "fr": r"laisse tomber|oublie[sz]?(?: ca)?|pas grave|peu importe|c'est pas la peine",
    "pt": r"deixa(?: estar| pra la)?|esquece|nao importa|ja nao",
}


def _compile(table: dict[str, str]) -> dict[str, re.Pattern[str]]:
    return {lang: re.compile(r"(?<![\w'])(?:" + pattern + r")(?![\w'])") for lang, pattern in table.items()}


_PATTERNS = (
    (BookingIntent.NEVER_MIND, _compile(_NEVER_MIND)),
    (BookingIntent.CANCEL, _compile(_CANCEL)),
    (BookingIntent.CHECK, _compile(_CHECK)),
)
_MOVE_PATTERNS = _compile(_MOVE)


def booking_intent(text: str, languages: Sequence[str] = ("en",)) -> BookingIntent | None:
    """Cancel, move or check an existing booking, or None when the message says none of them."""
    folded = fold(text[:500]).replace("’", "'")
    langs = normalize_languages([*languages, "en"])
    for intent, patterns in _PATTERNS:
        if any(patterns[lang].search(folded) for lang in langs if lang in patterns):
            return intent
    if any(_MOVE_PATTERNS[lang].search(folded) for lang in langs if lang in _MOVE_PATTERNS):
        return BookingIntent.MOVE
    return None


_AMOUNT = {
    "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "half an": 0.5, "half a": 0.5,
    "una": 1.0, "un": 1.0, "dos": 2.0, "eine": 1.0, "einen": 1.0, "zwei": 2.0, "une": 1.0, "deux": 2.0,
    "uma": 1.0, "um": 1.0, "duas": 2.0, "dois": 2.0, "media": 0.5, "meia": 0.5, "halbe": 0.5,
}  # fmt: skip
_SHIFT = re.compile(
    r"(?<![\w'])(?P<n>\d+(?:[.,]5)?|half an?|an?|one|two|three|una|un|dos|eine|einen|zwei|une|deux|uma"
    r"|um|duas|dois|media|meia|halbe)\s+"
    r"(?P<unit>hours?|hrs?|minutes|mins|days?|horas?|stunden?|minuten|tage?|heures?|jours?|dias?)\s+"
    r"(?P<dir>later|earlier|sooner|mas tarde|mas temprano|antes|spater|fruher|plus tard|plus tot"
    r"|mais tarde|mais cedo)(?![\w'])"
)


def shift_of(text: str) -> timedelta | None:
    """How far a customer asks to move a booking, when they say it as an amount: "an hour later",
    "30 minutes earlier", "un jour plus tard", "eine Stunde früher". None when they don't."""
    m = _SHIFT.search(fold(text[:500]).replace("’", "'"))
    if m is None:
        return None
    n = m["n"].replace(",", ".")
    amount = float(n) if n[0].isdigit() else _AMOUNT.get(n, 1.0)
    unit = m["unit"]
    if unit.startswith(("min",)):
        step = timedelta(minutes=amount)
    elif unit.startswith(("day", "dia", "tag", "jour")):
        step = timedelta(days=amount)
    else:
        step = timedelta(hours=amount)
    earlier = m["dir"] in ("earlier", "sooner", "mas temprano", "antes", "fruher", "plus tot", "mais cedo")
    return -step if earlier else step
