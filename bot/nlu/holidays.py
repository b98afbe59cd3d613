"""Holidays as dates, in five languages: "Christmas Eve", "Nochevieja", "Heiligabend", "la Toussaint",
"Natal", "Easter Monday", "Thanksgiving".

`with_holidays` rewrites a holiday's name into the ISO date it names (the next one, today included),
before the message is read; the date rules then treat it like any other date ("christmas eve at 3").
Pure: a function of the folded text and today.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, timedelta

__all__ = ["with_holidays"]


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (2 * e + 2 * i - h - k + 32) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _fixed(month: int, day: int) -> Callable[[int], date]:
    return lambda year: date(year, month, day)


def _from_easter(days: int) -> Callable[[int], date]:
    return lambda year: _easter(year) + timedelta(days=days)


def _thanksgiving(year: int) -> date:
    """The fourth Thursday of November (the United States')."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


# Folded names (lowercase, no accents) -> the holiday's date in a given year. Longer names first, so
# "christmas eve" is not read as "christmas".
_HOLIDAYS: Mapping[str, Callable[[int], date]] = {
    name: when
    for names, when in (
        (
            "christmas eve|xmas eve|nochebuena|heiligabend|heiliger abend|veille de noel|reveillon de noel"
            "|vespera de natal|vesperas de natal|noite de natal|consoada",
            _fixed(12, 24),
        ),
        (
            # "Noel" and "Natal" alone may be a name or a place: only with the words around them
            "christmas day|christmas|xmas|dia de navidad|navidad|erster weihnachtstag|weihnachten"
            "|jour de noel|a noel|pour noel|dia de natal|no natal|o natal|para o natal",
            _fixed(12, 25),
        ),
        ("boxing day|zweiter weihnachtstag|san esteban|saint etienne", _fixed(12, 26)),
        (
            "new year's eve|new years eve|nye|nochevieja|silvester|saint sylvestre|reveillon du nouvel an"
            "|vespera de ano novo|passagem de ano|fim de ano",
            _fixed(12, 31),
        ),
        (
            "new year's day|new years day|new year|ano nuevo|neujahr|jour de l'an|nouvel an|dia de ano novo"
            "|ano novo",
            _fixed(1, 1),
        ),
        ("epiphany|dia de reyes|reyes magos|dreikonigstag|epiphanie|dia de reis", _fixed(1, 6)),
        ("valentine's day|valentines day|san valentin|valentinstag|saint valentin", _fixed(2, 14)),
        ("halloween", _fixed(10, 31)),
        (
            "all saints' day|all saints day|todos los santos|allerheiligen|toussaint|dia de todos os santos",
            _fixed(11, 1),
        ),
        (
            "labour day|labor day|dia del trabajo|tag der arbeit|fete du travail|dia do trabalhador",
            _fixed(5, 1),
        ),
        ("assumption day|dia de la asuncion|maria himmelfahrt|assomption|dia da assuncao", _fixed(8, 15)),
        (
            "good friday|viernes santo|karfreitag|vendredi saint|sexta-feira santa|sexta feira santa",
            _from_easter(-2),
        ),
        (
            "easter monday|lunes de pascua|ostermontag|lundi de paques|segunda-feira de pascoa",
            _from_easter(1),
        ),
        (
            "easter sunday|easter|domingo de pascua|pascua|ostersonntag|ostern|paques|domingo de pascoa"
            "|pascoa",
            _from_easter(0),
        ),
        ("thanksgiving day|thanksgiving", _thanksgiving),
    )
    for name in names.split("|")
}
_NAMES = re.compile(
    r"(?<![\w'])(?:the )?(?P<name>"
    + "|".join(re.escape(n) for n in sorted(_HOLIDAYS, key=len, reverse=True))
    + r")(?![\w'])"
)


def _next(name: str, today: date) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            day = _HOLIDAYS[name](year)
        except ValueError:
            return None
        if day >= today:
            return day
    return None


def with_holidays(folded: str, today: date) -> str:
    """``folded`` with each holiday's name replaced by its next date, ISO-written ("2026-12-24")."""
    if not any(c.isalpha() for c in folded):
        return folded

    def iso(m: re.Match[str]) -> str:
        day = _next(m["name"], today)
        return day.isoformat() if day is not None else m.group()

    return _NAMES.sub(iso, folded)
