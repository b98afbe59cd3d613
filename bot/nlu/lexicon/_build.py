"""Helpers that keep the hand-written word tables short, and join a language's tables into one."""

from __future__ import annotations

from collections.abc import Mapping


def numbers(words: str, start: int = 0) -> dict[str, str]:
    """Number words in order from `start` ("zero one two ..."); a "-" skips a number."""
    return {w: str(i) for i, w in enumerate(words.split(), start) if w != "-"}


def ordinals(words: str, start: int = 1) -> dict[str, str]:
    """Ordinal words in order from `start` ("first second ..." -> "1th", "2th", ...)."""
    return {w: f"{i}th" for i, w in enumerate(words.split(), start) if w != "-"}


def weekdays(rows: Mapping[int, str]) -> dict[str, str]:
    """Words for each weekday (0 is Monday); a trailing "?" marks a weak word ("mo?" -> "wwd0")."""
    return _marked(rows, "wd")


def months(rows: Mapping[int, str]) -> dict[str, str]:
    """Words for each month (1 is January); a trailing "?" marks a weak word ("may?" -> "wmo5")."""
    return _marked(rows, "mo")


def _marked(rows: Mapping[int, str], token: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, row in rows.items():
        for word in row.split():
            weak = word.endswith("?")
            out[word.rstrip("?")] = f"{'w' if weak else ''}{token}{number}"
    return out


def combine(*parts: Mapping[str, str]) -> dict[str, str]:
    """One table from several, refusing a word that two parts map differently.

    Raised on rather than "last one wins" because the parts come from different places (CLDR and
    the hand-kept lists): a clash must be settled where the word is listed, in plain sight.
    """
    out: dict[str, str] = {}
    for part in parts:
        for word, canon in part.items():
            if out.setdefault(word, canon) != canon:
                raise ValueError(f"{word!r} is both {out[word]!r} and {canon!r}")
    return out
