"""The rule tables of `bot.nlu.times`: phrases per rule in several languages, and the phrases whose
reading depends on the order the rules are tried in (an earlier rule claims the span first)."""

from __future__ import annotations

import pytest

from bot.nlu.times import EXACT_RULES, WINDOW_RULES, TimeHit, find_times
from bot.nlu.tokens import tokenize


def _hit(canon: str, hit: TimeHit) -> str:
    if hit.time is not None:
        text = f"{hit.time:%H:%M}" + ("" if hit.strong else "?")  # "?": weak, may be a count
    else:
        assert hit.window is not None
        text = f"{hit.window[0]:%H:%M}-{hit.window[1]:%H:%M}"
    if hit.part:
        text += f" ({hit.part})"
    if (hit.start, hit.end) != (0, len(canon)):
        text += f" [{canon[hit.start : hit.end]}]"  # what the hit covers, when not all of it
    return text


def describe(language: str, text: str, context: str | None = None) -> str:
    """Exact times then windows, "; "-separated, each as the clock and any day part it carries."""
    canon = " ".join(tokenize(text, (language,), day_first=False))
    exact, windows = find_times(canon, context)
    return "; ".join(_hit(canon, hit) for hit in [*exact, *windows])


# Phrases each read whole by one rule, keyed by that rule's resolver.
BY_RULE: dict[str, list[tuple[str, str, str]]] = {
    "_minutes_past": [
        ("en", "half past 3", "15:30"),
        ("en", "20 past 4 in the evening", "16:20 (evening)"),
        ("de", "Viertel nach 3", "15:15"),
        ("es", "a las 3 y media", "15:30"),
        ("pt", "às 3 e meia", "15:30"),
        ("fr", "3 heures et quart", "15:15"),
    ],
    "_minutes_to": [
        ("en", "quarter to 5", "16:45"),
        ("de", "fünf vor 6", "17:55"),
        ("es", "a las 4 menos cuarto", "15:45"),
        ("fr", "4 heures moins le quart", "15:45"),
    ],
    "_half_before": [("de", "um halb vier", "15:30")],
    "_three_quarters_before": [("de", "um dreiviertel 4", "15:45")],
    "_colon_clock": [
        ("en", "3:30", "15:30"),
        ("en", "09:15", "09:15"),
        ("pt", "às 8h15", "08:15 [8:15]"),
    ],
    "_half_hour": [("en", "half 3", "15:30")],
    "_dot_clock": [("en", "at 9.45", "09:45"), ("de", "um 15.30 Uhr", "15:30"), ("en", "9.45", "")],
    "_spaced_clock": [
        ("en", "7 oh 5 pm", "19:05"),
        ("de", "um 15 Uhr 30", "15:30"),
        ("fr", "à 2 heures 15", "14:15"),
    ],
    "_hours24": [("en", "15 hrs", "15:00"), ("es", "a las 17 horas", "17:00 [17 hours]")],
    "_noon_and_fraction": [("fr", "midi et demi", "12:30"), ("pt", "meio-dia e meia", "12:30")],
    "_around_noon": [("en", "a quarter past noon", "12:15"), ("en", "ten to midnight", "23:50")],
    "_noon_or_midnight": [("en", "noon", "12:00"), ("fr", "minuit", "00:00"), ("es", "mediodía", "12:00")],
    "_hour_or_hour": [
        ("en", "9 or 10 in the morning", "09:00 (morning)"),
        ("en", "3 or 4pm", "15:00"),
        ("de", "um 7 oder 8", "19:00"),
        ("en", "3 or 4 days", ""),
    ],
    "_military": [("en", "1530 hours", "15:30"), ("pt", "às 1530", "15:30?"), ("en", "at 200 C Street", "")],
    "_plain_hour": [
        ("en", "at 5", "17:00?"),
        ("en", "5 oclock", "17:00"),
        ("de", "um 15 Uhr", "15:00"),
        ("fr", "à 15h", "15:00"),
        ("pt", "às 15h", "15:00"),
        ("es", "a las 3", "15:00?"),
        ("en", "6 in the evening", "18:00 (evening)"),
        ("es", "a las 8 de la noche", "20:00 (night)"),
    ],
    "_between": [
        ("en", "between 2 and 4", "14:00-16:00"),
        ("es", "entre las 2 y las 4", "14:00-16:00"),
        ("de", "von 9 bis 11 Uhr", "09:00-11:00"),
        ("fr", "entre midi et 2", "12:00-14:00"),
    ],
    "_range": [("en", "2-5", "14:00-17:00"), ("en", "11-1pm", "11:00-13:00"), ("en", "9-17", "")],
    "_after": [
        ("en", "after 5", "17:00-23:59"),
        ("en", "from noon on", "12:00-23:59"),
        ("es", "a partir de las 4", "16:00-23:59"),
        ("de", "nach 17 Uhr", "17:00-23:59"),
        ("pt", "depois das 5", "17:00-23:59"),
    ],
    "_before": [
        ("en", "before noon", "00:00-12:00"),
        ("fr", "avant midi", "00:00-12:00"),
        ("de", "vor 10 Uhr", "00:00-10:00"),
    ],
    "_after_lunch": [("en", "after lunch", "14:00-23:59")],
    "_hour_instead": [("en", "3 instead", "15:00?"), ("en", "11 instead of 10", "11:00? [11 instead]")],
    "_after_work": [("en", "after work", "17:00-21:00")],
}


