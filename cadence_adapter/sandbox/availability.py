"""Open slots from weekly hours: pure functions, no database, no clock, no I/O.

The rules (DESIGN.md):

- Hours are wall-clock intervals per weekday in the org's zone, e.g. ``{"mon": [["09:00", "13:00"]]}``;
  a missing day is closed.
- Slots start on a 15-minute grid counted from each interval's start, and the whole service must fit:
  a slot ends at or before the interval's end.
- Only slots starting strictly after ``now`` are open, and a booking blocks every slot of the same
  practitioner that overlaps it (whatever the service).

Daylight-saving changes are handled by walking the grid in *local wall time* and converting each start:

- spring forward: a wall time inside the gap (02:30 in New York on 8 March 2026) does not exist and is
  skipped; a slot whose real end falls past the interval's end (01:30 + 60 min is 03:30 EDT) does not fit;
- fall back: a repeated wall time (01:30 in New York on 1 November 2026) means its first occurrence only,
  so the repeated hour never produces a second slot with the same wall-clock label.

Durations are real elapsed time: a 60-minute session lasts 60 minutes even across a change.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

__all__ = [
    "DAY_KEYS",
    "SLOT_STEP",
    "DayHours",
    "OpenSlot",
    "WeeklyHours",
    "day_starts",
    "is_grid_start",
    "merge_slots",
    "parse_weekly_hours",
    "practitioner_slots",
]

SLOT_STEP = timedelta(minutes=15)
"""Distance between two consecutive slot starts inside one interval."""

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of the hours mapping, in ``date.weekday()`` order."""

DayHours = tuple[tuple[int, int], ...]
"""One day's intervals as (start, end) minutes after local midnight, sorted, not overlapping."""

WeeklyHours = Mapping[int, DayHours]
"""Intervals by ``date.weekday()`` (0 is Monday); a missing weekday is closed."""

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class OpenSlot:
    """One bookable start and every practitioner free for the whole duration from it."""

    start: datetime
    end: datetime
    practitioner_ids: tuple[str, ...]


def _minutes(text: str, *, allow_midnight_end: bool) -> int:
    if allow_midnight_end and text == "24:00":
        return 24 * 60
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    return int(match.group(1)) * 60 + int(match.group(2))


def parse_weekly_hours(raw: Mapping[str, Sequence[Sequence[str]]]) -> dict[int, DayHours]:
    """The seed's ``{"mon": [["09:00", "13:00"], ...]}`` as :data:`WeeklyHours`.

    Raises ``ValueError`` naming the day and interval for an unknown day, a malformed time, an interval
    that ends before it starts, or two intervals that overlap. ``"24:00"`` is accepted as an end.
    """
    parsed: dict[int, DayHours] = {}
    for key, intervals in raw.items():
        if key not in DAY_KEYS:
            raise ValueError(f"unknown day {key!r}; use one of {', '.join(DAY_KEYS)}")
        day: list[tuple[int, int]] = []
        for index, pair in enumerate(intervals):
            if len(pair) != 2:
                raise ValueError(f"{key}[{index}]: an interval is [start, end], got {list(pair)!r}")
            start = _minutes(pair[0], allow_midnight_end=False)
            end = _minutes(pair[1], allow_midnight_end=True)
            if end <= start:
                raise ValueError(f"{key}[{index}]: end {pair[1]} is not after start {pair[0]}")
            day.append((start, end))
        day.sort()
        for (_, earlier_end), (later_start, _) in itertools.pairwise(day):
            if later_start < earlier_end:
                raise ValueError(f"{key}: intervals overlap")
        if day:
            parsed[DAY_KEYS.index(key)] = tuple(day)
    return parsed


def _resolve(wall: datetime, tz: tzinfo) -> datetime | None:
    """The UTC instant a naive local wall time names, or None when the clock skips it.

    ``fold=0`` (the default) picks the first occurrence of a repeated wall time; a round trip that does
    not give back the same wall time means the time fell into a spring-forward gap.
    """
    instant = wall.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def day_starts(
    hours: WeeklyHours, tz: tzinfo, day: date, duration: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Every (start, end) on local ``day`` that fits the hours, ignoring bookings and the clock, in order."""
    midnight = datetime.combine(day, time())
    for open_minute, close_minute in hours.get(day.weekday(), ()):
        close = midnight + timedelta(minutes=close_minute)
        wall = midnight + timedelta(minutes=open_minute)
        while wall + duration <= close:
            start = _resolve(wall, tz)
            if start is not None:
                end = start + duration
                # On a spring-forward day the real end can land later on the wall clock than
                # wall + duration; it must still be inside the interval.
                if end.astimezone(tz).replace(tzinfo=None) <= close:
                    yield start, end
            wall += SLOT_STEP


def is_grid_start(hours: WeeklyHours, tz: tzinfo, start: datetime, duration: timedelta) -> bool:
    """True when ``start`` is a slot start of the hours for this duration (bookings and clock aside).

    A slot's start always has the wall date of the day whose hours produced it, so only that day is
    examined.
    """
    start = start.astimezone(UTC)
    local_day = start.astimezone(tz).date()
    return any(candidate == start for candidate, _ in day_starts(hours, tz, local_day, duration))


class _Busy:
    """Answers "does [start, end) overlap any booking?" in O(log n), for bookings in any order."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]) -> None:
        ordered = sorted(intervals)
        self._starts = [start for start, _ in ordered]
        # Running maximum of the ends: among the bookings that start before a slot ends, the one that
        # ends last decides whether any of them reaches into the slot.
        self._max_end: list[datetime] = []
        for _, end in ordered:
            self._max_end.append(end if not self._max_end else max(end, self._max_end[-1]))

    def overlaps(self, start: datetime, end: datetime) -> bool:
        before_end = bisect.bisect_left(self._starts, end)
        return before_end > 0 and self._max_end[before_end - 1] > start


def practitioner_slots(
    hours: WeeklyHours,
    tz: tzinfo,
    busy: Iterable[tuple[datetime, datetime]],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    duration: timedelta,
) -> list[tuple[datetime, datetime]]:
    """One practitioner's open (start, end) pairs with ``window_start <= start < window_end``, sorted.

    ``busy`` holds the practitioner's confirmed bookings as (start, end) instants; all instants must
    be timezone-aware.
    """
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    blocked = _Busy(busy)
    first_day = window_start.astimezone(tz).date() - timedelta(days=1)
    last_day = window_end.astimezone(tz).date()
    open_slots: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        for start, end in day_starts(hours, tz, day, duration):
            if window_start <= start < window_end and start > now and not blocked.overlaps(start, end):
                open_slots.append((start, end))
        day += timedelta(days=1)
    open_slots.sort()
    return open_slots


def merge_slots(per_practitioner: Mapping[str, Iterable[tuple[datetime, datetime]]]) -> list[OpenSlot]:
    """One :class:`OpenSlot` per start time listing every practitioner free then, sorted by start.

    Practitioner ids are listed in sorted order so the answer is stable.
    """
    by_start: dict[datetime, tuple[datetime, list[str]]] = {}
    for practitioner_id in sorted(per_practitioner):
        for start, end in per_practitioner[practitioner_id]:
            by_start.setdefault(start, (end, []))[1].append(practitioner_id)
    return [OpenSlot(start, end, tuple(ids)) for start, (end, ids) in sorted(by_start.items())]
