from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.offers import MAX_OFFER, Want, fetch_range, page, plan_offer, spread
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
    anchor = OPEN[4].start
    assert page(OPEN, anchor, "earlier", NOW) == tuple(OPEN[:4])
    assert page(OPEN, anchor, "later", NOW) == tuple(OPEN[5:10])


def test_fetch_range_covers_the_days_and_stays_within_cadence_limits() -> None:
    start, end = fetch_range(Want(dates=(THURSDAY,)), LISBON, NOW)
    assert start == NOW and end - start <= timedelta(days=31)
    assert end > datetime.combine(THURSDAY + timedelta(days=1), time(0), LISBON)
    far = date(2026, 9, 1)
    start, end = fetch_range(Want(dates=(far,)), LISBON, NOW)
    assert start <= datetime.combine(far, time(0), LISBON) < end


def test_spread_keeps_the_ends() -> None:
    assert spread(list(range(10)), 5) == (0, 2, 4, 7, 9)
    assert spread([1, 2], 5) == (1, 2)
