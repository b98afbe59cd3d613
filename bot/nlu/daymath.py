"""Calendar arithmetic for "the next Friday", "the next 5th", "next week"; weeks start on Monday."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def coming_weekday(today: date, weekday: int, include_today: bool) -> date:
    """The first `weekday` (0 = Monday) on or after today (or strictly after it)."""
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return today + timedelta(days=ahead)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekday_in_week(today: date, weekday: int, weeks_ahead: int) -> date:
    """`weekday` of the calendar week `weeks_ahead` weeks after the current one."""
    return week_start(today) + timedelta(days=7 * weeks_ahead + weekday)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_day_of_month(today: date, dom: int, weekday: int | None = None) -> date | None:
    """The next date (today included) whose day of the month is `dom`, and, when a weekday is
    given ("friday the 8th"), which also falls on that weekday (within four years)."""
    if not 1 <= dom <= 31:
        return None
    first: date | None = None
    for offset in range(49 if weekday is not None else 13):
        index = today.year * 12 + today.month - 1 + offset
        year, month = divmod(index, 12)
        if dom > calendar.monthrange(year, month + 1)[1]:
            continue
        candidate = date(year, month + 1, dom)
        if candidate < today:
            continue
        if first is None:
            first = candidate
        if weekday is None or candidate.weekday() == weekday:
            return candidate
    return first


def next_month_day(today: date, month: int, dom: int) -> date | None:
    """The next `month`/`dom` on or after today (Feb 29 waits for a leap year)."""
    if not (1 <= month <= 12 and 1 <= dom <= 31):
        return None
    for year in range(today.year, today.year + 9):
        if dom > calendar.monthrange(year, month)[1]:
            continue
        candidate = date(year, month, dom)
        if candidate >= today:
            return candidate
    return None


def safe_date(year: int, month: int, dom: int) -> date | None:
    try:
        return date(year, month, dom)
    except (ValueError, OverflowError):
        return None
