"""match_choice: by position, label (with typos), time, or "any"; None when unsure."""

from __future__ import annotations

from datetime import time

import pytest

from bot.nlu import Choice, match_choice
from tests.nlu.conftest import NOW, TZ

SERVICES = [Choice("Haircut"), Choice("Hair colouring"), Choice("Beard trim")]
PEOPLE = [Choice("Ana Silva"), Choice("Bruno Costa"), Choice("Any practitioner", is_any=True)]
SLOTS = [Choice("14:00", time(14)), Choice("15:00", time(15)), Choice("16:30", time(16, 30))]
DURATIONS = [Choice("30 min massage"), Choice("60 min massage"), Choice("Facial")]
TWO_SLOTS = [Choice("09:00", time(9)), Choice("15:00", time(15))]

CASES = [
    # position
    ("2", SERVICES, "en", 1),
    ("2.", SERVICES, "en", 1),
    ("#2", SERVICES, "en", 1),
    ("option 2", SERVICES, "en", 1),
    ("number 3", SERVICES, "en", 2),
    ("2nd", SERVICES, "en", 1),
    ("the second one", SERVICES, "en", 1),
    ("second", SERVICES, "en", 1),
    ("the first", SERVICES, "en", 0),
    ("the last one", SERVICES, "en", 2),
    ("4", SERVICES, "en", None),
    ("#7", SERVICES, "en", None),
    ("la segunda", SERVICES, "es", 1),
    ("el primero", SERVICES, "es", 0),
    ("die zweite", SERVICES, "de", 1),
    ("die erste", SERVICES, "de", 0),
    ("le deuxième", SERVICES, "fr", 1),
    ("la troisième", SERVICES, "fr", 2),
    ("a segunda", SERVICES, "pt", 1),
    ("o terceiro", SERVICES, "pt", 2),
    # label, with typos
    ("Haircut", SERVICES, "en", 0),
    ("hair cut", SERVICES, "en", 0),
    ("hiarcut", SERVICES, "en", 0),
    ("the haircut please", SERVICES, "en", 0),
    ("I would like the haircut", SERVICES, "en", 0),
    ("beard", SERVICES, "en", 2),
    ("colouring", SERVICES, "en", 1),
    ("hair", SERVICES, "en", None),  # Haircut or Hair colouring: ask again
    ("ana", PEOPLE, "en", 0),
    ("Anna", PEOPLE, "en", 0),
    ("with Bruno please", PEOPLE, "en", 1),
    ("bruno costa", PEOPLE, "en", 1),
    # any
    ("any", PEOPLE, "en", 2),
    ("whoever", PEOPLE, "en", 2),
    ("anyone", PEOPLE, "en", 2),
    ("no preference", PEOPLE, "en", 2),
    ("I don't mind", PEOPLE, "en", 2),
    ("cualquiera", PEOPLE, "es", 2),
    ("me da igual", PEOPLE, "es", 2),
    ("egal", PEOPLE, "de", 2),
    ("n'importe qui", PEOPLE, "fr", 2),
    ("tanto faz", PEOPLE, "pt", 2),
    ("any", SERVICES, "en", None),  # nothing to pick "any" from
    # time
    ("3pm", SLOTS, "en", 1),
    ("15:00", SLOTS, "en", 1),
    ("at 3", SLOTS, "en", 1),
    ("half past 4", SLOTS, "en", 2),
    ("4:30pm", SLOTS, "en", 2),
    ("2", SLOTS, "en", 1),  # within the list: a position
    ("3", TWO_SLOTS, "en", 1),  # beyond the list: an hour, 15:00
    ("9", TWO_SLOTS, "en", 0),
    ("5pm", SLOTS, "en", None),
    ("a las 3", SLOTS, "es", 1),
    ("um 15 Uhr", SLOTS, "de", 1),
    ("à 16h30", SLOTS, "fr", 2),
    ("às 14h", SLOTS, "pt", 0),
    # numbers inside labels
    ("60", DURATIONS, "en", 1),
    ("the 60 min one", DURATIONS, "en", 1),
    ("2", DURATIONS, "en", 1),  # a position first
    ("massage", DURATIONS, "en", None),
    ("90", DURATIONS, "en", None),
    # garbage
    ("xyz", SERVICES, "en", None),
    ("asdfgh", SERVICES, "en", None),
    ("hello", SERVICES, "en", None),
    ("a", SERVICES, "en", None),
    ("", SERVICES, "en", None),
    ("?!", SERVICES, "en", None),
]


@pytest.mark.parametrize(("text", "options", "language", "expected"), CASES)
def test_match_choice(text: str, options: list[Choice], language: str, expected: int | None) -> None:
    assert match_choice(text, options, (language,), now=NOW, tz=TZ) == expected


def test_no_options() -> None:
    assert match_choice("1", []) is None


def test_choice_is_a_frozen_value() -> None:
    assert Choice("A") == Choice("A", None, False)
    with pytest.raises(AttributeError):
        Choice("A").label = "B"  # type: ignore[misc]
