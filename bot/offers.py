"""Choosing which open slots to offer: pure functions of the slots, the request, the zone and now.

A customer who asks for a day sees up to five slots spread across it (not five in a row); one who asks
for a time sees that slot, or the nearest to it; one who asks for a window sees slots inside it; a day
with nothing open yields the nearest days that have openings instead.

Cadence is asked about as little as answers the request: first just the days asked for
(:func:`fetch_range`), and the two weeks around them (:func:`lookaround_range`) only when those days have
nothing that fits. Decoding and converting a month of slots on every request turn was most of a turn's
overhead (issue 8). Every window these functions return is one Cadence accepts: ``to > from``, at most
31 days, inside the booking horizon (:class:`Reach`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from cadence_adapter import Slot

T = TypeVar("T")

__all__ = [
    "HORIZON_DAYS",
    "MAX_OFFER",
    "Offer",
    "Reach",
    "Want",
    "fetch_range",
    "lookaround_range",
    "page",
    "page_range",
    "plan_offer",
    "spread",
]

MAX_OFFER = 5
_UTC = ZoneInfo("UTC")
HORIZON_DAYS = 365
"""How far ahead the bot books: today and the next 365 days. Businesses rarely publish hours further out,
a yearly appointment fits, and Cadence's working hours repeat forever, so without a limit "31 dec 9999"
would be offered slots."""
_LOOKAROUND = timedelta(days=14)
_DEFAULT_SPAN = timedelta(days=7)  # no day named: the coming week (Cadence's own default window)
_MAX_SPAN = timedelta(days=31)  # Cadence's availability limit per request
_MAX_DAYS = HORIZON_DAYS + 1  # a range is never spelled out beyond the horizon's length


class Want(BaseModel):
    """What the customer asked for, in their own zone; stored in the conversation state."""

    model_config = ConfigDict(frozen=True)

    dates: tuple[date, ...] = ()
    date_range: tuple[date, date] | None = None
    at: time | None = None
    """An exact time of day."""
    window: tuple[time, time] | None = None
    earliest: bool = False
    """The earliest open slots: with no day named, only the first day that has any."""

    @property
    def days(self) -> tuple[date, ...]:
        """Every day the request names (a range spelled out, at most a horizon's worth), earliest first."""
        if self.dates:
            return tuple(sorted(self.dates))
        if self.date_range:
            first, last = sorted(self.date_range)
            return tuple(first + timedelta(days=i) for i in range(min((last - first).days + 1, _MAX_DAYS)))
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
            earliest=newer.earliest or (self.earliest and not has_day),
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


@dataclass(frozen=True)
class Reach:
    """The days the bot books, in the customer's zone: from today to :data:`HORIZON_DAYS` ahead."""

    first: date
    last: date
    zone: ZoneInfo

    @classmethod
    def at(cls, now: datetime, zone: ZoneInfo) -> Reach:
        today = now.astimezone(zone).date()
        return cls(today, today + timedelta(days=HORIZON_DAYS), zone)

    @property
    def end(self) -> datetime:
        """The instant the last bookable day ends."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def fit(self, want: Want) -> Want | Literal["past", "beyond"]:
        """``want`` with its days cut to the reachable ones, or why none of them is reachable."""
        if want.dates:
            kept = tuple(d for d in want.dates if self.first <= d <= self.last)
            if kept:
                return want.model_copy(update={"dates": kept})
            return "past" if max(want.dates) < self.first else "beyond"
        if want.date_range:
            first, last = sorted(want.date_range)
            if last < self.first:
                return "past"
            if first > self.last:
                return "beyond"
            return want.model_copy(update={"date_range": (max(first, self.first), min(last, self.last))})
        return want


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _window(start: datetime, end: datetime, now: datetime, reach: Reach) -> tuple[datetime, datetime]:
    """``start``-``end`` cut to what Cadence accepts and the bot books: from now, inside the horizon, at
    most 31 days. Never empty for an ``end`` after now: callers pass the end of a reachable day (today's
    at the earliest) or a span from now, and the horizon ends a year after today."""
    start = max(start, now.astimezone(UTC))
    return start, min(end, reach.end, start + _MAX_SPAN)


def _reachable_days(want: Want, reach: Reach) -> tuple[date, ...]:
    fitted = reach.fit(want)
    return fitted.days if isinstance(fitted, Want) else ()


def fetch_range(want: Want, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The instants to ask Cadence about first: just the days asked for, or the coming week when no
    day was named. Never raises; always a window Cadence accepts (see :func:`_window`)."""
    return _days_window(want, zone, now, margin=timedelta(0), unnamed=_DEFAULT_SPAN)


def lookaround_range(want: Want, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """When the days asked for have nothing that fits: those days and two weeks around them, for the
    nearest open days (or, with no day named, the next two weeks). Same guarantees as :func:`fetch_range`."""
    return _days_window(want, zone, now, margin=_LOOKAROUND, unnamed=_LOOKAROUND)


def _days_window(
    want: Want, zone: ZoneInfo, now: datetime, *, margin: timedelta, unnamed: timedelta
) -> tuple[datetime, datetime]:
    """The reachable days asked for, ``margin`` either side; from now for ``unnamed`` when none."""
    reach = Reach.at(now, zone)
    days = _reachable_days(want, reach)
    if not days:
        return _window(now, now + unnamed, now, reach)
    start = _midnight(days[0], zone) - margin
    return _window(start, _midnight(days[-1] + timedelta(days=1), zone) + margin, now, reach)


def page_range(
    anchor: datetime, direction: str, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime] | None:
    """The window for the next page before or after ``anchor`` (two weeks of it), or None when there is
    nothing to ask about: "earlier" than an offer that is already in the past, "later" than the horizon."""
    reach = Reach.at(now, zone)
    if direction == "earlier":
        start, end = max(anchor - _LOOKAROUND, now), anchor
    else:
        start = max(anchor + timedelta(minutes=1), now)
        end = start + _LOOKAROUND
    start, end = start.astimezone(UTC), min(end.astimezone(UTC), reach.end)
    return (start, end) if start < end else None


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
        if wanted and len(days) == 1:
            return Offer(exact=wanted[0])
        if wanted:  # open at that time on several days, none named or more than one: the customer picks
            return Offer(slots=tuple(wanted[:MAX_OFFER]))
        if on_days:
            asked = want.days or (now.astimezone(zone).date(),)
            targets = [datetime.combine(d, want.at, zone) for d in asked]

            def distance(slot: Slot) -> float:
                return min(abs((slot.start - t).total_seconds()) for t in targets)

            nearest = sorted(sorted(on_days, key=distance)[:MAX_OFFER], key=lambda s: s.start)
            return Offer(slots=tuple(nearest))
    else:
        inside = [s for s in on_days if _in_window(_local(s, zone), want.window)]
        if inside and want.earliest and not days:
            first_day = _local(inside[0], zone).date()
            inside = [s for s in inside if _local(s, zone).date() == first_day]
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


def page(
    slots: Sequence[Slot], anchor: datetime, direction: str, now: datetime, zone: ZoneInfo = _UTC
) -> tuple[Slot, ...]:
    """The open times beyond those offered: on the nearest day that has any past ``anchor`` (its own
    day first), spread across that day, so "later" is the rest of the afternoon, not 15-minute steps."""
    future = [s for s in slots if s.start > now]
    beyond = (
        [s for s in future if s.start < anchor]
        if direction == "earlier"
        else [s for s in future if s.start > anchor]
    )
    if not beyond:
        return ()
    nearest = _local(beyond[-1] if direction == "earlier" else beyond[0], zone).date()
    return spread([s for s in beyond if _local(s, zone).date() == nearest])
