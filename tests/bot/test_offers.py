from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.offers import (
    HORIZON_DAYS,
    MAX_OFFER,
    Reach,
    Want,
    fetch_range,
    lookaround_range,
    page,
    page_range,
    plan_offer,
    spread,
)
from cadence_adapter import Slot

LISBON = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday, 09:00 in Lisbon


def slots_on(day: date, hours: range, minutes: tuple[int, ...] = (0, 30)) -> list[Slot]:
    found = []
    for hour in hours:
        for minute in minutes:
            start = datetime.combine(day, time(hour, minute), LISBON).astimezone(UTC)
            found.append(Slot(start=start, end=start + timedelta(minutes=30), practitioner_ids=["p"]))
    return found


TUESDAY, WEDNESDAY, THURSDAY = date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 4)
OPEN = slots_on(TUESDAY, range(9, 18)) + slots_on(THURSDAY, range(9, 18))


def local_times(slots: tuple[Slot, ...]) -> list[str]:
    return [s.start.astimezone(LISBON).strftime("%a %H:%M") for s in slots]


def test_a_day_is_offered_spread_across_it() -> None:
    offer = plan_offer(OPEN, Want(dates=(TUESDAY,)), LISBON, NOW)
    assert local_times(offer.slots) == ["Tue 09:00", "Tue 11:00", "Tue 13:00", "Tue 15:30", "Tue 17:30"]


def test_an_open_exact_time_is_chosen_outright() -> None:
    offer = plan_offer(OPEN, Want(dates=(TUESDAY,), at=time(15, 0)), LISBON, NOW)
    assert offer.exact is not None and local_times((offer.exact,)) == ["Tue 15:00"]


def test_a_taken_time_offers_the_nearest() -> None:
    open_slots = [s for s in OPEN if s.start.astimezone(LISBON).hour != 15]
    offer = plan_offer(open_slots, Want(dates=(TUESDAY,), at=time(15, 0)), LISBON, NOW)
    assert offer.exact is None
    assert local_times(offer.slots) == ["Tue 13:30", "Tue 14:00", "Tue 14:30", "Tue 16:00", "Tue 16:30"]


def test_a_window_offers_slots_inside_it() -> None:
    offer = plan_offer(OPEN, Want(dates=(TUESDAY,), window=(time(12), time(17))), LISBON, NOW)
    times = [s.start.astimezone(LISBON).time() for s in offer.slots]
    assert len(times) == MAX_OFFER and all(time(12) <= t < time(17) for t in times)


def test_a_closed_day_offers_the_nearest_days_with_openings() -> None:
    offer = plan_offer(OPEN, Want(dates=(WEDNESDAY,)), LISBON, NOW)
    assert not offer.slots and offer.nearest_days == (TUESDAY, THURSDAY)


def test_ambiguous_days_offer_whichever_has_slots() -> None:
    offer = plan_offer(OPEN, Want(dates=(WEDNESDAY, THURSDAY)), LISBON, NOW)
    assert {s.start.astimezone(LISBON).date() for s in offer.slots} == {THURSDAY}


def test_past_slots_are_never_offered() -> None:
    today = slots_on(date(2026, 6, 1), range(8, 12))
    offer = plan_offer(today, Want(dates=(date(2026, 6, 1),)), LISBON, NOW)
    assert all(s.start > NOW for s in offer.slots)


def test_follow_ups_refine_the_request() -> None:
    asked = Want(dates=(TUESDAY,), at=time(15))
    assert asked.merged(Want(at=time(17))) == Want(dates=(TUESDAY,), at=time(17))
    assert asked.merged(Want(dates=(THURSDAY,))) == Want(dates=(THURSDAY,), at=time(15))
    week = Want(date_range=(TUESDAY, THURSDAY))
    assert week.days == (TUESDAY, WEDNESDAY, THURSDAY)


