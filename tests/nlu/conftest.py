"""Shared fixtures for the understanding tests: one fixed reference time for every table."""

from __future__ import annotations

from datetime import datetime

from bot.nlu import When

# Wednesday 4 March 2026, 10:00 in Lisbon: "tomorrow" is Thu 5th, "this saturday" the 7th,
# "next week" Mon 9th - Sun 15th.
NOW = datetime(2026, 3, 4, 10, 0)
TZ = "Europe/Lisbon"


def describe(when: When) -> str:
    """A compact, readable rendering of a When for table-driven tests:
    "2026-03-05 15:00", "2026-03-06|2026-03-13", "2026-03-09..2026-03-15 [16:00-23:59)"."""
    parts: list[str] = []
    if when.dates:
        parts.append("|".join(d.isoformat() for d in when.dates))
    if when.date_range:
        parts.append(f"{when.date_range[0].isoformat()}..{when.date_range[1].isoformat()}")
    if when.time:
        parts.append(when.time.strftime("%H:%M"))
    if when.window:
        parts.append(f"[{when.window[0]:%H:%M}-{when.window[1]:%H:%M})")
    if when.passed:
        parts.append(f"passed {when.passed.isoformat()}")
    return " ".join(parts)
