"""Date expressions in a canonical token string (see `tokens`): rules tried in order, most
specific first, each claiming its span so a later, vaguer rule cannot reuse it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from bot.nlu import daymath


@dataclass(frozen=True)
class DateHit:
    """One date expression found at [start, end) of the canonical string."""

    start: int
    end: int
    dates: tuple[date, ...] = ()
    date_range: tuple[date, date] | None = None
    weekday: int | None = None  # a weekday alone; resolved once the time is known
    day_of_month: int | None = None  # "the 5th"; a neighbouring weekday may refine it
    evening: bool = False  # "tonight"
    weak: bool = False  # made only of words that are usually not dates ("sat", "sun")
    passed: date | None = None  # "1 december" said on 4 December: this year's, which has passed


RECENT_PAST = timedelta(days=62)
"""A day and month without a year that fell this recently is a date that has passed, not next year's:
said on 4 December, "1 december" is a slip to point out, while "3 january" is next month."""


def _month_day_hit(m: re.Match[str], today: date, month: int, dom: int, year: str | None) -> DateHit | None:
    if year:
        d = daymath.safe_date(int(year), month, dom)
        return DateHit(*_span(m), dates=(d,)) if d else None
    this_year = daymath.safe_date(today.year, month, dom)
    if this_year is not None and today - RECENT_PAST <= this_year < today:
        return DateHit(*_span(m), passed=this_year)
    d = daymath.next_month_day(today, month, dom)
    return DateHit(*_span(m), dates=(d,)) if d else None


Handler = Callable[[re.Match[str], date], DateHit | None]


@dataclass(frozen=True)
class Rule:
    """A date expression: its pattern over canonical tokens, the resolver that turns a match into a
    date, and the tokens it needs (any of them), so most rules are skipped without running their regex."""

    pattern: re.Pattern[str]
    resolve: Handler
    needs: tuple[str, ...]


_WD = r"(?P<wdt>w?wd(?P<wd>\d))"
_MONTH = r"(?P<mt>w?mo(?P<m>\d{1,2}))"
_NEXT_WEEK = r"(?:(?:the )?(?:next|following) week|(?:the )?week (?:next|following))"
_THIS_WEEK = r"(?:this week)"
_COUNT = r"(?P<n>\d{1,3}|a)"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<![^ ])(?:" + pattern + r")(?![^ ])")


def _span(m: re.Match[str]) -> tuple[int, int]:
    return m.start(), m.end()


def _year(m: re.Match[str], default: int) -> int:
    y = m.groupdict().get("y")
    return int(y) if y else default


def _iso(m: re.Match[str], today: date) -> DateHit | None:
    d = daymath.safe_date(int(m["y"]), int(m["m"]), int(m["d"]))
    return DateHit(*_span(m), dates=(d,)) if d else None


def _month_day(m: re.Match[str], today: date) -> DateHit | None:
    g = m.groupdict()
    if g.get("m") is not None:
        month, dom, year, weak_ok = int(g["m"]), int(g["d"]), g.get("y"), True
    else:
        month, dom, year = int(g["m2"]), int(g["d2"]), g.get("y2")
        # "5 may" is a date; "at 5 may be" is not: a weak month after a plain number needs
        # an ordinal, "of", or nothing but punctuation after it.
        weak_ok = bool(g.get("th2") or g.get("of")) or m.group().startswith("the ")
        if not weak_ok:
            after = m.string[m.end() : m.end() + 3]
            weak_ok = after in ("", " |", " ,") or after.startswith(" at")
    if (g.get("mt") or g.get("mt2") or "").startswith("w") and not weak_ok:
        return None
    return _month_day_hit(m, today, month, dom, year)


def _numeric_month_day(m: re.Match[str], today: date) -> DateHit | None:
    return _month_day_hit(m, today, int(m["m"]), int(m["d"]), m["y"])


def _dom_of_month(m: re.Match[str], today: date) -> DateHit | None:
    months = 0 if m["which"] == "this" else 1
    first = daymath.add_months(today.replace(day=1), months)
    d = daymath.safe_date(first.year, first.month, int(m["d"]))
    return DateHit(*_span(m), dates=(d,)) if d else None


def _weekday_next_week(m: re.Match[str], today: date) -> DateHit | None:
    return DateHit(*_span(m), dates=(daymath.weekday_in_week(today, int(m["wd"]), 1),))


def _weekday_week_after_next(m: re.Match[str], today: date) -> DateHit | None:
    return DateHit(*_span(m), dates=(daymath.weekday_in_week(today, int(m["wd"]), 2),))


def _weekday_this_week(m: re.Match[str], today: date) -> DateHit | None:
    d = daymath.weekday_in_week(today, int(m["wd"]), 0)
    if d < today:  # already past: a customer means the future
        d = daymath.coming_weekday(today, int(m["wd"]), include_today=False)
    return DateHit(*_span(m), dates=(d,))


def _weekday_after_next(m: re.Match[str], today: date) -> DateHit | None:
    d = daymath.coming_weekday(today, int(m["wd"]), include_today=False)
    return DateHit(*_span(m), dates=(d + timedelta(days=7),))


def _next_weekday(m: re.Match[str], today: date) -> DateHit | None:
    # "next friday" is ambiguous: the coming one or the one after. First comes the weekday of
    # next calendar week, as "this friday" is the one of this week (said on a Friday, "next
    # friday" is a week later, as in SGD; said on a Friday, "next saturday" is not tomorrow);
    # then the other reading: the nearest one, or a week later when the two coincide.
    weekday = int(m["wd"])
    first = daymath.weekday_in_week(today, weekday, 1)
    nearest = daymath.coming_weekday(today, weekday, include_today=False)
    other = nearest if nearest != first else first + timedelta(days=7)
    return DateHit(*_span(m), dates=(first, other))


def _next_weekday_nearest(m: re.Match[str], today: date) -> DateHit | None:
    # "el viernes que viene", "vendredi prochain", "sexta que vem", "nächsten Freitag": in these
    # languages the nearest one comes first, then the one a week later.
    d = daymath.coming_weekday(today, int(m["wd"]), include_today=False)
    return DateHit(*_span(m), dates=(d, d + timedelta(days=7)))


def _this_weekday(m: re.Match[str], today: date) -> DateHit | None:
    return DateHit(*_span(m), dates=(daymath.coming_weekday(today, int(m["wd"]), True),))


def _last_weekday(m: re.Match[str], today: date) -> DateHit | None:
    """ "last tuesday": the one before today (a week ago when said on a tuesday)."""
    back = (today.weekday() - int(m["wd"])) % 7 or 7
    return DateHit(*_span(m), dates=(today - timedelta(days=back),))


def _month_of(m: re.Match[str], today: date) -> tuple[int, int]:
    """The year and month a rule names ("october": this year's, or next year's once it has passed)."""
    month = int(m["m"])
    year = int(m["y"]) if m.groupdict().get("y") else today.year + (1 if month < today.month else 0)
    return year, month


def _last_day_of(m: re.Match[str], today: date) -> DateHit | None:
    """ "the last day of october"."""
    year, month = _month_of(m, today)
    return DateHit(*_span(m), dates=(daymath.month_end(year, month),))


def _nth_weekday_of(m: re.Match[str], today: date) -> DateHit | None:
    """ "the first monday of march", "the last friday in june"."""
    year, month = _month_of(m, today)
    weekday = int(m["wd"])
    if m["nth"] == "last":
        end = daymath.month_end(year, month)
        return DateHit(*_span(m), dates=(end - timedelta(days=(end.weekday() - weekday) % 7),))
    first = date(year, month, 1)
    d = first + timedelta(days=(weekday - first.weekday()) % 7, weeks=int(m["nth"][:-2]) - 1)
    return DateHit(*_span(m), dates=(d,)) if d.month == month else None


def _weekday_in_eight(m: re.Match[str], today: date) -> DateHit | None:
    """French "lundi en huit" (a week on from the coming monday), "lundi en quinze" (two weeks on)."""
    weeks = 1 if m["n"] == "8" else 2
    return DateHit(
        *_span(m),
        dates=(daymath.coming_weekday(today, int(m["wd"]), include_today=False) + timedelta(weeks=weeks),),
    )


def _weekday(m: re.Match[str], today: date) -> DateHit | None:
    return DateHit(*_span(m), weekday=int(m["wd"]), weak=m["wdt"].startswith("ww"))


def _relative(m: re.Match[str], today: date) -> DateHit | None:
    word = m["rel"]
    offset = {"today": 0, "tonight": 0, "this": 0, "tomorrow": 1, "dayafter": 2, "yesterday": -1}[word]
    return DateHit(*_span(m), dates=(today + timedelta(days=offset),), evening=word == "tonight")


def _count(m: re.Match[str]) -> int:
    n = m["n"]
    return 1 if n == "a" else int(n)


def _offset(m: re.Match[str], today: date) -> DateHit | None:
    n = _count(m)
    unit = m["unit"]
    base = today
    if m.groupdict().get("base") == "tomorrow":
        base = today + timedelta(days=1)
    elif m.groupdict().get("bwd"):
        base = daymath.coming_weekday(today, int(m["bwd"]), include_today=False)
    if n > 400:
        return None
    if unit.startswith("day"):
        d = base + timedelta(days=n)
    elif unit.startswith("week"):
        d = base + timedelta(weeks=n)
    elif unit == "fortnight":
        d = base + timedelta(weeks=2 * n)
    else:
        d = daymath.add_months(base, n)
    return DateHit(*_span(m), dates=(d,))


def _weeks_on(m: re.Match[str], today: date) -> DateHit | None:
    """ "in 2 weeks on tuesday": the tuesday of the week two weeks from this one (Monday first)."""
    weeks = _count(m) * (2 if m["unit"] == "fortnight" else 1)
    if weeks > 60:
        return None
    later = today + timedelta(weeks=weeks)
    return DateHit(*_span(m), dates=(later - timedelta(days=later.weekday() - int(m["wd"])),))


def _nth_weekday_from_now(m: re.Match[str], today: date) -> DateHit | None:
    """ "3 fridays from now": the third friday to come (today's own weekday not counted)."""
    n = int(m["n"])
    if not 1 <= n <= 60:
        return None
    first = daymath.coming_weekday(today, int(m["wd"]), include_today=False)
    return DateHit(*_span(m), dates=(first + timedelta(weeks=n - 1),))


def _next_days(m: re.Match[str], today: date) -> DateHit | None:
    """ "the next 3 days", "upcoming 2 days": from tomorrow on."""
    n = int(m["n"])
    return (
        DateHit(*_span(m), date_range=(today + timedelta(days=1), today + timedelta(days=n)))
        if 1 <= n <= 31
        else None
    )


def _next_week(m: re.Match[str], today: date) -> DateHit | None:
    start = daymath.weekday_in_week(today, 0, 2 if m.groupdict().get("after") else 1)
    part = m.groupdict().get("part")
    if part in ("early", "start"):
        return DateHit(*_span(m), date_range=(start, start + timedelta(days=2)))
    if part in ("late", "end"):
        return DateHit(*_span(m), date_range=(start + timedelta(days=3), start + timedelta(6)))
    return DateHit(*_span(m), date_range=(start, start + timedelta(days=6)))


def _this_week(m: re.Match[str], today: date) -> DateHit | None:
    end = daymath.weekday_in_week(today, 6, 0)
    start = today + timedelta(days=1) if m.groupdict().get("later") else today
    return DateHit(*_span(m), date_range=(min(start, end), end))


def _month_range(m: re.Match[str], today: date) -> DateHit | None:
    groups = m.groupdict()
    if groups.get("mt") and groups["mt"].startswith("w"):
        # "in may" is a month; "may I" is not
        after = m.string[m.end() : m.end() + 3]
        if not (m.group().startswith(("in ", "during ")) and after in ("", " |", " ,")):
            return None
    if groups.get("rel"):
        first = daymath.add_months(today.replace(day=1), 0 if groups["rel"] == "this" else 1)
    else:
        month = int(m["m"])
        year = _year(m, today.year)
        if not groups.get("y") and month < today.month:
            year += 1
        first = date(year, month, 1)
    last = daymath.month_end(first.year, first.month)
    part = groups.get("part")
    if part == "early" or part == "start":
        start, end = first, first + timedelta(days=9)
    elif part == "mid":
        start, end = first + timedelta(days=10), first + timedelta(days=19)
    elif part in ("late", "end"):
        start, end = first + timedelta(days=20), last
    else:
        start, end = first, last
    if end < today:
        return None
    return DateHit(*_span(m), date_range=(max(start, today), end))


def _day_of_month(m: re.Match[str], today: date) -> DateHit | None:
    dom = int(m["d"])
    if not 1 <= dom <= 31:
        return None
    return DateHit(*_span(m), day_of_month=dom)


def _day_after_tomorrow(m: re.Match[str], today: date) -> DateHit | None:
    return DateHit(*_span(m), dates=(today + timedelta(days=2),))


def _weekend_alt(m: re.Match[str], today: date) -> DateHit | None:
    nxt = bool(m["nextwe"] or m["nextwe2"])
    sat = daymath.weekday_in_week(today, 5, 1 if nxt else 0)
    return DateHit(*_span(m), date_range=(max(sat, today), sat + timedelta(days=1)))


def _weekend_after_next(m: re.Match[str], today: date) -> DateHit | None:
    sat = daymath.weekday_in_week(today, 5, 2)
    return DateHit(*_span(m), date_range=(sat, sat + timedelta(days=1)))


def _month_rel_alt(m: re.Match[str], today: date) -> DateHit | None:
    rel = m["rel"] or m["rel2"]
    first = daymath.add_months(today.replace(day=1), 1 if rel == "next" else 0)
    last = daymath.month_end(first.year, first.month)
    part = m["part"]
    if part in ("early", "start"):
        start, end = first, first + timedelta(days=9)
    elif part == "mid":
        start, end = first + timedelta(days=10), first + timedelta(days=19)
    elif part in ("late", "end"):
        start, end = first + timedelta(days=20), last
    else:
        start, end = first, last
    if end < today:
        return None
    return DateHit(*_span(m), date_range=(max(start, today), end))


_NOT_TIME = r"(?! (?:am|pm|oclock|ish|unit|hours|minutes)(?![^ ]))"
_MONTH_DAY_RX = _rx(
    r"(?:the )?(?:day )?(?:of )?(?P<mt>w?mo(?P<m>\d{1,2})) (?:the )?(?P<d>\d{1,2})(?:th|tw)?"
    + _NOT_TIME
    + r"(?: ,)?(?: of)?(?: (?P<y>\d{4}))?"
    r"|(?:the )?(?P<d2>\d{1,2})(?P<th2>th|tw)? (?:\| )?(?P<of>of )?(?:the )?(?:day )?(?:of )?"
    r"(?:the )?(?:month of )?(?P<mt2>w?mo(?P<m2>\d{1,2}))(?: ,)?(?: of)?(?: (?P<y2>\d{4}))?"
)

RULES: tuple[Rule, ...] = (
    Rule(_rx(r"ymd(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"), _iso, needs=("ymd",)),
    Rule(_rx(r"md(?P<m>\d{1,2})-(?P<d>\d{1,2})(?: ,)?(?: (?P<y>\d{4}))?"), _numeric_month_day, needs=("md",)),
    # before the month rules take the month: "the last day of october", "the first monday of march"
    Rule(
        _rx(r"(?:the )?last day (?:of|in) (?:the )?(?P<mt>w?mo(?P<m>\d{1,2}))(?: (?P<y>\d{4}))?"),
        _last_day_of,
        needs=("mo",),
    ),
    Rule(
        _rx(
            r"(?:the )?(?P<nth>[1-5]t[hw]|last) "
            + _WD
            + r" (?:of|in) (?:the )?(?P<mt>w?mo(?P<m>\d{1,2}))(?: (?P<y>\d{4}))?"
        ),
        _nth_weekday_of,
        needs=("mo",),
    ),
    Rule(_MONTH_DAY_RX, _month_day, needs=("mo",)),
    Rule(
        _rx(
            r"(?:the )?(?:day )?(?P<d>\d{1,2})(?:th|tw)? (?:of )?(?:the )?(?P<which>this|next|coming)"
            r" month"
        ),
        _dom_of_month,
        needs=("month",),
    ),
    Rule(
        _rx(r"(?P<which>this|next) month (?:, )?(?:on )?(?:the )?(?P<d>\d{1,2})(?:th|tw)?"),
        _dom_of_month,
        needs=("month",),
    ),
    Rule(
        _rx(_WD + r" (?:,? )?(?:of |on |in )?(?:the )?week after next"),
        _weekday_week_after_next,
        needs=("wd",),
    ),
    Rule(_rx(_WD + r" (?:,? )?(?:of |on |in )?" + _NEXT_WEEK), _weekday_next_week, needs=("wd",)),
    Rule(_rx(_NEXT_WEEK + r" (?:,? )?(?:on )?(?:the )?" + _WD), _weekday_next_week, needs=("wd",)),
    Rule(_rx(_WD + r" (?:,? )?(?:of |on |in )?" + _THIS_WEEK), _weekday_this_week, needs=("wd",)),
    Rule(_rx(_THIS_WEEK + r" (?:,? )?(?:on )?(?:the )?" + _WD), _weekday_this_week, needs=("wd",)),
    Rule(_rx(r"(?:the )?" + _WD + r" after next"), _weekday_after_next, needs=("wd",)),
    Rule(_rx(_WD + r" week(?! (?:after|next|following))"), _weekday_after_next, needs=("wd",)),
    Rule(_rx(r"(?:the )?(?:next|following) " + _WD), _next_weekday, needs=("wd",)),
    Rule(_rx(r"(?:the )?" + _WD + r" next"), _next_weekday, needs=("wd",)),
    Rule(_rx(r"(?:this|coming) " + _WD), _this_weekday, needs=("wd",)),
    Rule(_rx(_WD + r" (?:this|coming)"), _this_weekday, needs=("wd",)),
    Rule(_rx(r"last " + _WD), _last_weekday, needs=("wd",)),
    Rule(_rx(_WD + r" in (?P<n>8|15)"), _weekday_in_eight, needs=("wd",)),
    # "in 2 weeks on tuesday", "tuesday in 2 weeks", "3 fridays from now": that weekday, weeks on
    Rule(
        _rx(r"in " + _COUNT + r" (?P<unit>weeks?|fortnight) (?:,? )?(?:on |from )?(?:the )?" + _WD),
        _weeks_on,
        needs=("week", "fortnight"),
    ),
    Rule(
        _rx(_WD + r" (?:,? )?in " + _COUNT + r" (?P<unit>weeks?|fortnight)"),
        _weeks_on,
        needs=("week", "fortnight"),
    ),
    Rule(
        _rx(r"(?P<n>\d{1,2}) w?wd(?P<wd>\d)s? (?:from )?(?:now|today|fromnow)"),
        _nth_weekday_from_now,
        needs=("wd",),
    ),
    Rule(_rx(r"(?:the )?(?:next|following|coming) (?P<n>\d{1,2}) days"), _next_days, needs=("day",)),
    Rule(
        _rx(r"in " + _COUNT + r" (?P<unit>days?|weeks?|months?|fortnight)"),
        _offset,
        needs=("day", "week", "month", "fortnight"),
    ),
    Rule(
        _rx(_COUNT + r" (?P<unit>days?|weeks?|months?|fortnight) (?:from )?(?:now|today|fromnow)"),
        _offset,
        needs=("day", "week", "month", "fortnight"),
    ),
    Rule(
        _rx(_COUNT + r" (?P<unit>days?|weeks?|fortnight) (?:from )?(?P<base>tomorrow)"),
        _offset,
        needs=("tomorrow",),
    ),
    Rule(_rx(r"(?P<n>a) (?P<unit>week|fortnight) from (?:on )?w?wd(?P<bwd>\d)"), _offset, needs=("wd",)),
    Rule(_rx(r"(?:the )?dayafter|(?:the )?day after tomorrow"), _day_after_tomorrow, needs=("day",)),
    Rule(
        _rx(r"(?:later )?(?P<rel>today|tonight|tomorrow|yesterday)"),
        _relative,
        needs=("today", "tonight", "tomorrow", "yesterday"),
    ),
    Rule(_rx(r"(?P<rel>this)(?= (?:morning|afternoon|evening|night))"), _relative, needs=("this",)),
    Rule(
        _rx(r"(?:(?P<part>early|start|late|end) (?:of )?)?(?:the )?" + _NEXT_WEEK),
        _next_week,
        needs=("week",),
    ),
    Rule(_rx(r"(?:the )?week (?P<after>after) next"), _next_week, needs=("week",)),
    Rule(_rx(r"(?:(?P<later>later|rest of) )?(?:in )?this week"), _this_week, needs=("week",)),
    Rule(_rx(r"(?P<later>later) in the week"), _this_week, needs=("week",)),
    Rule(_rx(r"(?:the )?weekend after next"), _weekend_after_next, needs=("weekend",)),
    Rule(
        _rx(
            r"(?:(?P<nextwe>next|following) |this |the |coming )?weekend"
            r"|weekend (?P<nextwe2>next|following)"
        ),
        _weekend_alt,
        needs=("weekend",),
    ),
    Rule(
        _rx(
            r"(?:(?P<part>early|start|mid|late|end) (?:of )?)?(?:the )?(?P<rel>this|next) month"
            r"|(?:the )?month (?P<rel2>next)"
        ),
        _month_rel_alt,
        needs=("month",),
    ),
    Rule(
        _rx(r"(?:the )?(?P<part>end|mid|late|rest) (?:of )?(?:the )?(?P<rel>month)"),
        _month_rel_alt,
        needs=("month",),
    ),
    Rule(
        _rx(
            r"(?:(?P<part>early|start|mid|late|end) (?:of )?)?(?:in |during )?(?:the )?(?:month of )?"
            + _MONTH
            + r"(?: (?P<y>\d{4}))?"
        ),
        _month_range,
        needs=("mo",),
    ),
    Rule(
        _rx(
            r"(?:on |the |for |by |until ){0,3}(?P<d>\d{1,2})th(?: (?:of )?(?:the )?month)?"
            r"(?! (?:unit|time|one|option|choice|slot))"
        ),
        _day_of_month,
        needs=("th",),
    ),
    # an ordinal word alone needs "the": "on the fifth", not "on second thought"
    Rule(
        _rx(
            r"(?:on |for |by |until ){0,2}the (?P<d>\d{1,2})tw(?: (?:of )?(?:the )?month)?"
            r"(?! (?:day|time|one|unit|week|weekend|option|choice|slot))"
        ),
        _day_of_month,
        needs=("tw",),
    ),
    Rule(_rx(r"(?:on )?(?:the )?day (?P<d>\d{1,2})"), _day_of_month, needs=("day",)),
    Rule(
        _rx(r"(?:on )?the (?P<d>\d{1,2})(?= \||$| ,| at | in | around | by )"), _day_of_month, needs=("the",)
    ),
    Rule(_rx(r"on (?P<d>\d{1,2})(?= \|)"), _day_of_month, needs=("on",)),
    Rule(_rx(r"(?:on |for |by |until )?(?:the )?" + _WD), _weekday, needs=("wd",)),
)

_ALL_NEEDLES = frozenset(needle for rule in RULES for needle in rule.needs)


def _weak_ok(canon: str, hit: DateHit) -> bool:
    """A weak weekday word ("sat", "sun", "wed") counts only beside date/time context."""
    before = canon[max(0, hit.start - 12) : hit.start].split()[-1:] or [""]
    after = canon[hit.end : hit.end + 12].split()[:1] or [""]
    if before[0] in ("on", "this", "next", "by", "until", "coming", "for", "|", "", "or", "and", ","):
        return True
    token = after[0]
    return (
        token in ("at", "morning", "afternoon", "evening", "night", ",", "|", "or", "and")
        or token[:1].isdigit()
    )


# "lunes 9", "Montag 9", "lundi 9", "segunda 9": outside English a number after a weekday is the
# day of the month ("tuesday 4" in English is 4pm).
_WEEKDAY_DAY = _rx(_WD + r" (?:, )?(?:the )?(?P<d>\d{1,2})" + _NOT_TIME)


def _weekday_day(m: re.Match[str], today: date) -> DateHit | None:
    dom = int(m["d"])
    if not 1 <= dom <= 31:
        return None
    return DateHit(*_span(m), day_of_month=dom, weekday=int(m["wd"]))


def find_dates(canon: str, today: date, english: bool = True) -> list[DateHit]:
    """Every date expression in `canon`, left to right, none overlapping. `english` selects the
    English readings of "next friday" and "tuesday 4" (see the handlers)."""
    taken = bytearray(len(canon))
    hits: list[DateHit] = []
    rules = list(RULES)
    if not english:
        rules = [
            replace(r, resolve=_next_weekday_nearest) if r.resolve is _next_weekday else r for r in rules
        ]
        rules.insert(3, Rule(_WEEKDAY_DAY, _weekday_day, needs=("wd",)))
    present = {needle for needle in _ALL_NEEDLES if needle in canon}
    for rule in rules:
        if present.isdisjoint(rule.needs):
            continue
        for m in rule.pattern.finditer(canon):
            s, e = m.span()
            if any(taken[s:e]):
                continue
            try:
                hit = rule.resolve(m, today)
            except (ValueError, OverflowError):
                hit = None
            if hit is None or (hit.weak and not _weak_ok(canon, hit)):
                continue
            taken[s:e] = b"\x01" * (e - s)
            hits.append(hit)
    hits.sort(key=lambda h: h.start)
    return _merge_weekday_and_day(canon, hits, today)


def ruled_out(canon: str, start: int) -> bool:
    """ "not the 4th", "instead of tomorrow": the date or time at `start` is one the customer rules out."""
    before = canon[max(0, start - 40) : start].split()
    while before and before[-1] in ("on", "by", "for", "the", "at", "until", "from"):
        before.pop()
    return bool(before) and (before[-1] == "not" or before[-2:] == ["instead", "of"])


_GLUE = re.compile(r"^[ ,]*(?:the )?(?:on )?[ ,]*$")


def _merge_weekday_and_day(canon: str, hits: list[DateHit], today: date) -> list[DateHit]:
    """ "friday the 8th", "fri, march 8": the explicit day wins; the weekday picks its month."""
    out: list[DateHit] = []
    i = 0
    while i < len(hits):
        hit = hits[i]
        nxt = hits[i + 1] if i + 1 < len(hits) else None
        if (  # "12 de setembro de 2014, sexta": a full date said first wins over the weekday after it
            hit.dates
            and nxt is not None
            and nxt.weekday is not None
            and not nxt.dates
            and _GLUE.match(canon[hit.end : nxt.start])
            and not ruled_out(canon, hit.start)  # "not tomorrow, thursday"
        ):
            out.append(hit)
            i += 2
            continue
        if (
            hit.weekday is not None
            and nxt is not None
            and (nxt.day_of_month is not None or nxt.dates)
            and _GLUE.match(canon[hit.end : nxt.start])
        ):
            if nxt.day_of_month is not None:
                nxt = DateHit(nxt.start, nxt.end, day_of_month=nxt.day_of_month, weekday=hit.weekday)
            out.append(
                DateHit(
                    hit.start, nxt.end, dates=nxt.dates, day_of_month=nxt.day_of_month, weekday=nxt.weekday
                )
            )
            i += 2
            continue
        out.append(hit)
        i += 1
    return out
