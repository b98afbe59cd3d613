"""Choosing which open slots to offer: pure functions of the slots, the request, the zone and now.

A customer who asks for a day sees up to five slots spread across it (not five in a row); one who asks
for a time sees that slot, or the nearest to it; one who asks for a window sees slots inside it; a day
with nothing open yields the nearest days that have openings instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from cadence_adapter import Slot

T = TypeVar("T")

__all__ = ["MAX_OFFER", "Offer", "Want", "fetch_range", "page", "plan_offer", "spread"]

MAX_OFFER = 5
_LOOKAROUND = timedelta(days=14)
_MAX_SPAN = timedelta(days=31)  # Cadence's availability limit per request


class Want(BaseModel):
    """What the customer asked for, in their own zone; stored in the conversation state."""

    model_config = ConfigDict(frozen=True)

    dates: tuple[date, ...] = ()
    date_range: tuple[date, date] | None = None
    at: time | None = None
    """An exact time of day."""
    window: tuple[time, time] | None = None

    @property
    def days(self) -> tuple[date, ...]:
        """Every day the request names (a range spelled out), earliest first."""
        if self.dates:
            return tuple(sorted(self.dates))
        if self.date_range:
            first, last = self.date_range
            return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
        return ()

    def merged(self, newer: Want) -> Want:
        """A follow-up refines the request: "how about 5pm?" keeps the day, "friday" keeps the time."""
        has_day = bool(newer.dates or newer.date_range)
        has_hour = newer.at is not None or newer.window is not None
        return Want(
            dates=newer.dates if has_day else self.dates,
            date_range=newer.date_range if has_day else self.date_range,
            at=newer.at if has_hour else self.at,
            window=newer.window if has_hour else self.window,
        )


@dataclass(frozen=True)
class Offer:
    slots: tuple[Slot, ...] = ()
    exact: Slot | None = None
    """The very slot asked for ("tomorrow at 3pm"), when it is open."""
    nearest_days: tuple[date, ...] = ()
    """When the days asked for have nothing: the nearest days that do."""


def _local(slot: Slot, zone: ZoneInfo) -> datetime:
    return slot.start.astimezone(zone)


def _in_window(moment: datetime, window: tuple[time, time] | None) -> bool:
    if window is None:
        return True
    start, end = window
    clock = moment.time().replace(tzinfo=None)
    return start <= clock < end if start < end else clock >= start or clock < end


def fetch_range(want: Want, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The instants to ask Cadence about: the days asked for and two weeks around them, in one call."""
    days = want.days
    if days:
        start = datetime.combine(days[0], time(0), zone) - _LOOKAROUND
        end = datetime.combine(days[-1] + timedelta(days=1), time(0), zone) + _LOOKAROUND
    else:
        start, end = now, now + _LOOKAROUND
    start = max(start.astimezone(UTC), now.astimezone(UTC))
    end = min(end.astimezone(UTC), start + _MAX_SPAN)
    if end <= start:  # a request far in the future: look from its first day
        start = datetime.combine(days[0], time(0), zone).astimezone(UTC)
        end = start + _MAX_SPAN
    return start, end


def spread(items: Sequence[T], n: int = MAX_OFFER) -> tuple[T, ...]:
    """Up to ``n`` items evenly spaced across ``items``, first and last included."""
    if len(items) <= n:
        return tuple(items)
    step = (len(items) - 1) / (n - 1)
    return tuple(items[round(i * step)] for i in range(n))


def plan_offer(slots: Sequence[Slot], want: Want, zone: ZoneInfo, now: datetime) -> Offer:
    """What to offer for ``want`` out of the open ``slots`` (sorted by start)."""
    future = [s for s in slots if s.start > now]
    days = set(want.days)
    on_days = [s for s in future if not days or _local(s, zone).date() in days]
    if want.at is not None:
        wanted = [s for s in on_days if _local(s, zone).time().replace(tzinfo=None) == want.at]
        if wanted:
            return Offer(exact=wanted[0])
        if on_days:
            asked = want.days or (now.astimezone(zone).date(),)
            targets = [datetime.combine(d, want.at, zone) for d in asked]

            def distance(slot: Slot) -> float:
                return min(abs((slot.start - t).total_seconds()) for t in targets)

            nearest = sorted(sorted(on_days, key=distance)[:MAX_OFFER], key=lambda s: s.start)
            return Offer(slots=tuple(nearest))
    else:
        inside = [s for s in on_days if _in_window(_local(s, zone), want.window)]
        if inside:
            return Offer(slots=spread(inside))
    if not days:
        return Offer()
    return Offer(nearest_days=_nearest_days(future, sorted(days), zone, want.window))


def _nearest_days(
    slots: Sequence[Slot], asked: Sequence[date], zone: ZoneInfo, window: tuple[time, time] | None
) -> tuple[date, ...]:
    open_days = {_local(s, zone).date() for s in slots if _in_window(_local(s, zone), window)}
    if not open_days:
        open_days = {_local(s, zone).date() for s in slots}

    def distance(day: date) -> tuple[int, int]:
        gap = min(abs((day - a).days) for a in asked)
        return gap, 0 if day > asked[0] else 1  # on a tie, later beats earlier

    return tuple(sorted(sorted(open_days, key=distance)[:3]))


def page(slots: Sequence[Slot], anchor: datetime, direction: str, now: datetime) -> tuple[Slot, ...]:
    """The next slots before (``earlier``) or after (``later``) the ones already offered."""
    future = [s for s in slots if s.start > now]
    if direction == "earlier":
        return tuple([s for s in future if s.start < anchor][-MAX_OFFER:])
    return tuple([s for s in future if s.start > anchor][:MAX_OFFER])
