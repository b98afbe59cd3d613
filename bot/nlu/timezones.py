"""Resolve what a customer calls their time zone ("Berlin", "NYC", "EST", "UTC+2") to an IANA name."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from types import MappingProxyType

from bot.nlu.text import fold

# Abbreviations and everyday names that are not IANA city names. An abbreviation stands for the
# place most customers who use it live in (EST -> New York), not a fixed offset, so daylight saving
# time stays right.
_ALIASES = MappingProxyType(
    {
        "est": "America/New_York",
        "edt": "America/New_York",
        "eastern": "America/New_York",
        "et": "America/New_York",
        "cst": "America/Chicago",
        "cdt": "America/Chicago",
        "central": "America/Chicago",
        "ct": "America/Chicago",
        "mst": "America/Denver",
        "mdt": "America/Denver",
        "mountain": "America/Denver",
        "pst": "America/Los_Angeles",
        "pdt": "America/Los_Angeles",
        "pacific": "America/Los_Angeles",
        "pt": "America/Los_Angeles",
        "akst": "America/Anchorage",
        "hst": "Pacific/Honolulu",
        "hawaii": "Pacific/Honolulu",
        "gmt": "Etc/UTC",
        "utc": "Etc/UTC",
        "z": "Etc/UTC",
        "zulu": "Etc/UTC",
        "bst": "Europe/London",
        "uk": "Europe/London",
        "england": "Europe/London",
        "britain": "Europe/London",
        "great britain": "Europe/London",
        "scotland": "Europe/London",
        "wales": "Europe/London",
        "cet": "Europe/Berlin",
        "cest": "Europe/Berlin",
        "met": "Europe/Berlin",
        "wet": "Europe/Lisbon",
        "eet": "Europe/Athens",
        "eest": "Europe/Athens",
        "ist": "Asia/Kolkata",
        "jst": "Asia/Tokyo",
        "kst": "Asia/Seoul",
        "aest": "Australia/Sydney",
        "aedt": "Australia/Sydney",
        "awst": "Australia/Perth",
        "nzst": "Pacific/Auckland",
        "nyc": "America/New_York",
        "ny": "America/New_York",
        "new york city": "America/New_York",
        "manhattan": "America/New_York",
        "brooklyn": "America/New_York",
        "boston": "America/New_York",
        "washington": "America/New_York",
        "washington dc": "America/New_York",
        "dc": "America/New_York",
        "philadelphia": "America/New_York",
        "miami": "America/New_York",
        "atlanta": "America/New_York",
        "la": "America/Los_Angeles",
        "san francisco": "America/Los_Angeles",
        "sf": "America/Los_Angeles",
        "seattle": "America/Los_Angeles",
        "san diego": "America/Los_Angeles",
        "las vegas": "America/Los_Angeles",
        "portland": "America/Los_Angeles",
        "houston": "America/Chicago",
        "dallas": "America/Chicago",
        "austin": "America/Chicago",
        "texas": "America/Chicago",
        "california": "America/Los_Angeles",
        "munich": "Europe/Berlin",
        "munchen": "Europe/Berlin",
        "frankfurt": "Europe/Berlin",
        "hamburg": "Europe/Berlin",
        "cologne": "Europe/Berlin",
        "koln": "Europe/Berlin",
        "germany": "Europe/Berlin",
        "deutschland": "Europe/Berlin",
        "alemania": "Europe/Berlin",
        "allemagne": "Europe/Berlin",
        "alemanha": "Europe/Berlin",
        "spain": "Europe/Madrid",
        "espana": "Europe/Madrid",
        "espagne": "Europe/Madrid",
        "spanien": "Europe/Madrid",
        "espanha": "Europe/Madrid",
        "barcelona": "Europe/Madrid",
        "valencia": "Europe/Madrid",
        "sevilla": "Europe/Madrid",
        "seville": "Europe/Madrid",
        "france": "Europe/Paris",
        "francia": "Europe/Paris",
        "frankreich": "Europe/Paris",
        "franca": "Europe/Paris",
        "lyon": "Europe/Paris",
        "marseille": "Europe/Paris",
        "portugal": "Europe/Lisbon",
        "lisboa": "Europe/Lisbon",
        "porto": "Europe/Lisbon",
        "oporto": "Europe/Lisbon",
        "brazil": "America/Sao_Paulo",
        "brasil": "America/Sao_Paulo",
        "rio": "America/Sao_Paulo",
        "rio de janeiro": "America/Sao_Paulo",
        "ireland": "Europe/Dublin",
        "italy": "Europe/Rome",
        "milan": "Europe/Rome",
        "milano": "Europe/Rome",
        "roma": "Europe/Rome",
        "netherlands": "Europe/Amsterdam",
        "holland": "Europe/Amsterdam",
        "japan": "Asia/Tokyo",
        "india": "Asia/Kolkata",
        "mumbai": "Asia/Kolkata",
        "delhi": "Asia/Kolkata",
        "new delhi": "Asia/Kolkata",
        "bangalore": "Asia/Kolkata",
        "beijing": "Asia/Shanghai",
        "china": "Asia/Shanghai",
        "mexico": "America/Mexico_City",
        "munique": "Europe/Berlin",
        "londres": "Europe/London",
        "nueva york": "America/New_York",
        "nova iorque": "America/New_York",
        "genf": "Europe/Zurich",
        "geneva": "Europe/Zurich",
        "switzerland": "Europe/Zurich",
        "schweiz": "Europe/Zurich",
        "austria": "Europe/Vienna",
        "osterreich": "Europe/Vienna",
        "wien": "Europe/Vienna",
        "praha": "Europe/Prague",
        "warszawa": "Europe/Warsaw",
        "kyiv": "Europe/Kyiv",
        "kiev": "Europe/Kyiv",
        "moskau": "Europe/Moscow",
    }
)

_OFFSET = re.compile(r"^(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?00)?$")


@cache
def _known() -> MappingProxyType[str, str]:
    """Every IANA name (folded) and every zone's last component ("new york") -> zone name.

    Built once, on first use, from the tz database that ships with Python's tzdata package.
    """
    table: dict[str, str] = {}
    zones = sorted(zoneinfo.available_timezones())
    for name in zones:
        table[name.lower()] = name
    for name in zones:
        if name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")) or "/" not in name:
            continue
        city = fold(name.rsplit("/", 1)[1].replace("_", " "))
        table.setdefault(city, name)
    for alias, name in _ALIASES.items():
        table[alias] = name
    return MappingProxyType(table)


def resolve_timezone(text: str) -> str | None:
    """The IANA zone a customer names, or None: "Berlin", "america/new_york", "EST", "UTC+2"."""
    key = fold(text).strip(" .,!?:;\"'").replace(" / ", "/")
    if not key or len(key) > 64:
        return None
    m = _OFFSET.match(key)
    if m is not None:
        hours = int(m.group(2))
        if hours == 0:
            return "Etc/UTC"
        if hours > 14:
            return None
        # POSIX-style Etc names have the sign inverted: UTC+2 is Etc/GMT-2.
        return f"Etc/GMT{'-' if m.group(1) == '+' else '+'}{hours}"
    table = _known()
    found = table.get(key) or table.get(key.replace(" ", "_"))
    if found is None and key.startswith("the "):
        found = table.get(key[4:])
    return found


_NOT_PLACES = frozenset(
    re.findall(r"\w+", "my your our the a an same any what which lunch dinner breakfast that this his her")
    + re.findall(r"\w+", "their some local usual normal right real")
)
_WORDS_BEFORE_TIME = re.compile(r"((?:[^\W\d_][\w'.-]*\s+){0,2}[^\W\d_][\w'.-]*)\s+time\b")
_BEING_IN = re.compile(
    r"\b(?:i'?m|i am|we'?re|we are|i'll be|ill be|i will be|i live|staying|calendar is|head is)"
    r"(?:\s+(?:still|currently|now|based|travelling|traveling|staying|visiting|working))?"
    r"\s+(?:in|on|at)\s+((?:[^\W\d_][\w'.-]*\s*){1,3})"
)
_TIME_OF = re.compile(  # "horário de Lisboa", "hora de Madrid", "heure de Paris", "Zeit in Berlin"
    r"\b(?:horario|hora|heure|zeit|uhrzeit|time) (?:de|da|do|del|d'|in|von|of|em|en|a|à)"
    r" ((?:[^\W\d_][\w'.-]*\s*){1,3})"
)
_AFTER_CLOCK = re.compile(
    r"\d(?:\s?[ap]m|h|:\d\d)\s+([^\W\d_]{2,8})\b(?!\s+(?:avenue|street|st|road|rd|blvd|boulevard))"
)


def _place(words: list[str], *, from_end: bool) -> str | None:
    """The zone named by the longest run of ``words`` that is a place, at the end or the start."""
    for size in range(min(3, len(words)), 0, -1):
        run = words[-size:] if from_end else words[:size]
        if run[0] in _NOT_PLACES or run[-1] in _NOT_PLACES:
            continue
        zone = resolve_timezone(" ".join(run))
        if zone is not None:
            return zone
    return None


def zone_of_time(text: str) -> str | None:
    """A zone a time is labelled with: "4pm CET", "5pm Central", "6am São Paulo time", "horário de
    Lisboa". Not where the customer is ("I'm in Berlin"): that is :func:`find_zone`'s."""
    folded = fold(text[:1000])
    for m in _WORDS_BEFORE_TIME.finditer(folded):
        zone = _place(m.group(1).split(), from_end=True)
        if zone is not None:
            return zone
    for m in _TIME_OF.finditer(folded):
        words = re.split(r"[,.;!?()]", m.group(1))[0].split()
        zone = _place(words, from_end=False)
        if zone is not None:
            return zone
    for m in _AFTER_CLOCK.finditer(text[:1000]):
        word = m.group(1)
        key = fold(word)
        # "4h et demie", "à 15h est-ce possible": "et", "est", "ist" count only written as zones, in capitals
        if key in _ALIASES and (key not in _WORDS_TOO or word.isupper()):
            return _ALIASES[key]
    return None


_WORDS_TOO = frozenset({"et", "est", "ist", "pt", "ct", "mt", "z"})


def find_zone(text: str) -> str | None:
    """A time zone said in passing, in a message about something else: "I'm in New York until
    Sunday", "6am São Paulo time", "5pm Central", "I'm on LA time this week". None when there is none."""
    labelled = zone_of_time(text)
    if labelled is not None:
        return labelled
    folded = fold(text[:1000])
    for m in _BEING_IN.finditer(folded):
        words = re.split(r"[\s]+", re.split(r"[,.;!?()]", m.group(1))[0].strip())
        zone = _place([w for w in words if w], from_end=False)
        if zone is not None:
            return zone
    return None
