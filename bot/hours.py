"""When a business is open, derived from its open slots: "Mon–Fri 8:00 AM–8:00 PM, Sat 9:00 AM–1:00 PM".

Cadence publishes availability, not opening hours; the hours a customer asks about ("are you open on
Saturdays?", "what time do you close on Fridays?") are read off the slots of the coming weeks: per
weekday, the earliest start and the latest end seen. Pure functions of the slots, the zone and the
language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.render import format_time_of_day
from cadence_adapter import Slot

__all__ = ["DayHours", "format_hours", "hours_on", "weekly_hours"]


@dataclass(frozen=True)
class DayHours:
    weekday: int
    """0 is Monday."""
    opens: time
    closes: time


def weekly_hours(slots: Iterable[Slot], zone: ZoneInfo) -> tuple[DayHours, ...]:
    """Per weekday with any slot, the earliest start and the latest end, Monday first."""
    spans: dict[int, tuple[time, time]] = {}
    for slot in slots:
        start = slot.start.astimezone(zone)
        end = (slot.end or slot.start).astimezone(zone)
        if end.date() != start.date():
            end = datetime.combine(start.date(), time(23, 59), zone)
        opens, closes = spans.get(start.weekday(), (start.time(), end.time()))
        spans[start.weekday()] = (min(opens, start.time()), max(closes, end.time()))
    return tuple(DayHours(day, *spans[day]) for day in sorted(spans))


def _clock(moment: time, language: str) -> str:
    return format_time_of_day(datetime.combine(date(2000, 1, 3), moment), language)


def format_hours(hours: Sequence[DayHours], language: str) -> str:
    """ "Mon–Fri 8:00 AM–8:00 PM, Sat 9:00 AM–1:00 PM": consecutive days with the same hours grouped."""
    names = get_day_names("abbreviated", locale=language)
    groups: list[list[DayHours]] = []
    for day in hours:
        last = groups[-1][-1] if groups else None
        same = last is not None and (last.opens, last.closes) == (day.opens, day.closes)
        if last is not None and same and last.weekday == day.weekday - 1:
            groups[-1].append(day)
        else:
            groups.append([day])
    parts = []
    for group in groups:
        first, last = group[0], group[-1]
        days = str(names[first.weekday]) if first is last else f"{names[first.weekday]}–{names[last.weekday]}"
        parts.append(f"{days} {_clock(first.opens, language)}–{_clock(first.closes, language)}")
    return ", ".join(parts)


def hours_on(hours: Sequence[DayHours], weekday: int) -> DayHours | None:
    """That weekday's hours, or None when the business has no openings on it."""
    return next((day for day in hours if day.weekday == weekday), None)