def test_paging_earlier_and_later() -> None:
    anchor = OPEN[4].start  # Tuesday 11:00
    assert page(OPEN, anchor, "earlier", NOW, LISBON) == tuple(OPEN[:4])
    later = page(OPEN, anchor, "later", NOW, LISBON)
    # the rest of Tuesday, spread out: not the next five 30-minute steps
    assert local_times(later) == ["Tue 11:30", "Tue 13:00", "Tue 14:30", "Tue 16:00", "Tue 17:30"]
    last = OPEN[17].start  # Tuesday 17:30, the last of the day: later is Thursday
    assert local_times(page(OPEN, last, "later", NOW, LISBON))[0] == "Thu 09:00"


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LISBON)


def test_fetch_range_asks_for_just_the_days_asked_for() -> None:
    assert fetch_range(Want(dates=(THURSDAY,)), LISBON, NOW) == (
        local_midnight(THURSDAY),
        local_midnight(THURSDAY + timedelta(days=1)),
    )
    # today starts now; two candidate days ("next friday") are one window from the first to the last
    assert fetch_range(Want(dates=(THURSDAY, date(2026, 6, 1))), LISBON, NOW) == (
        NOW,
        local_midnight(THURSDAY + timedelta(days=1)),
    )
    far = date(2026, 9, 1)
    assert fetch_range(Want(dates=(far,)), LISBON, NOW) == (
        local_midnight(far),
        local_midnight(far + timedelta(days=1)),
    )


def test_fetch_range_without_a_day_is_the_coming_week() -> None:
    assert fetch_range(Want(at=time(15)), LISBON, NOW) == (NOW, NOW + timedelta(days=7))


def test_lookaround_range_covers_two_weeks_around_the_days() -> None:
    start, end = lookaround_range(Want(dates=(date(2026, 7, 1),)), LISBON, NOW)
    assert (start, end) == (local_midnight(date(2026, 6, 17)), local_midnight(date(2026, 7, 16)))
    start, end = lookaround_range(Want(dates=(THURSDAY,)), LISBON, NOW)
    assert start == NOW and end == local_midnight(date(2026, 6, 19))


def test_a_long_range_is_asked_about_31_days_at_a_time() -> None:
    start, end = fetch_range(Want(date_range=(THURSDAY, date(2026, 12, 31))), LISBON, NOW)
    assert start == local_midnight(THURSDAY) and end - start == timedelta(days=31)


REACH = Reach.at(NOW, LISBON)
LAST = date(2027, 6, 1)  # a year from Monday 1 June 2026


def test_reach_is_today_to_a_year_ahead() -> None:
    assert (REACH.first, REACH.last) == (date(2026, 6, 1), LAST)
    assert REACH.last == REACH.first + timedelta(days=HORIZON_DAYS)


def test_days_out_of_reach_are_past_or_beyond() -> None:
    assert REACH.fit(Want(dates=(date(1970, 1, 1),))) == "past"
    assert REACH.fit(Want(dates=(date(2026, 5, 31),), at=time(15))) == "past"
    assert REACH.fit(Want(dates=(date(9999, 12, 31),))) == "beyond"
    assert REACH.fit(Want(dates=(LAST + timedelta(days=1),))) == "beyond"
    assert REACH.fit(Want(date_range=(date(2020, 1, 1), date(2026, 5, 31)))) == "past"
    assert REACH.fit(Want(date_range=(date(2028, 1, 1), date(9999, 12, 31)))) == "beyond"


def test_reach_cuts_what_it_can_and_keeps_the_rest() -> None:
    assert REACH.fit(Want(dates=(date(2026, 5, 31), THURSDAY), at=time(15))) == Want(
        dates=(THURSDAY,), at=time(15)
    )
    assert REACH.fit(Want(date_range=(date(2026, 5, 1), date(9999, 12, 31)))) == Want(
        date_range=(date(2026, 6, 1), LAST)
    )
    assert REACH.fit(Want(window=(time(9), time(12)))) == Want(window=(time(9), time(12)))


