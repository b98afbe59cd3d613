"""What a customer meant by a date/time phrase: `interpret_when`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.nlu import daymath
from bot.nlu.dates import DateHit, find_dates, ruled_out
from bot.nlu.holidays import with_holidays
from bot.nlu.lexicon import normalize_languages
from bot.nlu.text import fold
from bot.nlu.times import PARTS, bare_hour_after, day_part_in, find_times, resolve_hour
from bot.nlu.timezones import zone_of_time
from bot.nlu.tokens import tokenize


@dataclass(frozen=True)
class When:
    """What a customer meant by a date/time phrase. Every field may be empty; see `is_empty`."""

    dates: tuple[dt.date, ...] = ()  # one date, or candidates (the primary first) if ambiguous
    date_range: tuple[dt.date, dt.date] | None = None  # inclusive span: "next week", "in march"
    time: dt.time | None = None  # an exact time of day: "3pm", "half past 3", "noon"
    window: tuple[dt.time, dt.time] | None = None  # [start, end): "morning", "after 4"
    passed: dt.date | None = None  # an explicit day that has passed ("1 december" on 4 December)

    @property
    def is_empty(self) -> bool:
        return not (self.dates or self.date_range or self.time or self.window or self.passed)

    @property
    def ambiguous(self) -> bool:
        """More than one candidate date ("next friday")."""
        return len(self.dates) > 1


def _zone(tz: str | tzinfo | None) -> tzinfo | None:
    if tz is None or isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return None


def local_now(now: datetime, tz: str | tzinfo | None) -> datetime:
    """`now` as a naive local datetime in `tz` (a naive `now` is already local)."""
    zone = _zone(tz)
    if now.tzinfo is not None and zone is not None:
        now = now.astimezone(zone)
    return now.replace(tzinfo=None)


def default_day_first(languages: Sequence[str]) -> bool:
    """US English writes month first (3/5 = March 5); every other supported language day first."""
    return normalize_languages(languages)[0] != "en"


_IN_HOURS = re.compile(
    # "in 1h", "dans 24 heures", "daqui a 2 horas" read "h" and "heures" as o'clock: after "in", hours
    r"(?<![^ ])(?:in (?P<n>\d{1,3}|a|half an?|an?) (?P<unit>hours?|minutes|oclock)"
    r"|(?P<n2>\d{1,3}|a|half an?|an?) (?P<unit2>hours?|minutes) fromnow)(?![^ ])"
)
# A message that is only a number or a clock ("3", "4.15?", "three fifteen") is a time.
_LONE_NUMBER = re.compile(r"(?:^|[ ,|])(?P<for>for )?(?P<h>\d{1,2})(?= _| ,| \||$)")


def unused_all(masked: str, windows: Sequence[object]) -> str:
    """``masked`` with the windows blanked too: what no date or time rule has claimed."""
    chars = list(masked)
    for hit in windows:
        start, end = hit.start, hit.end  # type: ignore[attr-defined]
        chars[start:end] = "§" * (end - start)
    return "".join(chars)


_ONLY_HOUR = re.compile(r"^(?:at |around )?(?P<h>\d{1,2})(?:[. ](?P<mi>\d{2}))?(?: ish)?(?: \|)*$")
_DOT_CLOCK = re.compile(r"(?<![^ ])(?P<h>\d{1,2})\.(?P<mi>\d{2})(?![^ ])")
_MAX_CHARS = 20_000  # beyond this a message is not a date phrase; bounds the work per call


def interpret_when(
    text: str,
    now: datetime,
    tz: str | ZoneInfo | None = None,
    languages: Sequence[str] = ("en",),
    *,
    day_first: bool | None = None,
) -> When:
    """`now` may be aware or naive; naive means local time in `tz`. Dates are local to `tz`.
    Never raises; returns an empty When for no date/time."""
    if not isinstance(text, str) or not text.strip() or not isinstance(now, datetime):
        return When()
    langs = normalize_languages(languages)
    if day_first is None:
        day_first = default_day_first(langs)
    try:
        local = local_now(now, tz)
    except (OverflowError, ValueError):
        return When()
    here = _zone(tz)
    named = zone_of_time(text[:_MAX_CHARS])
    if named is not None and here is not None and named != getattr(here, "key", None):
        # "thursday 8:00 PST", "4pm CET", "6am São Paulo time": read there, then said here
        aware = now if now.tzinfo is not None else now.replace(tzinfo=here)
        there = interpret_when(text, aware, named, languages, day_first=day_first)
        return _moved(there, ZoneInfo(named), here, aware)
    text = with_holidays(fold(text[:_MAX_CHARS]), local.date())  # "christmas eve at 3"
    canon = " ".join(tokenize(text, langs, day_first))
    try:
        return _interpret(canon, local, english=langs[0] == "en")
    except (OverflowError, ValueError):  # a `now` at the very edge of the calendar
        return When()


def _moved(when: When, there: tzinfo, here: tzinfo, now: datetime) -> When:
    """A day and time read in another zone, as the same instant here (a day alone stays as it is)."""
    if when.time is None:
        return when
    days = when.dates or (now.astimezone(there).date(),)
    moments = [datetime.combine(d, when.time, there).astimezone(here) for d in days]
    return When(
        dates=tuple(dict.fromkeys(m.date() for m in moments)),
        time=moments[0].time().replace(tzinfo=None),
    )


def _in_hours(canon: str, local: datetime) -> tuple[datetime, int, int] | None:
    """ "in 2 hours", "30 minutes from now": a moment counted from now."""
    m = _IN_HOURS.search(canon)
    if m is None:
        return None
    n = (m["n"] or m["n2"]).strip()
    unit = m["unit"] or m["unit2"]
    amount = 30.0 if n.startswith("half") else 1.0 if not n.isdigit() else float(n)
    minutes = amount * 60 if unit.startswith(("hour", "oclock")) and not n.startswith("half") else amount
    if minutes > 72 * 60:
        return None
    return local + timedelta(minutes=minutes), m.start(), m.end()


def _mask(canon: str, hits: list[DateHit]) -> str:
    """`canon` with the date expressions blanked out, so times never reuse their numbers.
    A lone "this" ("this afternoon") stays: the day part after it still sets am/pm."""
    chars = list(canon)
    for hit in hits:
        if canon[hit.start : hit.end] != "this":
            chars[hit.start : hit.end] = "§" * (hit.end - hit.start)
    return "".join(chars)


_BEFORE_ON = re.compile(r"(?:^|[ ,|])(?:at )?(?P<h>\d{1,2}) (?:on )?$")


_BESIDE = 12  # characters between a day and the time said with it ("friday the 19th at 11")
_NOW = re.compile(r"^(?:(?:_|right|just|\|) )*now(?: (?:_|\||please|pls))*$")


def _interpret(canon: str, local: datetime, english: bool = True) -> When:
    today = local.date()
    if _NOW.match(canon):  # "now", "right now": today, this minute ("for now", "just now" are not)
        return When(dates=(today,), time=local.time().replace(second=0, microsecond=0))
    later = _in_hours(canon, local)
    if later is not None:
        moment, start, end = later
        canon = canon[:start] + "§" * (end - start) + canon[end:]
        rest = _interpret(canon, local, english)
        if rest.time is None and not rest.dates:
            return When(dates=(moment.date(),), time=moment.time().replace(second=0, microsecond=0))
    hits = find_dates(canon, today, english)
    masked = _mask(canon, hits)
    primary = _primary(canon, hits)
    context = "tonight" if primary is not None and primary.evening else day_part_in(masked)
    exact, windows = find_times(masked, context)

    # The last time said wins, but an explicit one ("9 am") beats a plain "at 5" (an address?).
    strong = [hit for hit in exact if hit.strong and not ruled_out(masked, hit.start)]
    chosen = strong or [hit for hit in exact if not ruled_out(masked, hit.start)] or exact
    if primary is not None and len(exact) > 1:
        # "...dancing until 2am. a blow-dry on friday the 19th at 11": the time said with the day
        beside = [
            h
            for h in exact
            if -_BESIDE <= h.start - primary.end <= _BESIDE or 0 <= primary.start - h.end <= _BESIDE
        ]
        chosen = [h for h in beside if not ruled_out(masked, h.start)] or chosen
    found_time: time | None = chosen[-1].time if chosen else None
    if found_time is None and primary is not None:
        # "tmrw 3", "11 on the 3rd": a bare number right beside the date is an hour; one that
        # belongs to a window ("before 11 on saturday") is not.
        free = list(masked)
        for window_hit in windows:
            free[window_hit.start : window_hit.end] = "§" * (window_hit.end - window_hit.start)
        unused = "".join(free)
        found_time = bare_hour_after(unused[primary.end :].lstrip(" ,"), context)
        if found_time is None:
            found_time = _dot_clock(unused, context)
        before = _BEFORE_ON.search(unused, max(0, primary.start - 12), primary.start)
        if (
            found_time is None
            and before is not None
            and (
                canon.startswith("on ", primary.start)
                or before.group().endswith(" on ")
                or (
                    (primary.evening or canon.startswith(("tomorrow", "today", "dayafter"), primary.start))
                    and not canon[: before.start()].endswith(
                        "for"
                    )  # "8 tonight", "9 tomorrow"; "for 4" is people
                )
            )
        ):
            found_time = resolve_hour(int(before["h"]), 0, None, context)
    if found_time is None and (primary is not None or windows):
        # "saturday morning works best, 10 ideally", "tuesday 11 works": a lone number said after the
        # day or the part of it is its hour ("2 haircuts on friday" is a count; "for 2" is people)
        after = max(([primary.end] if primary is not None else []) + [w.end for w in windows])
        lone = [
            m
            for m in _LONE_NUMBER.finditer(unused_all(masked, windows))
            if not m.group("for") and m.start("h") >= after
        ]
        if len(lone) == 1 and 1 <= int(lone[0]["h"]) <= 12:
            found_time = resolve_hour(int(lone[0]["h"]), 0, None, context)
    if found_time is None and not hits:
        only = _ONLY_HOUR.match(canon)
        if only is not None and 1 <= int(only["h"]) <= 23:
            found_time = resolve_hour(int(only["h"]), int(only["mi"] or 0), None, context)

    dates: tuple[date, ...] = ()
    date_range: tuple[date, date] | None = None
    if primary is not None and primary.passed is not None:
        return When(time=found_time, passed=primary.passed)
    if primary is not None:
        dates, date_range = _resolve(primary, today, found_time, local.time())
        dates, date_range = _alternatives(
            canon, hits, primary, dates, date_range, today, found_time, local.time()
        )

    window: tuple[time, time] | None = None
    if found_time is None:
        if windows:
            # an explicit window ("after 6") is more precise than a day part ("evening")
            explicit = [w for w in windows if w.part is None]
            window = (explicit or windows)[0].window
        elif primary is not None and primary.evening:
            window = PARTS["tonight"]
    return When(dates=dates, date_range=date_range, time=found_time, window=window)


def _dot_clock(canon: str, context: str | None) -> time | None:
    """ "16th march 11.30": beside a date, a dotted number is a clock (alone it may be a price)."""
    m = _DOT_CLOCK.search(canon)
    if m is None:
        return None
    return resolve_hour(int(m["h"]), int(m["mi"]), None, context, m["h"].startswith("0"))


def _alternatives(
    canon: str,
    hits: list[DateHit],
    primary: DateHit,
    dates: tuple[date, ...],
    date_range: tuple[date, date] | None,
    today: date,
    at: time | None,
    current: time,
) -> tuple[tuple[date, ...], tuple[date, date] | None]:
    """ "tomorrow or friday": both are candidates, in the order said; "between the 5th and the
    7th": a range."""
    index = hits.index(primary)
    if index == 0 or len(dates) != 1:
        return dates, date_range
    previous = hits[index - 1]
    gap = canon[previous.end : primary.start].strip(" ,")
    earlier, _ = _resolve(previous, today, at, current)
    if len(earlier) != 1:
        return dates, date_range
    if gap == "and" and canon[max(0, previous.start - 8) : previous.start] == "between ":
        if earlier[0] < dates[0]:
            return (), (earlier[0], dates[0])
        return dates, date_range
    if gap != "or":
        return dates, date_range
    candidates = list(earlier)
    for hit in reversed(hits[: index - 1]):  # "mon, tue or wed"
        if canon[hit.end : hits[hits.index(hit) + 1].start].strip() != ",":
            break
        more, _ = _resolve(hit, today, at, current)
        if len(more) != 1:
            break
        candidates.insert(0, more[0])
    return tuple(dict.fromkeys([*candidates, *dates])), date_range


def _primary(canon: str, hits: list[DateHit]) -> DateHit | None:
    """The last specific date said (customers correct themselves at the end: "the 4th... no,
    make it the 8th") and not ruled out ("not the 4th"); a range ("next week") only when
    nothing more specific is said."""
    kept = [hit for hit in hits if not ruled_out(canon, hit.start)]  # "not friday" names no day
    for hit in reversed(kept):
        if hit.date_range is None:
            return hit
    return kept[-1] if kept else None


def _resolve(
    hit: DateHit, today: date, at: time | None, current: time
) -> tuple[tuple[date, ...], tuple[date, date] | None]:
    if hit.dates:
        return hit.dates, None
    if hit.date_range is not None:
        return (), hit.date_range
    if hit.day_of_month is not None:
        d = daymath.next_day_of_month(today, hit.day_of_month, hit.weekday)
        return ((d,) if d else ()), None
    if hit.weekday is not None:
        # Today's own weekday means today only when the time asked for is still ahead;
        # otherwise ("friday" said on a Friday) the customer means next week's.
        include_today = at is not None and at > current
        return (daymath.coming_weekday(today, hit.weekday, include_today),), None
    return (), None
