"""GSM-7, the alphabet an SMS is cheap in, and how many segments a text costs. Pure functions.

A message whose every character is in the GSM 03.38 (3GPP TS 23.038) default alphabet travels in 7-bit
septets: 160 in one segment, 153 per segment once it is split (the rest carries the concatenation header).
One character outside it and the whole message goes as UCS-2: 70 per segment, 67 when split. So every
text the bot sends goes through :func:`to_gsm` first: letters lose the accents GSM-7 lacks (``á`` -> ``a``,
while ``é``, ``ñ``, ``ü``, ``¿`` and ``¡`` are GSM and stay), typographic punctuation becomes its plain form,
emoji go, and anything else becomes ``?``.

The extension table (``€ { } [ ] ~ ^ | \\``) is reached through an escape, so those characters cost two
septets each, and the pair is never split across segments.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

__all__ = [
    "BASIC",
    "EXTENSION",
    "SEGMENT_SEPTETS",
    "SINGLE_SEPTETS",
    "is_gsm",
    "segments",
    "septets",
    "to_gsm",
]

BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x1B (the escape to the extension table) is not a character of its own
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet: one septet each."""

EXTENSION: Final = frozenset("^{}\\[~]|€")
"""The extension table's printable characters (form feed left out): two septets each (escape + code)."""

SINGLE_SEPTETS: Final = 160
SEGMENT_SEPTETS: Final = 153
_SINGLE_UCS2: Final = 70
_SEGMENT_UCS2: Final = 67

_REPLACEMENTS: Final[dict[str, str]] = {
    # quotes and apostrophes
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'", "‹": "'", "›": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    # dashes, hyphens, minus
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    # dots and bullets
    "…": "...", "•": "-", "·": ".", "‧": ".",
    # spaces that are not spaces in GSM
    "\t": " ", "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ", "\u3000": " ",
    "\u2028": "\n", "\u2029": "\n", "\f": "\n",
    # letters NFKD does not take apart
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Œ": "OE", "œ": "oe",
    "Þ": "Th", "þ": "th", "ı": "i", "ĸ": "k", "Ŋ": "N", "ŋ": "n", "ſ": "s", "ẞ": "SS",
    # lower-case ç is not GSM-7 (only Ç is); plain c reads better than the capital
    "ç": "c",
    # symbols with a plain spelling
    "©": "(c)", "®": "(R)", "™": "TM", "×": "x", "÷": "/", "⁄": "/", "¢": "c", "°": "o",
    "‰": "o/oo", "№": "No",
}  # fmt: skip

_DROPPED_CATEGORIES: Final = frozenset({"Mn", "Me", "Cf", "Cc", "Co", "Cs", "Cn", "So", "Sk"})
"""Combining marks, format characters (zero-width joiners, variation selectors), controls, and
emoji-like symbols: removed rather than replaced."""

_UNKNOWN: Final = "?"
_SPACES_BEFORE_NEWLINE = re.compile(r"[ ]+\n")
_RUNS_OF_SPACES = re.compile(r"(?<=\S) {2,}")
_SPACES_AFTER_NEWLINE = re.compile(r"\n +")


def _plain(char: str) -> str | None:
    """One character as GSM-7 text: itself, a replacement, or None to drop it."""
    if char in BASIC or char in EXTENSION:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:
        kept = [c for c in decomposed if not unicodedata.combining(c)]
        if kept and all(c in BASIC or c in EXTENSION or c in _REPLACEMENTS for c in kept):
            return "".join(_REPLACEMENTS.get(c, c) for c in kept)
    if unicodedata.category(char) in _DROPPED_CATEGORIES:
        return None
    if char.isspace():
        return " "
    return _UNKNOWN


def to_gsm(text: str) -> str:
    """``text`` in the GSM-7 alphabet: transliterated where it can be, emoji dropped, the rest ``?``.

    Line breaks are normalised to ``\\n``; dropping a character never leaves double spaces behind.
    ``to_gsm(to_gsm(x)) == to_gsm(x)`` and ``is_gsm(to_gsm(x))`` for every string."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    unknown = dropped = False
    for char in text:
        plain = _plain(char)
        if plain is None:
            dropped = True
            continue
        if plain == _UNKNOWN and char != _UNKNOWN:
            if unknown:  # a run of unknown characters (a word in another script) is one "?"
                dropped = True
                continue
            unknown = True
        else:
            unknown = False
        out.append(plain)
    result = "".join(out)
    if dropped:  # tidy the spacing a dropped emoji leaves: "Hi 👋 there" -> "Hi there"
        result = _RUNS_OF_SPACES.sub(" ", result)
        result = _SPACES_BEFORE_NEWLINE.sub("\n", result)
        result = _SPACES_AFTER_NEWLINE.sub("\n", result).lstrip(" ")
    return result


def is_gsm(text: str) -> bool:
    """True when ``text`` travels as GSM-7 (default alphabet and extension table only)."""
    return all(c in BASIC or c in EXTENSION for c in text)


def septets(text: str) -> int:
    """Septets ``text`` takes in GSM-7 (extension characters count two). Only meaningful for GSM text."""
    return sum(2 if c in EXTENSION else 1 for c in text)


def segments(text: str) -> int:
    """How many SMS segments ``text`` is billed as: GSM-7 when it can be, else UCS-2.

    Split messages lose room to the concatenation header (153 septets or 67 UTF-16 units per segment),
    an extension character's escape pair stays in one segment, and so does a surrogate pair."""
    if not text:
        return 0
    if is_gsm(text):
        if septets(text) <= SINGLE_SEPTETS:
            return 1
        return _pack((2 if c in EXTENSION else 1 for c in text), SEGMENT_SEPTETS)
    units = [len(c.encode("utf-16-le")) // 2 for c in text]
    if sum(units) <= _SINGLE_UCS2:
        return 1
    return _pack(units, _SEGMENT_UCS2)


def _pack(widths: Iterable[int], room: int) -> int:
    count, used = 1, 0
    for width in widths:
        if used + width > room:
            count, used = count + 1, 0
        used += width
    return count
