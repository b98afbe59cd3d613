"""interpret_when in English, one row per construction; reference: Wed 2026-03-04 10:00."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.nlu import When, interpret_when
from tests.nlu.conftest import NOW, TZ, describe

CASES = [
    # relative days
    ("today", "2026-03-04"),
    ("later today", "2026-03-04"),
    ("tonight", "2026-03-04 [17:00-21:00)"),
    ("tonight at 8", "2026-03-04 20:00"),
    ("7 tonight?", "2026-03-04 19:00"),
    ("table for 4 tonight", "2026-03-04 [17:00-21:00)"),
    ("tomorrow", "2026-03-05"),
    ("day after tomorrow", "2026-03-06"),
    ("the day after tomorrow at noon", "2026-03-06 12:00"),
    ("this afternoon at 3", "2026-03-04 15:00"),
    ("this evening", "2026-03-04 [17:00-21:00)"),
    # typos and shorthands
    ("tmrw 3", "2026-03-05 15:00"),
    ("tmr 9am", "2026-03-05 09:00"),
    ("tomorow at 5", "2026-03-05 17:00"),
    ("tommorrow morning", "2026-03-05 [08:00-12:00)"),
    ("2moro @ 4", "2026-03-05 16:00"),
    ("nxt tuesday", "2026-03-10|2026-03-17"),
    ("wendsday", "2026-03-11"),
    ("thrusday at 2", "2026-03-05 14:00"),
    ("fridya", "2026-03-06"),  # swapped letters
    ("satuday morning", "2026-03-07 [08:00-12:00)"),
    ("tues nxt wk @ 2", "2026-03-10 14:00"),
    ("2nite at 8", "2026-03-04 20:00"),
    ("3p tomorrow", "2026-03-05 15:00"),
    ("3 in the aft", "15:00"),
    ("b4 noon", "[00:00-12:00)"),
    ("3o'clock", "15:00"),
    ("15 hrs", "15:00"),
    ("1500 hrs", "15:00"),
    ("can i come in tmrw arvo?", "2026-03-05 [12:00-17:00)"),
    # weekdays and abbreviations
    ("thu", "2026-03-05"),
    ("thurs at 2", "2026-03-05 14:00"),
    ("weds", "2026-03-11"),  # today's weekday alone: next week's
    ("wednesday at 11", "2026-03-04 11:00"),  # ...unless the time asked is still ahead today
    ("wednesday at 9", "2026-03-11 09:00"),
    ("fri at half 3", "2026-03-06 15:30"),
    ("sat morning", "2026-03-07 [08:00-12:00)"),
    ("Sun 10am", "2026-03-08 10:00"),
    ("Thursday 3ish", "2026-03-05 15:00"),
    ("hi, any chance of saturday at 1?", "2026-03-07 13:00"),
    ("this friday", "2026-03-06"),
    ("next friday", "2026-03-13|2026-03-06"),
    ("next sat at 11", "2026-03-14|2026-03-07 11:00"),
    ("thursday next", "2026-03-12|2026-03-05"),
    ("wednesday next week", "2026-03-11"),
    ("monday next week", "2026-03-09"),
    ("saturday this week", "2026-03-07"),
    ("friday after next", "2026-03-13"),
    ("friday week", "2026-03-13"),
    # days of the month, ordinals, month names both orders
    ("the 5th", "2026-03-05"),
    ("the 2nd", "2026-04-02"),  # already past this month: next month's
    ("on the twentieth", "2026-03-20"),
    ("the twenty-first", "2026-03-21"),
    ("2nd of this month", "2026-03-02"),
    ("the 3rd of next month", "2026-04-03"),
    ("march 5", "2026-03-05"),
    ("5 march", "2026-03-05"),
    ("5th of March", "2026-03-05"),
    ("March the 20th", "2026-03-20"),
    ("april 1st", "2026-04-01"),
    ("1st April", "2026-04-01"),
    ("march 1st", "passed 2026-03-01"),  # just passed: said so, never rolled to next year
    ("february 2nd", "passed 2026-02-02"),
    ("March 5th 2027", "2027-03-05"),
    ("may 5th", "2026-05-05"),
    ("friday the 13th", "2026-03-13"),
    ("Friday 13th March at 4", "2026-03-13 16:00"),
    ("Tue 17th at 9:15", "2026-03-17 09:15"),
    ("monday 9 march", "2026-03-09"),
    ("the 12th at 10", "2026-03-12 10:00"),
    ("how about the 14th at 2", "2026-03-14 14:00"),
    # ISO and numeric dates (English: month first)
    ("2026-03-20", "2026-03-20"),
    ("2026-03-20 15:00", "2026-03-20 15:00"),
    ("3/5", "2026-03-05"),
    ("12/3/2026", "2026-12-03"),
    ("13/03 at 16:00", "2026-03-13 16:00"),  # 13 cannot be a month
    ("20.03.2026", "2026-03-20"),
    # clocks
    ("15:30", "15:30"),
    ("3pm", "15:00"),
    ("3 p.m.", "15:00"),
    ("3:30PM", "15:30"),
    ("11am", "11:00"),
    ("12am", "00:00"),
    ("12pm", "12:00"),
    ("@3", "15:00"),
    ("at 7", "19:00"),
    ("at 9", "09:00"),
    ("at 12", "12:00"),
    ("7:30", "19:30"),
    ("07:30", "07:30"),
    ("0930", "09:30"),
    ("at 1530", "15:30"),
    ("at 5.30", "17:30"),
    ("5.30pm", "17:30"),
    ("at 17h", "17:00"),
    ("half past 3", "15:30"),
    ("quarter to 5", "16:45"),
    ("quarter past 9 monday", "2026-03-09 09:15"),
    ("a quarter to 12 in the morning", "11:45"),
    ("half 3", "15:30"),
    ("half 10 on friday", "2026-03-06 10:30"),
    ("10 to 5 on tuesday", "2026-03-10 16:50"),
    ("ten past two", "14:10"),
    ("tomorrow at twenty past 3", "2026-03-05 15:20"),
    ("noon", "12:00"),
    ("midday", "12:00"),
    ("12 noon tomorrow", "2026-03-05 12:00"),
    ("midnight", "00:00"),
    ("5 o'clock", "17:00"),
    ('5 o"clock in the evening', "17:00"),
    ("3ish", "15:00"),
    ("3-ish", "15:00"),
    ("around 4", "16:00"),
    ("twelve in the afternoon", "12:00"),
    ("four thirty pm", "16:30"),
    ("eleven am", "11:00"),
    ("six pm", "18:00"),
    ("afternoon 1:30", "13:30"),
    ("evening 6", "18:00"),
    ("morning, 11", "11:00"),
    ("8 in the night", "20:00"),
    ("12 in the noon", "12:00"),
    ("at 2:45 in the morning", "02:45"),
    ("11:30 in the morning", "11:30"),
    ("quarter past 1 in the afternoon", "13:15"),
    ("half past 12 in the afternoon", "12:30"),
    # relative offsets
    ("in 3 days", "2026-03-07"),
    ("in three days", "2026-03-07"),
    ("3 days from now", "2026-03-07"),
    ("in a week", "2026-03-11"),
    ("a week from today", "2026-03-11"),
    ("a week tomorrow", "2026-03-12"),
    ("in two weeks", "2026-03-18"),
    ("2 weeks from today", "2026-03-18"),
    ("a fortnight from today", "2026-03-18"),
    ("in a month", "2026-04-04"),
    ("in 2 hours", "2026-03-04 12:00"),
    ("in half an hour", "2026-03-04 10:30"),
    # ranges
    ("next week", "2026-03-09..2026-03-15"),
    ("early next week", "2026-03-09..2026-03-11"),
    ("this week", "2026-03-04..2026-03-08"),
    ("can I book later this week", "2026-03-05..2026-03-08"),
    ("this weekend", "2026-03-07..2026-03-08"),
    ("next weekend", "2026-03-14..2026-03-15"),
    ("in march", "2026-03-04..2026-03-31"),
    ("in april", "2026-04-01..2026-04-30"),
    ("next month", "2026-04-01..2026-04-30"),
    ("end of the month", "2026-03-21..2026-03-31"),
    ("any time after 4 next week", "2026-03-09..2026-03-15 [16:00-23:59)"),
    ("sometime next week in the morning", "2026-03-09..2026-03-15 [08:00-12:00)"),
    # windows
    ("morning", "[08:00-12:00)"),
    ("in the afternoon", "[12:00-17:00)"),
    ("in the evening", "[17:00-21:00)"),
    ("after 4", "[16:00-23:59)"),
    ("after 4pm", "[16:00-23:59)"),
    ("before noon", "[00:00-12:00)"),
    ("before 10am on Friday", "2026-03-06 [00:00-10:00)"),
    ("between 2 and 4", "[14:00-16:00)"),
    ("between 1 and 3pm", "[13:00-15:00)"),
    ("2-4pm", "[14:00-16:00)"),
    ("9am-11am tomorrow", "2026-03-05 [09:00-11:00)"),
    ("from 2 to 4 tomorrow", "2026-03-05 [14:00-16:00)"),
    ("not before 11", "[11:00-23:59)"),
    ("no later than 5pm", "[00:00-17:00)"),
    ("after lunch", "[14:00-23:59)"),
    ("lunchtime tomorrow", "2026-03-05 [12:00-14:00)"),
    ("friday afternoon", "2026-03-06 [12:00-17:00)"),
    ("sunday morning around 10", "2026-03-08 10:00"),
    # inside longer sentences; corrections; noise
    ("Yes, I want it on the 11th please", "2026-03-11"),
    ("I can't do tomorrow, how about Friday?", "2026-03-06"),
    ("Not Monday. Tuesday?", "2026-03-10"),
    ("the 4th... no, make it the 8th", "2026-03-08"),
    ("We are 3 people, saturday 1pm", "2026-03-07 13:00"),
    ("I have 2 kids, can we come on Friday at 4?", "2026-03-06 16:00"),
    ("I want to watch the 3d show on the 9th", "2026-03-09"),
    ("on second thought, the 12th", "2026-03-12"),
    ("it's at 9 am at 5 Main Street", "09:00"),
    ("tomorrow or friday", "2026-03-05|2026-03-06"),  # alternatives: both candidates
    ("mon, tue or wed", "2026-03-09|2026-03-10|2026-03-11"),
    ("Monday or Tuesday morning", "2026-03-09|2026-03-10 [08:00-12:00)"),
    ("the 5th or 6th", "2026-03-05|2026-03-06"),
    ("between the 5th and the 7th", "2026-03-05..2026-03-07"),
    ("3 this afternoon", "2026-03-04 15:00"),
    ("11 on the 3rd", "2026-04-03 11:00"),
    ("3 on friday", "2026-03-06 15:00"),
    ("next month on the 5th", "2026-04-05"),
    ("sometime in may", "2026-05-01..2026-05-31"),
    ("first thing tomorrow", "2026-03-05 [08:00-10:00)"),
    ("tomorrow after work", "2026-03-05 [17:00-21:00)"),
    ("mid morning", "[09:00-11:00)"),
    ("sat 9:30a", "2026-03-07 09:30"),
    ("1030am", "10:30"),
    ("Mar. 5", "2026-03-05"),
    ("Fri. at 3", "2026-03-06 15:00"),
    ("tues 4pm", "2026-03-10 16:00"),
    ("tuesday 4", "2026-03-10 16:00"),  # English: an hour; elsewhere a day ("lunes 9")
    ("friday at four thirty", "2026-03-06 16:30"),
    ("at half four", "16:30"),
    ("table for 4 tomorrow", "2026-03-05"),
    ("any time before 11 on saturday", "2026-03-07 [00:00-11:00)"),
    ("16th march 11.30", "2026-03-16 11:30"),
    ("11.30 on the 16th", "2026-03-16 11:30"),
    ("4.15?", "16:15"),
    ("it costs 12.50", ""),
    ("next Monday (16th)", "2026-03-16"),
    ("Monday 16/03", "2026-03-16"),
    ("Saturday 11am-1pm", "2026-03-07 [11:00-13:00)"),
    ("tmrw after 3", "2026-03-05 [15:00-23:59)"),
    ("Tomorrow morning if possible, 9 or 10", "2026-03-05 09:00"),  # the first is preferred
    ("3 or 4pm", "15:00"),
    ("table for 2 or 3", ""),
    ("2026/03/18", "2026-03-18"),
    ("03-18", "2026-03-18"),  # a dash between a month and a day that cannot be an hour
    ("I'm available 2-5 on friday", "2026-03-06 [14:00-17:00)"),
    ("three fifteen", "15:15"),
    ("Can we do the 16th instead of the 12th?", "2026-03-16"),
    ("book me in for thurs 5th 10am pls", "2026-03-05 10:00"),
    ("could I come in at 4 today?", "2026-03-04 16:00"),
    ("a quarter after 4", "16:15"),
    ("the weekend after next", "2026-03-21..2026-03-22"),
    ("evening after 6", "[18:00-23:59)"),  # the explicit window wins over the day part
    ("Fri 3rd", "2026-04-03"),  # the next 3rd that is a Friday
    ("tmrw@3", "2026-03-05 15:00"),
    ("how about 11:45 instead of 10:30", "11:45"),
    ("not at 10:30, at 11:45", "11:45"),
    ("10 mins past 3", "15:10"),
    # nothing
    ("", ""),
    ("see you sun", ""),
    ("hello", ""),
    ("I sat down", ""),
    ("May I come in?", ""),
    ("a table for 4 people", ""),
    ("3 tickets please", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_english(text: str, expected: str) -> None:
    assert describe(interpret_when(text, NOW, TZ)) == expected


def test_next_friday_said_on_a_friday_is_a_week_later_first() -> None:
    friday = datetime(2019, 3, 1, 9, 0)  # the SGD convention
    when = interpret_when("next Friday", friday, "UTC")
    assert describe(when) == "2019-03-08|2019-03-15"
    assert when.ambiguous
    # the weekday of next calendar week first, then the other reading
    assert describe(interpret_when("next monday", friday, "UTC")) == "2019-03-04|2019-03-11"
    assert describe(interpret_when("next saturday", friday, "UTC")) == "2019-03-09|2019-03-02"
    assert describe(interpret_when("this saturday", friday, "UTC")) == "2019-03-02"


def test_day_first_locale_and_override() -> None:
    assert describe(interpret_when("3/5", NOW, TZ, ("en",))) == "2026-03-05"
    assert describe(interpret_when("3/5", NOW, TZ, ("en",), day_first=True)) == "2026-05-03"
    assert describe(interpret_when("3/5", NOW, TZ, ("es",))) == "2026-05-03"
    assert describe(interpret_when("3/5", NOW, TZ, ("es",), day_first=False)) == "2026-03-05"


def test_aware_now_is_converted_to_the_zone() -> None:
    # 23:30 UTC on the 4th is already the 5th in Tokyo: "tomorrow" there is the 6th.
    now = datetime(2026, 3, 4, 23, 30, tzinfo=UTC)
    assert describe(interpret_when("tomorrow", now, "Asia/Tokyo")) == "2026-03-06"
    assert describe(interpret_when("tomorrow", now, ZoneInfo("UTC"))) == "2026-03-05"
    assert describe(interpret_when("tomorrow", now, None)) == "2026-03-05"


def test_bad_zone_or_input_never_raises() -> None:
    assert describe(interpret_when("tomorrow", NOW, "Not/AZone")) == "2026-03-05"
    assert interpret_when(None, NOW).is_empty  # type: ignore[arg-type]
    assert interpret_when("tomorrow", None).is_empty  # type: ignore[arg-type]
    assert describe(interpret_when("tomorrow", NOW, TZ, ("xx",))) == "2026-03-05"


def test_when_properties() -> None:
    assert When().is_empty
    assert not When().ambiguous
    assert not interpret_when("3pm", NOW).is_empty
    assert interpret_when("next friday", NOW).ambiguous
    assert not interpret_when("this friday", NOW).ambiguous
