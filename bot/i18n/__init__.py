"""Every text the bot says, keyed by language. English is complete; other languages fall back to it
key by key, so a missing translation shows English rather than failing.

One module per language (``en``, ``es``, ``de``, ``fr``, ``pt``), each a flat dict of key -> text.
A text keeps the English text's ``{placeholders}``; where it quotes what a customer can type, it
quotes words the bot understands in that language (``bot.nlu``). Texts only one channel shows are
prefixed with the channel (``sms_``, ``telegram_``), so every translation lives here.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import de, en, es, fr, pt

__all__ = ["LANGUAGES", "supported", "t"]

LANGUAGES: dict[str, dict[str, str]] = {
    "en": en.TEXTS,
    "es": es.TEXTS,
    "de": de.TEXTS,
    "fr": fr.TEXTS,
    "pt": pt.TEXTS,
}


def supported(language: str | None) -> str | None:
    """The catalog language for a platform code like ``es-419``, or None when we don't speak it."""
    if not language:
        return None
    code = language.lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def t(language: str, key: str, **values: Any) -> str:
    """The text for ``key`` in ``language`` (English when missing), formatted with ``values``."""
    template = LANGUAGES.get(language, en.TEXTS).get(key) or en.TEXTS[key]
    return template.format(**values) if values else template
