"""The catalogs: every language says everything English says, with the same placeholders, and the
phrases a text tells the customer to type are ones the bot understands in that language."""

from __future__ import annotations

import re
import string
from datetime import date, datetime

import pytest

from bot.i18n import LANGUAGES, supported, t
from bot.nlu.commands import detect_command
from bot.nlu.when import interpret_when
from bot.render import format_day

ENGLISH = LANGUAGES["en"]
OTHERS = [language for language in LANGUAGES if language != "en"]
NOW = datetime(2026, 6, 3, 10, 0)  # a Wednesday: "Friday" and "tomorrow" are ahead

_QUOTED = re.compile(r"[“„«]\s*([^“”»]+?)\s*[”“»]")
"""What a text quotes, in any language's quotes: “…” (English, Portuguese), „…“ (German), « … »."""


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _quoted(language: str, key: str) -> list[str]:
    return [q for q in _QUOTED.findall(LANGUAGES[language][key]) if "{" not in q]


def test_all_five_languages() -> None:
    assert set(LANGUAGES) == {"en", "es", "de", "fr", "pt"}


@pytest.mark.parametrize("language", OTHERS)
def test_every_english_key_is_translated(language: str) -> None:
    catalog = LANGUAGES[language]
    assert sorted(set(ENGLISH) - set(catalog)) == [], f"{language} lacks these"
    assert sorted(set(catalog) - set(ENGLISH)) == [], f"{language} has keys English does not"
    assert [key for key, text in catalog.items() if not text.strip()] == []


@pytest.mark.parametrize("language", OTHERS)
def test_translations_keep_the_placeholders(language: str) -> None:
    catalog = LANGUAGES[language]
    differ = {
        key: (sorted(_placeholders(text)), sorted(_placeholders(catalog[key])))
        for key, text in ENGLISH.items()
        if key in catalog and _placeholders(text) != _placeholders(catalog[key])
    }
    assert differ == {}, f"{language}: (English, {language}) placeholders differ"


@pytest.mark.parametrize(
    ("code", "language"),
    [("en", "en"), ("es-419", "es"), ("de-AT", "de"), ("fr_CA", "fr"), ("pt-BR", "pt"), ("PT", "pt")],
)
def test_supported_maps_platform_codes(code: str, language: str) -> None:
    assert supported(code) == language


@pytest.mark.parametrize("code", ["it", "nl-NL", "", None])
def test_supported_is_none_for_what_we_do_not_speak(code: str | None) -> None:
    assert supported(code) is None


def test_a_missing_translation_falls_back_to_english_key_by_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(LANGUAGES["de"], "greeting")
    assert t("de", "greeting", business="Salon") == "Hi! I'm the booking assistant for Salon."
    assert t("de", "offer", service="Massage") == "Freie Termine für Massage:"
    assert t("it", "expired") == ENGLISH["expired"], "an unknown language speaks English"


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("key", ["ask_when", "ask_when_move", "not_understood_when"])
def test_example_days_and_times_are_understood(language: str, key: str) -> None:
    examples = _quoted(language, key)
    assert examples, f"{language}:{key} quotes no example"
    for example in examples:
        when = interpret_when(example, NOW, "Europe/Lisbon", (language, "en"))
        assert not when.is_empty, f"{language}:{key}: {example!r} is not read as a day or time"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_help_example_is_understood(language: str) -> None:
    example = t(language, "help_example")
    assert not interpret_when(example, NOW, "Europe/Lisbon", (language, "en")).is_empty, example


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("key", ["help", "already_booked", "after_booking", "unavailable", "timezone_ask"])
def test_example_commands_are_understood(language: str, key: str) -> None:
    examples = _quoted(language, key)
    assert examples, f"{language}:{key} quotes no command"
    for example in examples:
        command = detect_command(example, (language, "en"))
        assert command is not None, f"{language}:{key}: {example!r} is not a command"
        assert command.kind not in ("timezone", "language") or command.argument, example


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_day_that_ends_in_a_dot_does_not_end_a_sentence(language: str) -> None:
    """Abbreviated months end in a dot in some languages ("1 déc.", "1 Dez."): no "1 déc.." then."""
    day = format_day(date(2026, 12, 1), language)
    for key, text in LANGUAGES[language].items():
        if "{day}" in text or "{days}" in text:
            said = text.replace("{day}", day).replace("{days}", f"{day}, {day}")
            assert ".." not in said, f"{language}:{key}: {said}"
