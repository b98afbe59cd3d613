"""Times of day and windows in a canonical token string (see `tokens`): rules tried in order, most
specific first, each claiming its span so a later, vaguer rule cannot reuse it. Windows are tried
before exact times ("between 2 and 4" is not the time 2:00), and day parts last.

Conventions (DESIGN.md): a bare hour 1-7 means pm, 8-11 am, 12 noon; a zero-padded or 13-23 hour
is a 24-hour clock; a day part next to the hour ("1:30 in the afternoon", "evening 6") or
anywhere in the message ("tonight ... at 8") sets am/pm; am/pm themselves win over everything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time

END_OF_DAY = time(23, 59)
START_OF_DAY = time(0, 0)

PARTS: dict[str, tuple[time, time]] = {
    "morning": (time(8), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), time(21)),
    "night": (time(19), END_OF_DAY),
    "tonight": (time(17), time(21)),
    "lunch": (time(12), time(14)),
}
_PART_WORDS = "morning|afternoon|evening|night|tonight"


@dataclass(frozen=True)
class TimeHit:
    start: int
    end: int
    time: dt.time | None = None
    window: tuple[dt.time, dt.time] | None = None
    part: str | None = None  # the day part that decided am/pm, if any
    strong: bool = True  # False for a plain "at 5", which may be an address or a count


def resolve_hour(
    hour: int, minute: int, meridiem: str | None, part: str | None, padded: bool = False
) -> time | None:
    """The time meant by `hour`:`minute` given am/pm, a day part, or neither (the conventions)."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if meridiem is not None and 1 <= hour <= 12:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)  # 12am is 00, 12pm is 12
    elif part is not None and 1 <= hour <= 12 and not padded:
        hour = _hour_in_part(hour, part)
    elif not padded and 1 <= hour <= 7:
        hour += 12
    return time(hour, minute)


def _hour_in_part(hour: int, part: str) -> int:
    """The 24-hour clock hour of a 1-12 `hour` said with the day part `part`."""
    if part in ("afternoon", "evening", "tonight") and hour < 12:
        return hour + 12
    if part == "night" and hour >= 6:
        return (hour + 12) % 24
    if part in ("evening", "tonight") and hour == 12:
        return 0
    return hour


def _earlier(t: time, minutes: int) -> time:
    total = (t.hour * 60 + t.minute - minutes) % (24 * 60)
    return time(total // 60, total % 60)


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<![^ ])(?:" + pattern + r")(?![^ ])")


_H = r"(?P<h>\d{1,2})"
_MER = r"(?: (?P<mer>am|pm))?"
_OCLOCK = r"(?: oclock)?"
_SUFFIX = (
    _OCLOCK + _MER + r"(?:(?: ,)?(?: (?:in|of|during|on|this))?(?: the)?"
    r" (?P<dps>" + _PART_WORDS + r")| at (?P<dpn>night))?"
)
_PREFIX = (
    r"(?:(?P<dpp>" + _PART_WORDS + r")(?: ,)?(?: (?:at|around|by|for)){0,2}"
    r"(?: around)? )?"
)
_NOT_UNIT = r"(?! (?:unit|days?|weeks?|months?|hours?|minutes|\d+)(?![^ ]))"
_FRACTION = r"(?P<fr>half|quarter|\d{1,2})"
_MINUTE_WORDS = {"half": 30, "quarter": 15}


def _fraction(value: str) -> int | None:
    if value in _MINUTE_WORDS:
        return _MINUTE_WORDS[value]
    n = int(value)
    return n if 0 < n < 60 else None


def _group(m: re.Match[str], name: str) -> str | None:
    """Group `name` of `m`, or None if its pattern has no such group (rules share the resolvers)."""
    return m[name] if name in m.re.groupindex else None


def _said_part(m: re.Match[str]) -> str | None:
    """The day part said beside the time: after it ("6 in the evening", "8 at night") or before it."""
    return _group(m, "dps") or _group(m, "dpn") or _group(m, "dpp")


def _anchored(m: re.Match[str]) -> bool:
    """ "at"/"around"/"by", am/pm or a day part beside the number: it is a time, not a count."""
    return bool(_group(m, "at") or _group(m, "mer") or _group(m, "dps") or _group(m, "dpp"))


def _parts(m: re.Match[str], context: str | None) -> tuple[int, str | None, str | None]:
    """(hour, am/pm, day part) of a match with an hour group; the day part said elsewhere in the
    message (`context`) stands in when none is said beside the time."""
    return int(m["h"]), _group(m, "mer"), _said_part(m) or context


