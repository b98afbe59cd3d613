"""Date and time vocabulary per language, mapped to one canonical English-like token set.

Every language is translated word by word into the same canonical tokens (`wd4` = Friday, `mo3` =
March, `tomorrow`, `at`, `afternoon`...), so one set of rules in `dates` and `times` serves all of
them. Keys are folded (lowercase, no accents; see `text.fold`). A value may hold several canonical
tokens separated by spaces; `_` means "a word that is not about dates or times".

Weak forms (`wwd5` for "sat", `wmo5` for "may") are words that are also ordinary words; the rules
accept them only where the context makes them a date.

Layout: one module per language (`en`, `es`, `de`, `fr`, `pt`) holds its WORDS, PHRASES and
FUZZY_TARGETS. Month and weekday names come from CLDR (`_cldr`); each language module keeps by hand
only what CLDR does not give (slang, typos, other abbreviations, plurals) and says which CLDR names
are weak or left out. This module joins the languages into read-only tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.nlu.lexicon import de, en, es, fr, pt

__all__ = [
    "FUZZY_TARGETS",
    "MAX_PHRASE",
    "PHRASES",
    "SUPPORTED_LANGUAGES",
    "WORDS",
    "normalize_languages",
]

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr", "pt")

# In SUPPORTED_LANGUAGES order: callers list `*WORDS` as language candidates, earlier ones winning ties.
WORDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(en.WORDS),
        "es": MappingProxyType(es.WORDS),
        "de": MappingProxyType(de.WORDS),
        "fr": MappingProxyType(fr.WORDS),
        "pt": MappingProxyType(pt.WORDS),
    }
)

PHRASES: Mapping[str, Mapping[tuple[str, ...], str]] = MappingProxyType(
    {
        "en": MappingProxyType(en.PHRASES),
        "es": MappingProxyType(es.PHRASES),
        "de": MappingProxyType(de.PHRASES),
        "fr": MappingProxyType(fr.PHRASES),
        "pt": MappingProxyType(pt.PHRASES),
    }
)

# Longest phrase per language, so the tokenizer knows how far to look ahead.
MAX_PHRASE: Mapping[str, int] = MappingProxyType(
    {lang: max((len(k) for k in table), default=1) for lang, table in PHRASES.items()}
)

# Words long enough to be recognised through a typo (edit distance), per language. Short words
# and words that are also common English words ("august" vs "augusta") are left out on purpose.
FUZZY_TARGETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "en": en.FUZZY_TARGETS,
        "es": es.FUZZY_TARGETS,
        "de": de.FUZZY_TARGETS,
        "fr": fr.FUZZY_TARGETS,
        "pt": pt.FUZZY_TARGETS,
    }
)


def normalize_languages(languages: object) -> tuple[str, ...]:
    """The supported languages among `languages`, in order; English when none is supported."""
    out: list[str] = []
    if isinstance(languages, str):
        languages = (languages,)
    if isinstance(languages, (list, tuple)):
        for lang in languages:
            if isinstance(lang, str):
                code = lang.strip().lower().replace("_", "-").split("-")[0]
                if code in WORDS and code not in out:
                    out.append(code)
    return tuple(out) or ("en",)
