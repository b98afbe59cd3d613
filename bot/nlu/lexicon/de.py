"""German date and time words (see the package docstring for the canonical tokens)."""

from __future__ import annotations

import re

from bot.nlu.lexicon._build import combine, months, numbers, ordinals, weekdays
from bot.nlu.lexicon._cldr import calendar_words

_UNITS = re.findall(r"\w+", "ein zwei drei vier funf sechs sieben acht neun")
_ORDINAL_STEMS = (
    re.findall(r"\w+", "erst zweit dritt viert funft sechst siebt acht neunt zehnt elft zwolft dreizehnt")
    + re.findall(r"\w+", "vierzehnt funfzehnt sechzehnt siebzehnt achtzehnt neunzehnt zwanzigst")
    + [f"{unit}undzwanzigst" for unit in _UNITS]
    + ["dreissigst", "einunddreissigst"]
)


WORDS: dict[str, str] = combine(
    # The two-letter weekdays are weak: too short to be a day outside a date. "so" is the everyday
    # word, never Sunday ("_" below). "mar", CLDR's stand-alone March, is left out as the table has
    # always had it: it folds like "Mär" (a tale), and März has "marz" and "mrz".
    calendar_words("de", weak="mo di mi do fr sa", skip="so mar"),
    # Calendar words CLDR does not give: plurals, typos and other abbreviations.
    weekdays(
        {
            0: "montags",
            1: "dienstags",
            2: "mittwochs",
            3: "donnerstags",
            4: "freitags",
            5: "sonnabend samstags",
            6: "sonntags",
        }
    ),
    months({1: "janner", 3: "mrz"}),
    {
        **numbers(
            "null eins zwei drei vier funf sechs sieben acht neun zehn elf zwolf dreizehn"
            " vierzehn funfzehn sechzehn siebzehn achtzehn neunzehn zwanzig"
        ),
        "ein": "1",
        "eine": "1",
        "dreissig": "30",
        "vierzig": "40",
        "funfzig": "50",
        # "fünfter Dezember", "am einundzwanzigsten": ordinal words, every ending
        **{
            stem + ending: f"{n}th"
            for n, stem in enumerate(_ORDINAL_STEMS, start=1)
            for ending in ("e", "er", "en", "es", "em")
        },
        **ordinals("ersten zweiten dritten vierten funften sechsten siebten achten neunten zehnten"),
        "erste": "1th",
        "erster": "1th",
        "heute": "today",
        "morgen": "tomorrow",
        "ubermorgen": "dayafter",
        "gestern": "yesterday",
        "nachsten": "next",
        "nachste": "next",
        "nachster": "next",
        "nachstes": "next",
        "kommenden": "coming",
        "kommende": "coming",
        "kommender": "coming",
        "diese": "this",
        "diesen": "this",
        "dieser": "this",
        "dieses": "this",
        "woche": "week",
        "wochen": "weeks",
        "wochenende": "weekend",
        "monat": "month",
        "monate": "months",
        "monaten": "months",
        "tag": "day",
        "tage": "days",
        "tagen": "days",
        "stunde": "hour",
        "stunden": "hours",
        "uhr": "oclock",
        "mittag": "noon",
        "mittags": "noon",
        "mitternacht": "midnight",
        "morgens": "morning",
        "vormittag": "morning",
        "vormittags": "morning",
        "fruh": "morning",
        "nachmittag": "afternoon",
        "nachmittags": "afternoon",
        "abend": "evening",
        "abends": "evening",
        "nacht": "night",
        "nachts": "night",
        "halb": "dehalf",
        "viertel": "quarter",
        "dreiviertel": "dequarter3",
        "nach": "after",
        "vor": "before",
        "bis": "until",
        "ab": "after",
        "zwischen": "between",
        "und": "and",
        "oder": "or",
        "gegen": "around",
        "etwa": "around",
        "ungefahr": "around",
        "um": "at",
        "am": "on",
        "an": "on",
        "im": "in",
        "in": "in",
        "der": "the",
        "die": "the",
        "das": "the",
        "den": "the",
        "dem": "the",
        "zum": "on the",
        "vom": "from the",
        "von": "from",
        "spater": "later",
        "fruher": "earlier",
        "jetzt": "now",
        "irgendwann": "any time",
        "personen": "unit",
        "karten": "unit",
        "tickets": "unit",
        "zu": "_",
        "so": "_",
    },
)

PHRASES: dict[tuple[str, ...], str] = {
    ("jeden", "morgen"): "_",
    ("jeden", "abend"): "_",
    ("jede", "nacht"): "_",
    ("guten", "morgen"): "_",
    ("guten", "tag"): "_",
    ("guten", "abend"): "_",
    ("gute", "nacht"): "_",
    ("heute", "abend"): "tonight",
    ("heute", "nacht"): "tonight",
    ("heute", "morgen"): "today morning",
    ("heute", "fruh"): "today morning",
    ("morgen", "fruh"): "tomorrow morning",
    ("am", "morgen"): "in morning",
    ("am", "vormittag"): "in morning",
    ("am", "nachmittag"): "in afternoon",
    ("am", "abend"): "in evening",
    ("in", "der", "nacht"): "in night",
    ("in", "der", "fruh"): "in morning",
    ("in", "einer", "woche"): "in 1 week",
    ("in", "einem", "monat"): "in 1 month",
    ("in", "zwei", "wochen"): "in 2 weeks",
    ("nicht", "vor"): "after",
    ("zu", "jeder", "zeit"): "any time",
}

FUZZY_TARGETS: tuple[str, ...] = (
    "donnerstag",
    "mittwoch",
    "dienstag",
    "samstag",
    "sonntag",
    "freitag",
    "ubermorgen",
    "nachmittag",
    "wochenende",
)
