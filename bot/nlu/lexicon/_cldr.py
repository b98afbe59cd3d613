"""Month and weekday names generated from CLDR (through Babel), so the regular forms of each
language are not typed by hand."""

from __future__ import annotations

from typing import Literal

from babel.dates import get_day_names, get_month_names

from bot.nlu.text import fold

# Wide ("lundi") and abbreviated ("lun.") names, as written in a date and standing alone (German
# has "Juni" in a date but "Jun" alone). The narrow width is single letters: never a date word.
_WIDTHS: tuple[Literal["wide", "abbreviated"], ...] = ("wide", "abbreviated")
_CONTEXTS: tuple[Literal["format", "stand-alone"], ...] = ("format", "stand-alone")


def calendar_words(locale: str, *, weak: str = "", skip: str = "") -> dict[str, str]:
    """Every CLDR month (`mo1`..`mo12`) and weekday (`wd0` Monday .. `wd6`) name of `locale`,
    folded, its trailing dot dropped.

    `weak` lists names that are also ordinary words (English "sat", "may"): they get the `w` prefix.
    `skip` lists names left to the language's hand-kept table: a name CLDR gives for two things
    (Spanish "mar" is martes and marzo) must be skipped, or this raises ValueError.
    """
    tokens: dict[str, set[str]] = {}
    for width in _WIDTHS:
        for context in _CONTEXTS:
            for month, name in get_month_names(width, context, locale).items():
                tokens.setdefault(_folded(name), set()).add(f"mo{month}")
            for day, name in get_day_names(width, context, locale).items():
                tokens.setdefault(_folded(name), set()).add(f"wd{day}")
    weak_words, skipped = set(weak.split()), set(skip.split())
    unknown = (weak_words | skipped) - tokens.keys()
    if unknown:
        raise ValueError(f"not CLDR names in {locale!r}: {sorted(unknown)}")
    out: dict[str, str] = {}
    for word, found in tokens.items():
        if word in skipped:
            continue
        if len(found) > 1:
            raise ValueError(f"{word!r} is {sorted(found)} in {locale!r}: skip it and decide by hand")
        out[word] = f"{'w' if word in weak_words else ''}{next(iter(found))}"
    return out


def _folded(name: str) -> str:
    return fold(name).rstrip(".")
