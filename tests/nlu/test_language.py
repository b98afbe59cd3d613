"""detect_language, limited to the configured candidates."""

from __future__ import annotations

import pytest

from bot.nlu import detect_language

ALL = ["en", "es", "de", "fr", "pt"]
CASES = [
    ("I want to book a haircut tomorrow", ALL, "en"),
    ("hola, quiero una cita mañana", ALL, "es"),
    ("ich möchte einen Termin am Freitag", ALL, "de"),
    ("je voudrais un rendez-vous demain", ALL, "fr"),
    ("quero marcar para amanhã", ALL, "pt"),
    ("mañana", ALL, "es"),
    ("ok", ALL, None),
    ("12345", ALL, None),
    ("hola, quiero una cita mañana", ["en", "de"], None),
    ("Freitag", ["de", "en"], "de"),
    ("x", [], None),
]


@pytest.mark.parametrize(("text", "candidates", "expected"), CASES)
def test_detect_language(text: str, candidates: list[str], expected: str | None) -> None:
    assert detect_language(text, candidates) == expected