def test_every_rule_has_phrases() -> None:
    names = [rule.resolve.__name__ for rule in (*EXACT_RULES, *WINDOW_RULES)]
    assert set(names) == set(BY_RULE)


@pytest.mark.parametrize(("language", "text", "expected"), [row for rows in BY_RULE.values() for row in rows])
def test_rule_phrase(language: str, text: str, expected: str) -> None:
    assert describe(language, text) == expected


# Where an earlier rule must win, or a rule must decline so that a later one reads the span.
@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "before midnight", "00:00 [midnight]"),  # no window; midnight is still a time
        ("en", "quarter past noon", "12:15"),  # issue 15: not noon
        ("en", "after 5pm", "17:00-23:59"),  # windows before exact times
        ("en", "half past 3 to 5", "15:30 [half past 3]"),
        ("en", "quarter to 5pm", "16:45"),  # fractions before a plain "5 pm"
        ("de", "um halb 4 Uhr", "15:30"),
        ("de", "um dreiviertel 4 Uhr", "15:45"),
        ("en", "half 3 pm", "15:30"),
        ("en", "at 12 noon", "12:00 [12 noon]"),  # noon before a plain, weak "at 12"
        ("en", "a table for 3 in the morning 11:30", "11:30 (morning) [morning 11:30]"),  # clock first
        ("en", "from 9 until 11", "09:00-11:00"),  # between before range
        ("en", "after 9 until 11", "09:00-11:00 [9 until 11]"),  # range before after
        ("en", "tonight at 8", "20:00 (tonight)"),
        ("en", "evening 6", "18:00 (evening)"),
        ("fr", "à 8 heures du soir", "20:00 (evening)"),
        ("pt", "às 9 da manhã", "09:00 (morning)"),
    ],
)
def test_order(language: str, text: str, expected: str) -> None:
    assert describe(language, text) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "morning", "08:00-12:00 (morning)"),
        ("en", "early morning", "08:00-10:00 (morning)"),
        ("en", "late afternoon", "14:00-17:00 (afternoon)"),
        ("en", "mid morning", "09:00-11:00 (morning)"),
        ("en", "late night", "19:00-23:59 (night)"),  # night runs to the end of the day: not narrowed
        ("es", "por la tarde", "12:00-17:00 (afternoon)"),
        ("de", "abends", "17:00-21:00 (evening)"),
        ("pt", "à noite", "19:00-23:59 (night)"),
    ],
)
def test_day_parts(language: str, text: str, expected: str) -> None:
    assert describe(language, text) == expected


def test_context_sets_am_pm() -> None:
    assert describe("en", "at 8", context="evening") == "20:00?"
    assert describe("en", "at 8", context="morning") == "08:00?"
