"""Property tests: any text up to 10,000 characters returns quickly and never raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.nlu import (
    Choice,
    detect_command,
    extract_name,
    extract_request,
    interpret_when,
    interpret_yes_no,
    match_choice,
)

# Pieces that exercise the rules (numbers, dates, times, punctuation) mixed with raw unicode.
_PIECES = [
    "tomorrow",
    "at",
    "3",
    "12",
    "pm",
    "am",
    "the",
    "5th",
    "of",
    "march",
    "next",
    "friday",
    "week",
    "between",
    "and",
    "after",
    "before",
    "quarter",
    "past",
    "half",
    "to",
    "in",
    "days",
    "morning",
    "@",
    "-",
    ",",
    ".",
    "/",
    ":",
    "l'",
    "a",
    "1:30",
    "2019-03-05",
    "3/5",
    "05.03.",
    "mañana",
    "um",
    "Uhr",
    "halb",
    "às",
    "15h30",
    "0930",
    "twenty",
    "first",
    "o'clock",
    "not",
    "my",
    "bookings",
    "time zone",
    "is",
    "Berlin",
    "yes",
    "no",
    "I'm",
    "Pat",
    "with",
    "Ana",
    "haircut",
    "9999999",
    "ymd",
    "wd4",
    "mo3",
    "§",
    "\u0301",
    "ß",
    "😀",
    "\n",
    "  ",
]
TEXTS = st.one_of(
    st.text(max_size=10_000),
    st.lists(st.sampled_from(_PIECES), max_size=2_000).map(lambda xs: " ".join(xs)[:10_000]),
    st.lists(st.sampled_from(_PIECES), max_size=3_000).map(lambda xs: "".join(xs)[:10_000]),
)
NOW = datetime(2026, 3, 4, 10, 0)
OPTIONS = [Choice("Haircut"), Choice("15:00", clock(15)), Choice("Any", is_any=True)]
LIMIT = 1.0  # seconds per call, far above the typical ~0.1 ms, and safe on a loaded CI machine
SETTINGS = settings(
    max_examples=100,
    deadline=timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _bounded(call: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = call()
    assert time.perf_counter() - start < LIMIT
    return result


@SETTINGS
@given(TEXTS)
def test_interpret_when(text: str) -> None:
    result = _bounded(lambda: interpret_when(text, NOW, "Europe/Lisbon", ("en", "es", "de", "fr", "pt")))
    assert result is not None


@SETTINGS
@given(TEXTS)
def test_match_choice(text: str) -> None:
    result = _bounded(lambda: match_choice(text, OPTIONS, ("en", "de"), NOW, "UTC"))
    assert result is None or 0 <= result < len(OPTIONS)  # type: ignore[operator]


@SETTINGS
@given(TEXTS)
def test_detect_command(text: str) -> None:
    _bounded(lambda: detect_command(text, ("en", "es")))


@SETTINGS
@given(TEXTS)
def test_extract_request(text: str) -> None:
    _bounded(lambda: extract_request(text, ["Haircut", "Sports massage"], ["Ana Silva"], NOW))


@SETTINGS
@given(TEXTS)
def test_interpret_yes_no(text: str) -> None:
    assert _bounded(lambda: interpret_yes_no(text, ("en", "pt"))) in (True, False, None)


@SETTINGS
@given(TEXTS)
def test_extract_name(text: str) -> None:
    name = _bounded(lambda: extract_name(text))
    assert name is None or (isinstance(name, str) and name and not any(c.isdigit() for c in name))


@settings(max_examples=200, deadline=timedelta(seconds=5), database=None)
@given(
    st.sampled_from(
        [
            "tomorrow at 3",
            "next friday",
            "in 3 days",
            "the 31st",
            "in 2 hours",
            "dec 31",
            "a week from today",
            "last monday",
            "next month on the 5th",
            "15:30",
        ]
    ),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.sampled_from([None, "UTC", "Pacific/Kiritimati", "America/Adak", "Not/AZone"]),
)
def test_interpret_when_any_now(text: str, now: datetime, tz: str | None) -> None:
    """Any reference time, even at the edges of the calendar, in any zone: never raises."""
    interpret_when(text, now, tz)
