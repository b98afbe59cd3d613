"""Dates, times and durations in the customer's zone and language. Pure functions of their inputs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.core import Locale, UnknownLocaleError, get_global
from babel.dates import format_date, format_time, get_timezone_location
from babel.units import format_unit
from phonenumbers import timezone as phone_timezone

__all__ = [
    "customer_zone",
    "format_day",
    "format_duration",
    "format_slot",
    "format_time_of_day",
    "zone_city",
    "zone_from_phone",
]


_PLAIN_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})
"""CLDR puts narrow no-break spaces in times; plain ones survive every channel (SMS has no U+202F)."""


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def zone_from_phone(phone: str | None) -> ZoneInfo | None:
    """The zone a phone number implies, when it implies exactly one (a US number does not)."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_timezone.time_zones_for_number(number) if z != "Etc/Unknown"]
    if len(zones) != 1:
        return None
    try:
        return ZoneInfo(zones[0])
    except (ValueError, KeyError):
        return None


def language_of_phone(phone: str | None) -> str | None:
    """The main language of the country a phone number is from (+351: pt, +49: de), from CLDR's likely
    subtags; None for a number that names no country. A prior only: what the customer writes decides."""
    if not phone:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
    if not region or region == "ZZ":
        return None
    try:
        return str(Locale.parse(f"und_{region}").language)
    except (UnknownLocaleError, ValueError):
        return None


def customer_zone(explicit: str | None, phone: str | None, business: ZoneInfo) -> ZoneInfo:
    """What they said, else the one zone their phone implies, else the business's (DESIGN.md)."""
    if explicit:
        try:
            return ZoneInfo(explicit)
        except (ValueError, KeyError):
            pass
    return zone_from_phone(phone) or business


def region_of(zone: ZoneInfo) -> str | None:
    """The country of a zone (Europe/Lisbon -> PT): the default for local phone numbers and dates."""
    territory = get_global("zone_territories").get(zone.key)
    return str(territory) if territory else None


def day_first(zone: ZoneInfo) -> bool:
    """Whether people in the zone's country write the day before the month (8/12 is 8 December in
    Lisbon, August 12 in New York), from the country's short date pattern in CLDR."""
    region = region_of(zone)
    try:
        pattern = Locale.parse(f"und_{region}").date_formats["short"].pattern if region else "d/M"
    except (UnknownLocaleError, ValueError):
        return True
    return pattern.find("d") < pattern.find("M")


def zone_city(zone: ZoneInfo, language: str) -> str:
    """A zone as people name it: "Berlin", "New York"."""
    if zone.key in ("UTC", "Etc/UTC"):
        return "UTC"
    return str(get_timezone_location(zone, locale=_locale(language), return_city=True))


def format_day(day: date, language: str, *, with_year: bool = False, today: date | None = None) -> str:
    """ "Tue 1 Dec" / "mar 1 dic"; with the year ("Tue 1 Dec 2027") when asked, or when ``today`` is
    given and the day is in another year: a customer never has to guess which year is meant."""
    with_year = with_year or (today is not None and day.year != today.year)
    pattern = "EEE d MMM y" if with_year else "EEE d MMM"
    return str(format_date(day, pattern, locale=_locale(language))).translate(_PLAIN_SPACES)


def format_time_of_day(moment: datetime, language: str) -> str:
    """ "3:00 PM" in English, "15:00" where 24-hour clocks are the norm."""
    return str(format_time(moment, "short", locale=_locale(language))).translate(_PLAIN_SPACES)


def format_slot(
    start: datetime,
    zone: ZoneInfo,
    language: str,
    *,
    business_zone: ZoneInfo | None = None,
    with_day: bool = True,
    today: date | None = None,
) -> str:
    """A start time in the customer's zone: "Tue 1 Dec, 3:00 PM", plus "(Berlin)" when the
    customer's clock differs from the business's at that instant."""
    local = start.astimezone(zone)
    text = format_time_of_day(local, language)
    if with_day:
        text = f"{format_day(local.date(), language, today=today)}, {text}"
    if business_zone is not None and local.utcoffset() != start.astimezone(business_zone).utcoffset():
        text += f" ({zone_city(zone, language)})"
    return text


def format_duration(minutes: int, language: str) -> str:
    """ "45 minutes", "1 hour", "1 hour 30 minutes"."""
    locale = _locale(language)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(str(format_unit(hours, "duration-hour", locale=locale)))
    if rest or not hours:
        parts.append(str(format_unit(rest, "duration-minute", locale=locale)))
    return " ".join(parts)