# Exact-time resolvers: a match of their rule's pattern to the time it means, or None when the
# match is not a time after all (the span is then left for later rules).
ExactResolver = Callable[[re.Match[str], str | None], time | None]


def _minutes_past(m: re.Match[str], context: str | None) -> time | None:
    """ "half past 3", "20 after 4", "3 and half" ("3 y cuarto", "3 e meia", "3 heures et demie")."""
    h, mer, part = _parts(m, context)
    fr = _fraction(m["fr"])
    if fr is None or (h > 12 and mer is not None):
        return None
    return resolve_hour(h, fr, mer, part)


def _minutes_to(m: re.Match[str], context: str | None) -> time | None:
    """ "quarter to 5", "10 before 6", "4 minus quarter" ("4 menos cuarto", "4h moins le quart")."""
    h, mer, part = _parts(m, context)
    fr = _fraction(m["fr"])
    base = resolve_hour(h, 0, mer, part)
    return _earlier(base, fr) if base is not None and fr is not None else None


def _half_before(m: re.Match[str], context: str | None) -> time | None:
    """ "halb 4" is 3:30."""
    h, mer, part = _parts(m, context)
    base = resolve_hour(h, 0, mer, part)
    return _earlier(base, 30) if base is not None else None


def _three_quarters_before(m: re.Match[str], context: str | None) -> time | None:
    """ "dreiviertel 4" is 3:45."""
    h, mer, part = _parts(m, context)
    base = resolve_hour(h, 0, mer, part)
    return _earlier(base, 15) if base is not None else None


def _colon_clock(m: re.Match[str], context: str | None) -> time | None:
    """ "3:30", "09:15", "0:30"."""
    h, mer, part = _parts(m, context)
    padded = m["h"].startswith("0") or h == 0
    return resolve_hour(h, int(m["mi"]), mer, part, padded)


def _half_hour(m: re.Match[str], context: str | None) -> time | None:
    """ "half 3" is 3:30 (British)."""
    h, mer, part = _parts(m, context)
    return resolve_hour(h, 30, mer, part)


def _dot_clock(m: re.Match[str], context: str | None) -> time | None:
    """ "at 9.45", "15.30 pm": a number with a dot is a time only when something marks it one."""
    if not _anchored(m):
        return None
    h, mer, part = _parts(m, context)
    return resolve_hour(h, int(m["mi"]), mer, part, m["h"].startswith("0"))


def _spaced_clock(m: re.Match[str], context: str | None) -> time | None:
    """ "at 7 05", "7 oh 5 pm", "15 Uhr 30"."""
    mi = m["mi"]
    if not _anchored(m):
        return None
    h, mer, part = _parts(m, context)
    if (len(mi) != 2 and not _group(m, "oh")) or h > 23:
        return None
    return resolve_hour(h, int(mi), mer, part)


def _hours24(m: re.Match[str], context: str | None) -> time | None:
    """ "15 hours", "17 horas": only 13-23 or zero-padded, so always a 24-hour clock."""
    return time(int(m["h"]))


def _noon_and_fraction(m: re.Match[str], context: str | None) -> time | None:
    """Noon or midnight and a half or a quarter: "midi et demi", "meio-dia e meia"."""
    return time(12 if m["word"] == "noon" else 0, _MINUTE_WORDS[m["fr"]])


def _around_noon(m: re.Match[str], context: str | None) -> time | None:
    """ "a quarter past noon" (12:15), "ten to midnight" (23:50)."""
    fr = _fraction(m["fr"])
    base = time(12) if m["word"] == "noon" else time(0)
    if fr is None:
        return None
    return _earlier(base, fr) if m["dir"] in ("to", "before") else time(base.hour, fr)


def _noon_or_midnight(m: re.Match[str], context: str | None) -> time | None:
    return time(12) if m["word"] == "noon" else time(0)


def _hour_or_hour(m: re.Match[str], context: str | None) -> time | None:
    """ "9 or 10" (in the morning), "3 or 4pm": the first is the preference."""
    h, mer, part = _parts(m, context)
    if h > 12 or int(m["h2"]) > 12 or not (_group(m, "at") or mer or part):
        return None
    return resolve_hour(h, 0, mer, part)


def _hour_instead(m: re.Match[str], context: str | None) -> time | None:
    """ "can we do 11 instead of 10?", "3 instead": the number put in place of a time is one."""
    h, mer, part = _parts(m, context)
    return resolve_hour(h, 0, mer, part) if 1 <= h <= 23 else None


