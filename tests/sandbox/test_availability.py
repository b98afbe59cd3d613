"""Slot arithmetic without HTTP or a database: the pure functions of availability.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cadence_adapter.sandbox.availability import (
    is_grid_start,
    merge_slots,
    parse_weekly_hours,
    practitioner_slots,
)

LISBON = ZoneInfo("Europe/Lisbon")
NEW_YORK = ZoneInfo("America/New_York")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # "now" long before every window below
SPLIT_DAY = parse_weekly_hours({"mon": [["09:00", "13:00"], ["14:00", "18:00"]]})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local_day_slots(
    hours: dict[str, list[list[str]]],
    tz: ZoneInfo,
    day: date,
    minutes: int,
    *,
    now: datetime = EPOCH,
    busy: list[tuple[datetime, datetime]] | None = None,
) -> list[tuple[datetime, datetime]]:
    start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC) - timedelta(hours=6)
    return practitioner_slots(
        parse_weekly_hours(hours),
        tz,
        busy or [],
        start,
        start + timedelta(hours=36),
        now,
        timedelta(minutes=minutes),
    )


def local_labels(slots: list[tuple[datetime, datetime]], tz: ZoneInfo) -> list[str]:
    return [start.astimezone(tz).strftime("%H:%M") for start, _ in slots]


def test_grid_from_each_interval_start_and_slots_end_inside_it() -> None:
    slots = practitioner_slots(
        SPLIT_DAY, LISBON, [], utc("2026-06-01 00:00"), utc("2026-06-02 00:00"), EPOCH, timedelta(minutes=50)
    )
    labels = local_labels(slots, LISBON)
    # 12:00 + 50 min ends 12:50, inside; 12:15 would end 13:05, in the lunch break.
    assert labels[:3] == ["09:00", "09:15", "09:30"]
    assert "12:00" in labels and "12:15" not in labels and "13:00" not in labels
    assert labels[labels.index("12:00") + 1] == "14:00"
    assert labels[-1] == "17:00"
    assert all(end - start == timedelta(minutes=50) for start, end in slots)
    assert slots[0][0] == utc("2026-06-01 08:00")  # 09:00 in Lisbon summer time


def test_grid_counts_from_an_off_quarter_interval_start() -> None:
    slots = local_day_slots({"mon": [["09:10", "10:00"]]}, LISBON, date(2026, 6, 1), 15)
    assert local_labels(slots, LISBON) == ["09:10", "09:25", "09:40"]


def test_missing_day_is_closed_and_24_00_is_an_end() -> None:
    hours = {"tue": [["22:00", "24:00"]]}
    assert local_day_slots(hours, LISBON, date(2026, 6, 1), 60) == []  # a Monday
    assert local_labels(local_day_slots(hours, LISBON, date(2026, 6, 2), 60), LISBON) == [
        "22:00",
        "22:15",
        "22:30",
        "22:45",
        "23:00",
    ]


def test_only_slots_strictly_after_now() -> None:
    now = utc("2026-06-01 09:15")  # 10:15 in Lisbon
    slots = practitioner_slots(
        SPLIT_DAY, LISBON, [], utc("2026-06-01 00:00"), utc("2026-06-02 00:00"), now, timedelta(minutes=30)
    )
    assert local_labels(slots, LISBON)[0] == "10:30"
    assert all(start > now for start, _ in slots)


def test_window_keeps_starts_in_from_inclusive_to_exclusive() -> None:
    slots = practitioner_slots(
        SPLIT_DAY, LISBON, [], utc("2026-06-01 09:00"), utc("2026-06-01 10:00"), EPOCH, timedelta(minutes=60)
    )
    assert [start for start, _ in slots] == [
        utc("2026-06-01 09:00") + timedelta(minutes=15 * i) for i in range(4)
    ]


def test_a_booking_blocks_every_overlapping_slot() -> None:
    busy = [(utc("2026-06-01 09:00"), utc("2026-06-01 09:30"))]  # 10:00-10:30 local
    slots = local_day_slots({"mon": [["09:00", "13:00"]]}, LISBON, date(2026, 6, 1), 60, busy=busy)
    labels = local_labels(slots, LISBON)
    # 09:00-10:00 touches the booking without overlapping it; 09:15 ... 10:15 overlap it.
    assert labels[:2] == ["09:00", "10:30"]


def test_busy_intervals_may_come_in_any_order_and_overlap_each_other() -> None:
    busy = [
        (utc("2026-06-01 11:00"), utc("2026-06-01 11:15")),
        (utc("2026-06-01 08:00"), utc("2026-06-01 10:00")),  # long, so a later start does not hide it
        (utc("2026-06-01 08:30"), utc("2026-06-01 08:45")),
    ]
    slots = local_day_slots({"mon": [["09:00", "13:00"]]}, LISBON, date(2026, 6, 1), 15, busy=busy)
    assert local_labels(slots, LISBON) == ["11:00", "11:15", "11:30", "11:45", "12:15", "12:30", "12:45"]


def test_new_york_spring_forward_skips_the_gap_and_checks_the_real_end() -> None:
    # Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT.
    day = date(2026, 3, 8)
    quarter = local_day_slots({"sun": [["00:00", "04:00"]]}, NEW_YORK, day, 15)
    labels = local_labels(quarter, NEW_YORK)
    assert "01:45" in labels and not any(label.startswith("02:") for label in labels)
    assert labels[labels.index("01:45") + 1] == "03:00"
    starts = [start for start, _ in quarter]
    assert starts == sorted(set(starts))
    assert quarter[labels.index("01:45")][0] == utc("2026-03-08 06:45")  # EST, UTC-5
    assert quarter[labels.index("03:00")][0] == utc("2026-03-08 07:00")  # EDT, UTC-4
    # 60 minutes inside 00:00-03:00: 01:15 EST + 60 min is 03:15 EDT, past the close.
    hourly = local_day_slots({"sun": [["00:00", "03:00"]]}, NEW_YORK, day, 60)
    assert local_labels(hourly, NEW_YORK) == ["00:00", "00:15", "00:30", "00:45", "01:00"]
    assert all(end - start == timedelta(minutes=60) for start, end in hourly)


def test_new_york_fall_back_does_not_duplicate_the_repeated_hour() -> None:
    # Sunday 1 November 2026: 02:00 EDT falls back to 01:00 EST, so 01:00-01:59 happens twice.
    slots = local_day_slots({"sun": [["00:00", "04:00"]]}, NEW_YORK, date(2026, 11, 1), 60)
    labels = local_labels(slots, NEW_YORK)
    expected = [f"{h:02d}:{m:02d}" for h in range(4) for m in (0, 15, 30, 45)][:13]  # 00:00 ... 03:00
    assert labels == expected
    starts = [start for start, _ in slots]
    assert starts == sorted(set(starts))
    assert slots[labels.index("01:30")][0] == utc("2026-11-01 05:30")  # first occurrence, EDT
    assert slots[labels.index("02:00")][0] == utc("2026-11-01 07:00")  # EST
    assert all(end - start == timedelta(minutes=60) for start, end in slots)


def test_lisbon_spring_forward_and_fall_back() -> None:
    hours = {"sun": [["00:00", "03:00"]]}
    quarters = [f"{h:02d}:{m:02d}" for h in range(3) for m in (0, 15, 30, 45)]
    # Sunday 29 March 2026: 01:00 WET jumps to 02:00 WEST; 01:00 ... 01:45 do not exist.
    spring = local_day_slots(hours, LISBON, date(2026, 3, 29), 30)
    assert local_labels(spring, LISBON) == [q for q in quarters if not q.startswith("01:")][:7]
    assert [s for s, _ in spring] == [utc("2026-03-29 00:00") + timedelta(minutes=15 * i) for i in range(7)]
    # Sunday 25 October 2026: 02:00 WEST falls back to 01:00 WET; 01:xx means its first (WEST) occurrence.
    autumn = local_day_slots(hours, LISBON, date(2026, 10, 25), 30)
    assert local_labels(autumn, LISBON) == quarters[:11]  # 00:00 ... 02:30, each once
    first = utc("2026-10-24 23:00")
    assert [s for s, _ in autumn] == [first + timedelta(minutes=15 * i) for i in range(8)] + [
        utc("2026-10-25 02:00"),
        utc("2026-10-25 02:15"),
        utc("2026-10-25 02:30"),
    ]


def test_business_hours_follow_the_clock_change() -> None:
    # Movela-style hours across Lisbon's spring change: 09:00 is 09:00Z on Friday, 08:00Z on Monday.
    hours = parse_weekly_hours({"fri": [["09:00", "10:00"]], "mon": [["09:00", "10:00"]]})
    slots = practitioner_slots(
        hours, LISBON, [], utc("2026-03-27 00:00"), utc("2026-03-31 00:00"), EPOCH, timedelta(minutes=60)
    )
    assert [start for start, _ in slots] == [utc("2026-03-27 09:00"), utc("2026-03-30 08:00")]


def test_is_grid_start() -> None:
    hour = timedelta(minutes=60)
    assert is_grid_start(SPLIT_DAY, LISBON, utc("2026-06-01 08:15"), hour)
    assert not is_grid_start(SPLIT_DAY, LISBON, utc("2026-06-01 08:20"), hour)  # off the grid
    assert not is_grid_start(SPLIT_DAY, LISBON, utc("2026-06-01 11:30"), hour)  # runs into lunch
    assert not is_grid_start(SPLIT_DAY, LISBON, utc("2026-06-02 08:00"), hour)  # Tuesday: closed
    assert not is_grid_start(SPLIT_DAY, LISBON, utc("2026-06-01 08:00:30"), hour)  # seconds


def test_merge_lists_every_free_practitioner_per_start() -> None:
    a, b, c = utc("2026-06-01 09:00"), utc("2026-06-01 09:15"), utc("2026-06-01 09:30")
    half = timedelta(minutes=30)
    merged = merge_slots(
        {"p2": [(a, a + half), (c, c + half)], "p1": [(a, a + half), (b, b + half)], "p3": []}
    )
    assert [(s.start, s.practitioner_ids) for s in merged] == [(a, ("p1", "p2")), (b, ("p1",)), (c, ("p2",))]
    assert merged[0].end == a + half


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"monday": [["09:00", "10:00"]]}, "unknown day"),
        ({"mon": [["9:00", "10:00"]]}, "HH:MM"),
        ({"mon": [["10:00", "09:00"]]}, "not after"),
        ({"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"mon": [["09:00"]]}, "interval"),
        ({"mon": [["24:00", "24:00"]]}, "HH:MM"),
    ],
)
def test_parse_weekly_hours_rejects_bad_hours(raw: dict[str, list[list[str]]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_weekly_hours(raw)
