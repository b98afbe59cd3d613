"""Times of day and windows in a canonical token string (see `tokens`).

Conventions (DESIGN.md): a bare hour 1-7 means pm, 8-11 am, 12 noon; a zero-padded or 13-23 hour
is a 24-hour clock; a day part next to the hour ("1:30 in the afternoon", "evening 6") or
anywhere in the message ("tonight ... at 8") sets am/pm; am/pm themselves win over everything.
"""

from __future__ import annotations

import datetime as dt
import re
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
        if part in ("afternoon", "evening", "tonight") and hour < 12:
            hour += 12
        elif part == "night" and hour >= 6:
            hour = (hour + 12) % 24
        elif part in ("evening", "tonight") and hour == 12:
            hour = 0
    elif not padded and 1 <= hour <= 7:
        hour += 12
    return time(hour, minute)


def _minus(t: time, minutes: int) -> time:
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

# Exact times, most specific first; the kind tells `_exact` how to read the groups.
_EXACT: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("past", _rx(_PREFIX + r"(?:a )?" + _FRACTION + r"(?: minutes)? (?:past|after) " + _H + _SUFFIX)),
    (
        "to",
        _rx(
            r"(?<!from )(?<!between )" + _PREFIX + r"(?:a )?(?P<fr>quarter|5|10|20|25)"
            r"(?: minutes)? (?:to|before|until) " + _H + _SUFFIX
        ),
    ),
    (
        "and",
        _rx(
            r"(?<!between )(?<!between at )(?:(?:at|around) )?"
            + _H
            + r"(?: oclock)? and (?P<fr>half|quarter|\d{2})"
            + _SUFFIX
        ),
    ),
    (
        "minus",
        _rx(r"(?:(?:at|around) )?" + _H + r"(?: oclock)? minus (?:the )?(?P<fr>quarter|\d{1,2})" + _SUFFIX),
    ),
    ("dehalf", _rx(_PREFIX + r"(?:at )?dehalf " + _H + _SUFFIX)),
    ("dequarter", _rx(_PREFIX + r"(?:at )?dequarter3 " + _H + _SUFFIX)),
    ("clock", _rx(_PREFIX + r"(?P<h>\d{1,2}):(?P<mi>\d{2})" + _SUFFIX)),
    ("half", _rx(_PREFIX + r"(?<!a )half " + _H + _SUFFIX)),
    ("dot", _rx(r"(?P<at>(?:at|around|by) )?" + _PREFIX + r"(?P<h>\d{1,2})\.(?P<mi>\d{2})" + _SUFFIX)),
    (
        "spaced",
        _rx(
            r"(?P<at>(?:at|around|by) )?"
            + _PREFIX
            + _H
            + r" (?:oclock )?(?P<oh>oh )?(?P<mi>\d{1,2})"
            + _SUFFIX
        ),
    ),
    ("hours24", _rx(r"(?<!in )(?P<h>1[3-9]|2[0-3]|0\d) hours")),  # "15 hrs"
    ("noonand", _rx(r"(?:at )?(?P<word>noon|midnight) (?:oclock )?and (?P<fr>half|quarter)")),
    ("noon", _rx(r"(?:12 )?(?P<word>noon|midnight)")),
    ("or", _rx(r"(?P<at>(?:at|around) )?" + _H + r" or (?:at )?(?P<h2>\d{1,2})" + _NOT_UNIT + _SUFFIX)),
    (
        "military",
        _rx(
            r"(?P<at>(?:at|around|by) )?(?P<hm>\d{3,4})(?: (?:hours|oclock))?"
            r"(?: (?P<mer>am|pm))?"
        ),
    ),
    (
        "hour",
        _rx(
            _PREFIX
            + r"(?P<at>(?:at|around|by|about|until) )?(?:around )?"
            + _H
            + _NOT_UNIT
            + r"(?P<ish> ish)?"
            + _SUFFIX
        ),
    ),
)