def _military(m: re.Match[str], context: str | None) -> time | None:
    """ "at 1530", "0930 hours": a 24-hour clock without a colon."""
    hm, mer, part = m["hm"], _group(m, "mer"), _said_part(m) or context
    suffixed = m.group().endswith((" hours", " oclock"))
    if not suffixed and not mer and (not _group(m, "at") or len(hm) == 3):
        return None  # "at 200 C Street" is an address
    hour, minute = int(hm[:-2]), int(hm[-2:])
    return resolve_hour(hour, minute, mer, part, padded=len(hm) == 4 and not mer)


def _plain_hour(m: re.Match[str], context: str | None) -> time | None:
    """ "at 5", "5ish", "5 oclock", "evening 6"."""
    # a plain hour needs something that makes it a time
    if not (_anchored(m) or _group(m, "ish") or " oclock" in m.group()):
        return None
    h, mer, part = _parts(m, context)
    if h > 23:
        return None
    return resolve_hour(h, 0, mer, part)


@dataclass(frozen=True)
class ExactRule:
    """An exact time: its pattern over canonical tokens and the resolver that reads its groups.
    `plain` rules match a bare number, which may be an address or a count: their hits are weak
    unless a day part, am/pm, "oclock" or "hours" marks them."""

    pattern: re.Pattern[str]
    resolve: ExactResolver
    plain: bool = False


# Exact times, most specific first: "half past 3" must be read before "3" alone can be.
EXACT_RULES: tuple[ExactRule, ...] = (
    ExactRule(
        _rx(r"(?:a )?" + _FRACTION + r"(?: minutes)? (?P<dir>past|after|to|before) (?P<word>noon|midnight)"),
        _around_noon,
    ),
    ExactRule(
        _rx(_PREFIX + r"(?:a )?" + _FRACTION + r"(?: minutes)? (?:past|after) " + _H + _SUFFIX), _minutes_past
    ),
    ExactRule(
        _rx(
            r"(?<!from )(?<!between )" + _PREFIX + r"(?:a )?(?P<fr>quarter|5|10|20|25)"
            r"(?: minutes)? (?:to|before|until) " + _H + _SUFFIX
        ),
        _minutes_to,
    ),
    ExactRule(
        _rx(
            r"(?<!between )(?<!between at )(?:(?:at|around) )?"
            + _H
            + r"(?: oclock)? and (?P<fr>half|quarter|\d{2})"
            + _SUFFIX
        ),
        _minutes_past,
    ),
    ExactRule(
        _rx(r"(?:(?:at|around) )?" + _H + r"(?: oclock)? minus (?:the )?(?P<fr>quarter|\d{1,2})" + _SUFFIX),
        _minutes_to,
    ),
    ExactRule(_rx(_PREFIX + r"(?:at )?dehalf " + _H + _SUFFIX), _half_before),
    ExactRule(_rx(_PREFIX + r"(?:at )?dequarter3 " + _H + _SUFFIX), _three_quarters_before),
    ExactRule(_rx(_PREFIX + r"(?P<h>\d{1,2}):(?P<mi>\d{2})" + _SUFFIX), _colon_clock),
    ExactRule(_rx(_PREFIX + r"(?<!a )half " + _H + _SUFFIX), _half_hour),
    ExactRule(
        _rx(r"(?P<at>(?:at|around|by) )?" + _PREFIX + r"(?P<h>\d{1,2})\.(?P<mi>\d{2})" + _SUFFIX), _dot_clock
    ),
    ExactRule(
        _rx(
            r"(?P<at>(?:at|around|by) )?"
            + _PREFIX
            + _H
            + r" (?:oclock )?(?P<oh>oh )?(?P<mi>\d{1,2})"
            + _SUFFIX
        ),
        _spaced_clock,
    ),
    ExactRule(_rx(r"(?<!in )(?P<h>1[3-9]|2[0-3]|0\d) hours"), _hours24),  # "15 hrs"
    ExactRule(
        _rx(r"(?:at )?(?P<word>noon|midnight) (?:oclock )?and (?P<fr>half|quarter)"), _noon_and_fraction
    ),
    ExactRule(_rx(r"(?:12 )?(?P<word>noon|midnight)"), _noon_or_midnight),
    ExactRule(
        _rx(r"(?P<at>(?:at|around) )?" + _H + r" or (?:at )?(?P<h2>\d{1,2})" + _NOT_UNIT + _SUFFIX),
        _hour_or_hour,
    ),
    ExactRule(
        # "of" with nothing after it: the ruled-out time may already be blanked (bot.nlu.request)
        _rx(_H + r" instead(?=(?: of(?: \d{1,2}(?: oclock)?(?: (?:am|pm))?)?)?(?: \||$| ,))"),
        _hour_instead,
        plain=True,
    ),
    ExactRule(
        _rx(
            r"(?P<at>(?:at|around|by) )?(?P<hm>\d{3,4})(?: (?:hours|oclock))?"
            r"(?: (?P<mer>am|pm))?"
        ),
        _military,
        plain=True,
    ),
    ExactRule(
        _rx(
            _PREFIX
            + r"(?P<at>(?:at|around|by|about|until) )?(?:around )?"
            + _H
            + _NOT_UNIT
            + r"(?P<ish> ish)?"
            + _SUFFIX
        ),
        _plain_hour,
        plain=True,
    ),
)

