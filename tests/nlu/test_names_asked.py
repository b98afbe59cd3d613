"""A name that doubles as a date word is a name when the bot has just asked for one."""

from __future__ import annotations

import pytest

from bot.nlu.contact import extract_name


@pytest.mark.parametrize("name", ["Sam", "Sam Smith", "May", "June Carter", "Domingo Perez", "Marcus"])
def test_asked_for_a_name(name: str) -> None:
    assert extract_name(name, asked=True) == name


@pytest.mark.parametrize("text", ["friday", "tomorrow at 3", "pat@example.com", "x" * 300])
def test_unprompted_dates_and_junk_are_not_names(text: str) -> None:
    assert extract_name(text) is None
