"""The date and time vocabulary (`bot.nlu.lexicon`): CLDR's month and weekday names, the weak words,
and the hand-kept slang and typos, per language.

Month and weekday names are generated from CLDR, so these tests pin what the rules rely on: each
name's token, which short names stay weak or left out, and a few hand-kept words per language."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from babel.dates import get_day_names, get_month_names

from bot.nlu.lexicon import FUZZY_TARGETS, MAX_PHRASE, PHRASES, SUPPORTED_LANGUAGES, WORDS
from bot.nlu.lexicon._build import combine
from bot.nlu.lexicon._cldr import calendar_words
from bot.nlu.text import fold

_CONTEXTS: tuple[Literal["format", "stand-alone"], ...] = ("format", "stand-alone")
_WEAK = re.compile(r"w(?:wd|mo)\d+")

# Short CLDR names the tables read otherwise, and why.
_NOT_CLDR_READING = {
    ("es", "mar"): "wwd1",  # martes and marzo in CLDR: a weak Tuesday
    ("de", "so"): "_",  # the everyday word, never Sunday
    ("de", "mar"): None,  # stand-alone März; folds like "Mär"
}


def _cldr(width: Literal["wide", "abbreviated"], lang: str) -> list[tuple[str, str]]:
    """(folded name, expected token) for every month and weekday name CLDR has at `width`."""
    out: list[tuple[str, str]] = []
    for context in _CONTEXTS:
        months = get_month_names(width, context, lang)
        days = get_day_names(width, context, lang)
        out += [(fold(name).rstrip("."), f"mo{number}") for number, name in months.items()]
        out += [(fold(name).rstrip("."), f"wd{number}") for number, name in days.items()]
    return out


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_full_month_and_weekday_name_is_its_token(lang: str) -> None:
    for word, token in _cldr("wide", lang):
        assert WORDS[lang].get(word, "").lstrip("w") == token.lstrip("w"), (lang, word)
        # Only English "may" is a full name that is also an ordinary word.
        assert WORDS[lang][word] == token or (lang, word) == ("en", "may"), (lang, word)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_every_short_name_is_its_token_unless_read_otherwise(lang: str) -> None:
    for word, token in _cldr("abbreviated", lang):
        if (lang, word) in _NOT_CLDR_READING:
            assert WORDS[lang].get(word) == _NOT_CLDR_READING[lang, word], (lang, word)
        else:
            assert WORDS[lang][word] in (token, f"w{token}"), (lang, word)


@pytest.mark.parametrize(
    ("lang", "word", "expected"),
    [
        # Also ordinary words: accepted as dates only in a date's context.
        ("en", "sat", "wwd5"),
        ("en", "sun", "wwd6"),
        ("en", "wed", "wwd2"),
        ("en", "mo", "wwd0"),
        ("en", "may", "wmo5"),
        ("es", "mar", "wwd1"),
        ("de", "mo", "wwd0"),
        ("de", "di", "wwd1"),
        ("de", "mi", "wwd2"),
        ("de", "do", "wwd3"),
        ("de", "fr", "wwd4"),
        ("de", "sa", "wwd5"),
        ("fr", "mar", "wwd1"),
        ("fr", "mer", "wwd2"),
        # Read as dates outright, as they always have been.
        ("en", "mar", "mo3"),
        ("en", "march", "mo3"),
        ("en", "sept", "mo9"),
        ("es", "may", "mo5"),
        ("fr", "mars", "mo3"),
        ("fr", "mai", "mo5"),
        ("de", "mai", "mo5"),
        ("pt", "mar", "mo3"),
        ("pt", "mai", "mo5"),
        ("pt", "set", "mo9"),
        ("pt", "out", "mo10"),
        ("pt", "ter", "wd1"),
        ("pt", "sex", "wd4"),
        # Numbers that are also short month names: the month wins today ("sept" is 7, "dez" 10).
        ("fr", "sept", "mo9"),
        ("pt", "dez", "mo12"),
        ("de", "dez", "mo12"),
        # Never a date word.
        ("de", "so", "_"),
        ("es", "que", "_"),
        ("fr", "mon", "_"),
    ],
)
def test_ambiguous_words_keep_their_reading(lang: str, word: str, expected: str) -> None:
    assert WORDS[lang][word] == expected


@pytest.mark.parametrize(
    ("lang", "word", "expected"),
    [
        ("en", "tmrw", "tomorrow"),
        ("en", "2moro", "tomorrow"),
        ("en", "tonite", "tonight"),
        ("en", "wensday", "wd2"),
        ("en", "thurs", "wd3"),
        ("en", "fridays", "wd4"),
        ("en", "febuary", "mo2"),
        ("en", "arvo", "afternoon"),
        ("en", "wknd", "weekend"),
        ("en", "fith", "5th"),
        ("es", "mnn", "tomorrow"),
        ("es", "mier", "wd2"),
        ("es", "setiembre", "mo9"),
        ("es", "finde", "weekend"),
        ("es", "hs", "oclock"),
        ("de", "janner", "mo1"),
        ("de", "mrz", "mo3"),
        ("de", "sonnabend", "wd5"),
        ("de", "montags", "wd0"),
        ("de", "ubermorgen", "dayafter"),
        ("de", "halb", "dehalf"),
        ("fr", "fev", "mo2"),
        ("fr", "auj", "today"),
        ("fr", "we", "weekend"),
        ("fr", "1er", "1th"),
        ("fr", "aujourd'hui", "today"),
        ("pt", "segunda", "wd0"),
        ("pt", "sexta", "wd4"),
        ("pt", "segunda-feira", "wd0"),
        ("pt", "amanha", "tomorrow"),
        ("pt", "meiodia", "noon"),
        ("pt", "dezasseis", "16"),
    ],
)
def test_hand_kept_words_still_map(lang: str, word: str, expected: str) -> None:
    assert WORDS[lang][word] == expected


def test_every_table_covers_the_same_languages_in_order() -> None:
    # Callers list `*WORDS` as language candidates, the earlier winning a tie: English first.
    assert SUPPORTED_LANGUAGES == ("en", "es", "de", "fr", "pt")
    for table in (WORDS, PHRASES, MAX_PHRASE, FUZZY_TARGETS):
        assert tuple(table) == SUPPORTED_LANGUAGES


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_keys_are_folded_and_phrases_sized(lang: str) -> None:
    assert all(fold(word) == word for word in WORDS[lang])
    assert all(fold(w) == w for key in PHRASES[lang] for w in key)
    assert MAX_PHRASE[lang] == max(len(key) for key in PHRASES[lang])


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_typo_targets_are_strong_words_of_their_language(lang: str) -> None:
    for word in FUZZY_TARGETS[lang]:
        assert WORDS[lang][word] not in ("_", None) and not _WEAK.fullmatch(WORDS[lang][word]), word


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        WORDS["en"]["sat"] = "wd5"  # type: ignore[index]


def test_a_clash_between_parts_is_refused() -> None:
    assert combine({"mar": "mo3"}, {"mar": "mo3", "jan": "mo1"}) == {"mar": "mo3", "jan": "mo1"}
    with pytest.raises(ValueError, match="'dez'"):
        combine({"dez": "10"}, {"dez": "mo12"})


def test_a_cldr_name_of_two_things_must_be_decided_by_hand() -> None:
    with pytest.raises(ValueError, match="'mar'"):
        calendar_words("es")
    assert "mar" not in calendar_words("es", skip="mar")
    with pytest.raises(ValueError, match="not CLDR names"):
        calendar_words("en", weak="saturnday")