_POINT = (
    r"(?:of )?(?:the )?(?:(?:at|around) )?(?:(?P<{n}noon>noon|midnight)|(?P<{n}h>\d{{1,2}})"
    r"(?::(?P<{n}mi>\d{{2}}))?(?: oclock)?(?: (?P<{n}mer>am|pm))?)"
)
_A = _POINT.format(n="a")
_B = _POINT.format(n="b")


def _point(m: re.Match[str], name: str, other_mer: str | None, context: str | None) -> time | None:
    g = m.groupdict()
    if g.get(name + "noon"):
        return time(12) if g[name + "noon"] == "noon" else time(0)
    raw = g.get(name + "h")
    if raw is None:
        return None
    mer = g.get(name + "mer") or other_mer
    minute = int(g.get(name + "mi") or 0)
    return resolve_hour(int(raw), minute, mer, context, raw.startswith("0"))


# Window resolvers: a match of their rule's pattern to the (start, end) it means, or None.
WindowResolver = Callable[[re.Match[str], str | None], tuple[time, time] | None]


def _between(m: re.Match[str], context: str | None) -> tuple[time, time] | None:
    """ "between 2 and 4", "from 9 to 11", "11-1pm": the first point borrows the second's am/pm."""
    b = _point(m, "b", None, context)
    a = _point(m, "a", m["bmer"] if not m["amer"] else None, context)
    if a is None or b is None:
        return None
    if m["bmer"] and not m["amer"] and a > b and a.hour >= 12:
        a = time(a.hour - 12, a.minute)  # "11-1pm" keeps 11 in the morning
    return (a, b) if a < b else None


def _range(m: re.Match[str], context: str | None) -> tuple[time, time] | None:
    """ "2-5", "9 until noon": a window, unless the numbers look like something else."""
    if not (m["amer"] or m["bmer"] or m["anoon"] or m["bnoon"]):
        # "2-5" is a window; "03-18" or "9-17" alone is more likely something else
        ah, bh = m["ah"] or "", m["bh"] or ""
        if (
            ah.startswith("0")
            or bh.startswith("0")
            or not (0 < int(ah or 0) <= 12 and 0 < int(bh or 0) <= 12)
        ):
            return None
    return _between(m, context)


def _after(m: re.Match[str], context: str | None) -> tuple[time, time] | None:
    """ "after 5", "from 4 onwards": until the end of the day."""
    a = _point(m, "a", None, context)
    return (a, END_OF_DAY) if a is not None else None


def _before(m: re.Match[str], context: str | None) -> tuple[time, time] | None:
    """ "before noon": from the start of the day; "before midnight" says nothing."""
    a = _point(m, "a", None, context)
    if a is None or a == START_OF_DAY:
        return None
    return (START_OF_DAY, a)


def _after_lunch(m: re.Match[str], context: str | None) -> tuple[time, time] | None:
    return (time(14), END_OF_DAY)


def _after_work(m: re.Match[str], context: str | None) -> tuple[time, time] | None:
    return (time(17), time(21))


@dataclass(frozen=True)
class WindowRule:
    """A window of time: its pattern over canonical tokens and the resolver that reads its groups."""

    pattern: re.Pattern[str]
    resolve: WindowResolver


WINDOW_RULES: tuple[WindowRule, ...] = (
    WindowRule(_rx(r"(?:between|from) " + _A + r" (?:and|-|to|until) " + _B), _between),
    WindowRule(_rx(_A + r" (?:-|until) " + _B), _range),
    WindowRule(_rx(r"(?<!\d )(?<!quarter )(?<!half )(?:any ?time )?(?:after|since) " + _A), _after),
    WindowRule(_rx(r"(?:any ?time )?from " + _A + r" (?:onwards|on)"), _after),
    WindowRule(_rx(r"(?<!\d )(?<!quarter )(?:any ?time )?before " + _A), _before),
    WindowRule(_rx(r"(?:any ?time )?after (?:the )?lunch"), _after_lunch),
    WindowRule(_rx(r"(?:any ?time )?afterwork"), _after_work),
)

