"""Text normalisation shared by every understanding module."""

from __future__ import annotations

import re
import unicodedata

# Quotes customers' keyboards produce; the SGD data even writes o"clock.
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "ß": "ss"})
_OCLOCK = re.compile(r"(?<![a-z])o\s*['\"]?\s*clock\b")  # also "3o'clock"
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lowercase, strip accents and normalise quotes, so "Mañana" and "manana" look alike."""
    text = text.translate(_QUOTES).lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _OCLOCK.sub(" oclock", text)
    return _SPACES.sub(" ", text).strip()


WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    """The folded words of a text (letters and digits), dropping punctuation."""
    return WORD_RE.findall(fold(text))


def wordset(text: str) -> frozenset[str]:
    """The space-separated words of a literal, as a set (keeps long word lists readable)."""
    return frozenset(text.split())
