"""interpret_yes_no in every supported language."""

from __future__ import annotations

import pytest

from bot.nlu import interpret_yes_no

CASES = [
    ("yes", "en", True),
    ("Yes!", "en", True),
    ("yep", "en", True),
    ("yeah", "en", True),
    ("sure", "en", True),
    ("ok", "en", True),
    ("OK thanks", "en", True),
    ("sounds good", "en", True),
    ("perfect", "en", True),
    ("go ahead", "en", True),
    ("book it", "en", True),
    ("👍", "en", True),
    ("yes please, book it", "en", True),
    ("that works for me", "en", True),
    ("no problem", "en", True),
    ("yes but at 4 if possible", "en", True),
    ("no", "en", False),
    ("nope", "en", False),
    ("nah", "en", False),
    ("not really", "en", False),
    ("no thanks", "en", False),
    ("no, the 5th", "en", False),
    ("that's not right", "en", False),
    ("👎", "en", False),
    ("not sure", "en", None),
    ("maybe", "en", None),
    ("I don't know", "en", None),
    ("what time is it?", "en", None),
    ("", "en", None),
    ("I would like to know more about the services you offer", "en", None),
    ("sí, perfecto", "es", True),
    ("ça marche", "fr", True),
    ("tá bom", "pt", True),
    ("ja, passt", "de", True),
    ("Y", "en", True),
    ("N", "en", False),
    ("sí", "es", True),
    ("si", "es", True),
    ("claro", "es", True),
    ("vale", "es", True),
    ("de acuerdo", "es", True),
    ("no", "es", False),
    ("no gracias", "es", False),
    ("no sé", "es", None),
    ("ja", "de", True),
    ("genau", "de", True),
    ("gerne", "de", True),
    ("passt", "de", True),
    ("nein", "de", False),
    ("nein danke", "de", False),
    ("vielleicht", "de", None),
    ("oui", "fr", True),
    ("d'accord", "fr", True),
    ("parfait", "fr", True),
    ("non", "fr", False),
    ("non merci", "fr", False),
    ("peut-être", "fr", None),
    ("sim", "pt", True),
    ("claro", "pt", True),
    ("pode ser", "pt", True),
    ("não", "pt", False),
    ("nao obrigado", "pt", False),
    ("não sei", "pt", None),
]


@pytest.mark.parametrize(("text", "language", "expected"), CASES)
def test_yes_no(text: str, language: str, expected: bool | None) -> None:
    assert interpret_yes_no(text, (language,)) is expected


def test_other_languages_not_used_unless_configured() -> None:
    assert interpret_yes_no("ja", ("en",)) is None
    assert interpret_yes_no("ja", ("en", "de")) is True