_DIGIT = re.compile(r"\d")
# Words every window rule needs one of: most messages skip the window rules entirely.
_WINDOW_WORDS = ("between", "from", "after", "before", "since", " - ", "until", "lunch", "afterwork")
_PART_RX = _rx(r"(?:(?P<mod>early|late|mid) )?(?:in )?(?:the )?(?P<part>" + _PART_WORDS + r"|lunch)")


def _free(canon: str, taken: bytearray, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Matches of `pattern` whose span no earlier hit has claimed (checked as each is reached)."""
    for m in pattern.finditer(canon):
        s, e = m.span()
        if not any(taken[s:e]):
            yield m


def _claim(taken: bytearray, m: re.Match[str]) -> None:
    s, e = m.span()
    taken[s:e] = b"\x01" * (e - s)


def _windows(canon: str, context: str | None, taken: bytearray) -> list[TimeHit]:
    """Windows by `WINDOW_RULES`, in table order, each claiming its span in `taken`."""
    hits: list[TimeHit] = []
    for rule in WINDOW_RULES:
        for m in _free(canon, taken, rule.pattern):
            window = rule.resolve(m, context)
            if window is None:
                continue
            _claim(taken, m)
            hits.append(TimeHit(*m.span(), window=window))
    return hits


def _strong(m: re.Match[str]) -> bool:
    """A bare number is surely a time when a day part, am/pm, "oclock" or "hours" goes with it."""
    return bool(_said_part(m) or _group(m, "mer") or m.group().endswith((" oclock", " hours", " am", " pm")))


def _exact_times(canon: str, context: str | None, taken: bytearray) -> list[TimeHit]:
    """Exact times by `EXACT_RULES`, in table order, in spans no window or earlier rule claimed."""
    hits: list[TimeHit] = []
    for rule in EXACT_RULES:
        for m in _free(canon, taken, rule.pattern):
            t = rule.resolve(m, context)
            if t is None:
                continue
            _claim(taken, m)
            strong = not rule.plain or _strong(m)
            hits.append(TimeHit(*m.span(), time=t, part=_said_part(m), strong=strong))
    return hits


def _narrow(start: time, end: time, mod: str | None) -> tuple[time, time]:
    """The day part [start, end) narrowed by "early", "late" or "mid"."""
    # "early"/"late" narrow a day part to its first or second half, "mid" to its middle
    if mod == "early":
        end = time((start.hour + end.hour) // 2)
    elif mod == "late" and end != END_OF_DAY:
        start = time((start.hour + end.hour) // 2)
    elif mod == "mid" and end != END_OF_DAY:  # the middle half: mid-morning 09-11
        quarter = (end.hour - start.hour) // 4
        start, end = time(start.hour + quarter), time(end.hour - quarter)
    return start, end


def _day_parts(canon: str, taken: bytearray) -> list[TimeHit]:
    """Day parts as windows ("morning", "late afternoon"); they claim no span."""
    return [
        TimeHit(*m.span(), window=_narrow(*PARTS[m["part"]], m["mod"]), part=m["part"])
        for m in _free(canon, taken, _PART_RX)
    ]


def find_times(canon: str, context: str | None) -> tuple[list[TimeHit], list[TimeHit]]:
    """(exact times, windows) in `canon`, left to right. `context` is a day part said elsewhere
    in the message ("tonight"), used when a time has no am/pm of its own."""
    taken = bytearray(len(canon))
    has_window = any(word in canon for word in _WINDOW_WORDS)
    windows = _windows(canon, context, taken) if has_window else []
    has_time = _DIGIT.search(canon) is not None or "noon" in canon or "midnight" in canon
    exact = _exact_times(canon, context, taken) if has_time else []
    windows += _day_parts(canon, taken)
    exact.sort(key=lambda h: h.start)
    windows.sort(key=lambda h: h.start)
    return exact, windows


def day_part_in(canon: str) -> str | None:
    """The first day part word in `canon`, as context for times without am/pm."""
    m = _PART_RX.search(canon)
    return m["part"] if m and m["part"] != "lunch" else None


_BARE = re.compile(r"^(?:at )?(?P<h>\d{1,2})(?: ish)?(?= \||$| ,| or | and | pls| _)")


def bare_hour_after(rest: str, context: str | None) -> time | None:
    """ "tmrw 3": a bare number right after a date is an hour."""
    m = _BARE.match(rest)
    if m is None:
        return None
    h = int(m["h"])
    return resolve_hour(h, 0, None, context) if 1 <= h <= 23 else None