_POINT = (
    r"(?:of )?(?:the )?(?:(?:at|around) )?(?:(?P<{n}noon>noon|midnight)|(?P<{n}h>\d{{1,2}})"
    r"(?::(?P<{n}mi>\d{{2}}))?(?: oclock)?(?: (?P<{n}mer>am|pm))?)"
)
_A = _POINT.format(n="a")
_B = _POINT.format(n="b")

_WINDOWS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("between", _rx(r"(?:between|from) " + _A + r" (?:and|-|to|until) " + _B)),
    ("range", _rx(_A + r" (?:-|until) " + _B)),
    ("after", _rx(r"(?<!\d )(?<!quarter )(?<!half )(?:any ?time )?(?:after|since) " + _A)),
    ("after", _rx(r"(?:any ?time )?from " + _A + r" (?:onwards|on)")),
    ("before", _rx(r"(?<!\d )(?<!quarter )(?:any ?time )?before " + _A)),
    ("afterlunch", _rx(r"(?:any ?time )?after (?:the )?lunch")),
    ("afterwork", _rx(r"(?:any ?time )?afterwork")),
)

_DIGIT = re.compile(r"\d")
# Words every window rule needs one of: most messages skip the window rules entirely.
_WINDOW_WORDS = ("between", "from", "after", "before", "since", " - ", "until", "lunch", "afterwork")
_PART_RX = _rx(r"(?:(?P<mod>early|late|mid) )?(?:in )?(?:the )?(?P<part>" + _PART_WORDS + r"|lunch)")
_MINUTE_WORDS = {"half": 30, "quarter": 15}


def _fraction(value: str) -> int | None:
    if value in _MINUTE_WORDS:
        return _MINUTE_WORDS[value]
    n = int(value)
    return n if 0 < n < 60 else None


def _exact(kind: str, m: re.Match[str], context: str | None) -> time | None:
    g = m.groupdict()
    part = g.get("dps") or g.get("dpn") or g.get("dpp") or context
    mer = g.get("mer")
    h = int(g["h"]) if g.get("h") else 0
    if kind == "hours24":
        return time(h)
    if kind == "noonand":  # "midi et demi", "meio-dia e meia"
        return time(12 if g["word"] == "noon" else 0, _MINUTE_WORDS[g["fr"]])
    if kind == "noon":
        return time(12) if g["word"] == "noon" else time(0)
    if kind == "military":  # "at 1530", "0930 hours": a 24-hour clock without a colon
        hm = g["hm"]
        suffixed = m.group().endswith((" hours", " oclock"))
        if not suffixed and not mer and (not g.get("at") or len(hm) == 3):
            return None  # "at 200 C Street" is an address
        hour, minute = int(hm[:-2]), int(hm[-2:])
        return resolve_hour(hour, minute, mer, part, padded=len(hm) == 4 and not mer)
    if kind in ("past", "and"):
        fr = _fraction(g["fr"])
        if fr is None or (h > 12 and mer is not None):
            return None
        return resolve_hour(h, fr, mer, part)
    if kind in ("to", "minus"):
        fr = _fraction(g["fr"])
        base = resolve_hour(h, 0, mer, part)
        return _minus(base, fr) if base is not None and fr is not None else None
    if kind == "or":  # "9 or 10" (in the morning), "3 or 4pm": the first is the preference
        if h > 12 or int(g["h2"]) > 12 or not (g.get("at") or mer or part):
            return None
        return resolve_hour(h, 0, mer, part)
    if kind == "dehalf":
        base = resolve_hour(h, 0, mer, part)
        return _minus(base, 30) if base is not None else None
    if kind == "dequarter":
        base = resolve_hour(h, 0, mer, part)
        return _minus(base, 15) if base is not None else None
    if kind == "clock":
        padded = g["h"].startswith("0") or h == 0
        return resolve_hour(h, int(g["mi"]), mer, part, padded)
    if kind == "half":
        return resolve_hour(h, 30, mer, part)
    if kind == "dot":
        if not (g.get("at") or mer or g.get("dps") or g.get("dpp")):
            return None
        return resolve_hour(h, int(g["mi"]), mer, part, g["h"].startswith("0"))
    if kind == "spaced":
        mi = g["mi"]
        if not (g.get("at") or mer or g.get("dps") or g.get("dpp")):
            return None
        if (len(mi) != 2 and not g.get("oh")) or h > 23:
            return None
        return resolve_hour(h, int(mi), mer, part)
    # a plain hour needs something that makes it a time
    if not (g.get("at") or g.get("ish") or mer or g.get("dps") or g.get("dpp") or " oclock" in m.group()):
        return None
    if h > 23:
        return None
    return resolve_hour(h, 0, mer, part)


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