def test_a_huge_range_is_never_spelled_out() -> None:
    huge = Want(date_range=(date(2026, 6, 1), date(9999, 12, 31)))
    assert len(huge.days) == HORIZON_DAYS + 1
    assert Want(date_range=(THURSDAY, TUESDAY)).days == (TUESDAY, WEDNESDAY, THURSDAY)


def test_fetch_range_never_asks_about_the_past_or_beyond_the_horizon() -> None:
    for far_off in (date(1970, 1, 1), date(9999, 12, 31), date.min, date.max):
        for want in (Want(dates=(far_off,)), Want(date_range=(far_off, far_off))):
            assert fetch_range(want, LISBON, NOW) == (NOW, NOW + timedelta(days=7))
            assert lookaround_range(want, LISBON, NOW) == (NOW, NOW + timedelta(days=14))
    assert (
        lookaround_range(Want(dates=(LAST,)), LISBON, NOW)[1]
        == REACH.end
        == local_midnight(LAST + timedelta(days=1))
    )


def test_paging_stops_at_now_and_at_the_horizon() -> None:
    anchor = datetime.combine(THURSDAY, time(10), LISBON)
    assert page_range(anchor, "earlier", LISBON, NOW) == (NOW, anchor)
    later = page_range(anchor, "later", LISBON, NOW)
    assert later == (anchor + timedelta(minutes=1), anchor + timedelta(days=14, minutes=1))
    assert page_range(NOW - timedelta(hours=1), "earlier", LISBON, NOW) is None
    assert page_range(REACH.end - timedelta(hours=1), "later", LISBON, NOW) == (
        REACH.end - timedelta(minutes=59),
        REACH.end,
    )
    assert page_range(REACH.end, "later", LISBON, NOW) is None


ZONES = [
    ZoneInfo(name)
    for name in ("UTC", "Europe/Lisbon", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Santiago")
]


def _random_day(rng: random.Random, now: datetime) -> date:
    near = now.date() + timedelta(days=rng.randint(-60, 500))
    anywhere = date.fromordinal(rng.randint(date.min.toordinal(), date.max.toordinal()))
    return rng.choice([near, near, anywhere, date.min, date.max])


def _random_want(rng: random.Random, now: datetime) -> Want:
    days = tuple(_random_day(rng, now) for _ in range(rng.randint(0, 3)))
    if days and rng.random() < 0.4:
        return Want(date_range=(days[0], _random_day(rng, now)))
    at = time(rng.randrange(24), rng.choice((0, 15, 30, 45))) if rng.random() < 0.5 else None
    return Want(dates=days, at=at)


def test_every_window_is_one_cadence_accepts() -> None:
    """Property: for any want, zone and now (1971-9000), every window is valid: ``to > from``, at most
    31 days, from now (give or take the page anchor) to the end of the horizon, and nothing raises."""
    rng = random.Random(8)
    for _ in range(3000):
        now = datetime(1971, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**9 * 220))
        if rng.random() < 0.5:
            now = NOW + timedelta(seconds=rng.randrange(-(10**7), 10**7))
        zone, want = rng.choice(ZONES), _random_want(rng, now)
        reach = Reach.at(now, zone)
        for start, end in (fetch_range(want, zone, now), lookaround_range(want, zone, now)):
            assert now <= start < end <= reach.end, (want, zone, now)
            assert end - start <= timedelta(days=31), (want, zone, now)
        anchor = now + timedelta(minutes=rng.randint(-(10**6), 10**6))
        for direction in ("earlier", "later"):
            window = page_range(anchor, direction, zone, now)
            if window is not None:
                assert now <= window[0] < window[1] <= reach.end and window[1] - window[0] <= timedelta(
                    days=31
                )


def test_spread_keeps_the_ends() -> None:
    assert spread(list(range(10)), 5) == (0, 2, 4, 7, 9)
    assert spread([1, 2], 5) == (1, 2)