def find_times(canon: str, context: str | None) -> tuple[list[TimeHit], list[TimeHit]]:
    """(exact times, windows) in `canon`, left to right. `context` is a day part said elsewhere
    in the message ("tonight"), used when a time has no am/pm of its own."""
    taken = bytearray(len(canon))
    windows: list[TimeHit] = []
    has_digit = _DIGIT.search(canon) is not None
    has_window = any(word in canon for word in _WINDOW_WORDS)
    for kind, pattern in _WINDOWS if has_window else ():
        for m in pattern.finditer(canon):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            if kind == "range" and not (m["amer"] or m["bmer"] or m["anoon"] or m["bnoon"]):
                # "2-5" is a window; "03-18" or "9-17" alone is more likely something else
                ah, bh = m["ah"] or "", m["bh"] or ""
                if (
                    ah.startswith("0")
                    or bh.startswith("0")
                    or not (0 < int(ah or 0) <= 12 and 0 < int(bh or 0) <= 12)
                ):
                    continue
            if kind in ("between", "range"):
                b = _point(m, "b", None, context)
                a = _point(m, "a", m["bmer"] if not m["amer"] else None, context)
                if a is None or b is None:
                    continue
                if m["bmer"] and not m["amer"] and a > b and a.hour >= 12:
                    a = time(a.hour - 12, a.minute)  # "11-1pm" keeps 11 in the morning
                window = (a, b) if a < b else None
                if window is None:
                    continue
            elif kind == "afterlunch":
                window = (time(14), END_OF_DAY)
            elif kind == "afterwork":
                window = (time(17), time(21))
            elif kind == "after":
                a = _point(m, "a", None, context)
                if a is None:
                    continue
                window = (a, END_OF_DAY)
            else:
                a = _point(m, "a", None, context)
                if a is None or a == START_OF_DAY:
                    continue
                window = (START_OF_DAY, a)
            taken[s:e] = b"\x01" * (e - s)
            windows.append(TimeHit(s, e, window=window))
    exact: list[TimeHit] = []
    for kind, pattern in _EXACT if has_digit or "noon" in canon or "midnight" in canon else ():
        for m in pattern.finditer(canon):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            t = _exact(kind, m, context)
            if t is None:
                continue
            g = m.groupdict()
            taken[s:e] = b"\x01" * (e - s)
            part = g.get("dps") or g.get("dpn") or g.get("dpp")
            strong = kind not in ("hour", "military") or bool(
                part or g.get("mer") or m.group().endswith((" oclock", " hours", " am", " pm"))
            )
            exact.append(TimeHit(s, e, time=t, part=part, strong=strong))
    for m in _PART_RX.finditer(canon):
        s, e = m.span()
        if any(taken[s:e]):
            continue
        start, end = PARTS[m["part"]]
        # "early"/"late" narrow a day part to its first or second half, "mid" to its middle
        if m["mod"] == "early":
            end = time((start.hour + end.hour) // 2)
        elif m["mod"] == "late" and end != END_OF_DAY:
            start = time((start.hour + end.hour) // 2)
        elif m["mod"] == "mid" and end != END_OF_DAY:  # the middle half: mid-morning 09-11
            quarter = (end.hour - start.hour) // 4
            start, end = time(start.hour + quarter), time(end.hour - quarter)
        windows.append(TimeHit(s, e, window=(start, end), part=m["part"]))
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
