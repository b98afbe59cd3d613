"""What the benchmarks share: the salon they book at, a fixed clock, percentiles, target lines.

Not a benchmark: ``make bench`` runs every ``benchmarks/*.py`` as a script, and run as one this module
does nothing. The benchmarks import it as ``_harness`` (their directory is ``sys.path[0]`` when they run
as scripts). Importing it takes that directory off ``sys.path`` again, so a benchmark's name never shadows
a package that a library imports (``tests/test_packaging.py`` checks none is named like one), and puts the
repository root on it for ``tests.support``, the seeds and clock the tests use.

Each benchmark prints a short table and one line per target::

    TARGET p99_overhead_ms=1.23 < 5: ok

and exits 1 when a target is missed in a full run (``--quick`` runs tiny sizes and never fails on a
target, only on an error).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

# The tests' salon and fixed "now" (Monday 1 June 2026, 08:00 UTC): one seed for tests and benchmarks.
from tests.support import NOW, SALON_KEY, salon_seed  # noqa: E402  (needs the repository root on sys.path)

TENANT = "salon"

TIMES = (
    "9am", "9:30am", "10am", "10:30am", "11am", "11:30am", "12pm", "12:30pm",
    "2pm", "2:30pm", "3pm", "3:30pm", "4pm", "4:30pm", "5pm", "5:30pm",
)  # fmt: skip
"""The salon's half-hour starts: a 30-minute haircut at each fits its opening hours."""
STYLISTS = 2

CONVERSATION_TAIL = ("Pat Patient", "pat@example.com", "yes")
"""What a customer says after the request: a name, a contact, the confirmation (tests/bot/test_worker)."""


def fixed_clock() -> datetime:
    return NOW


def settings(**overrides: Any) -> Any:
    """One tenant, the salon, with its org key (``bot.config.Settings``)."""
    from bot.config import Settings, TenantConfig

    values: dict[str, Any] = {
        "default_tenant": TENANT,
        "tenants": {TENANT: TenantConfig(slug=TENANT, org_api_key=SALON_KEY)},
    }
    return Settings(**{**values, **overrides})


def open_days() -> list[date]:
    """The salon's open days within Cadence's 31-day availability horizon from :data:`NOW`."""
    first = NOW.date() + timedelta(days=1)
    return [d for d in (first + timedelta(days=i) for i in range(29)) if d.weekday() != 6]


def booking_slots(count: int) -> list[tuple[str, str]]:
    """``count`` different open slots as a customer names them: ("Tuesday 2 June", "3pm"). Days are
    interleaved so the calendar fills evenly. Raises ValueError past the salon's capacity."""
    days = open_days()
    capacity = len(days) * len(TIMES) * STYLISTS
    if count > capacity:
        raise ValueError(f"the salon has {capacity} distinct haircut slots, {count} asked for")
    out: list[tuple[str, str]] = []
    for i in range(count):
        day = days[i % len(days)]
        out.append((f"{day:%A} {day.day} {day:%B}", TIMES[(i // len(days)) % len(TIMES)]))
    return out


def booking_requests(count: int) -> list[str]:
    """``count`` first messages, each for a different open slot: "haircut on Tuesday 2 June at 3pm"."""
    return [f"haircut on {day} at {at}" for day, at in booking_slots(count)]


def sandbox(**options: Any) -> Any:
    """The Cadence sandbox holding the salon, on the fixed clock, without its public rate limit."""
    from cadence_adapter.sandbox import create_app

    return create_app(seed=salon_seed(), clock=fixed_clock, rate_limit=None, **options)


# -- measuring ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (as benchmarks/nlu.py); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def machine() -> str:
    cpus = os.cpu_count() or 0
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        load = f", 1-minute load average {os.getloadavg()[0]:.2f} (this benchmark included)"
    except OSError:
        load = ""
    return (
        f"machine: {model or platform.machine()}, {cpus} cores, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}{load}"
    )


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: counts the requests by endpoint and times each one (response fully read)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.log: list[Sent] = []
        self.seconds = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content  # our requests are never streamed
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        spent = time.perf_counter() - started
        self.seconds += spent
        self.log.append(
            Sent(request.method, str(request.url), dict(request.headers), body, response.status_code, spent)
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, extensions=response.extensions
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    seconds: float

    @property
    def endpoint(self) -> str:
        """``GET /orgs/{slug}/availability``: the path under the API root, ids replaced by their kind."""
        path = httpx.URL(self.url).path.split("/api/v1", 1)[-1]
        parts = path.strip("/").split("/")
        if parts[:2] == ["public", "orgs"] and len(parts) >= 3:
            parts = ["orgs", "{slug}", *parts[3:]]
        parts = ["{id}" if part.startswith(("bk_", "wh_")) else part for part in parts]
        return f"{self.method} /" + "/".join(parts)


@dataclass
class Targets:
    """The benchmark's targets: each printed as ``TARGET name=value < limit: ok|MISS``."""

    quick: bool
    missed: list[str] = field(default_factory=list)

    def check(self, name: str, value: float, limit: float, *, at_most: bool = False, unit: str = "") -> bool:
        """Met when ``value < limit`` (``value <= limit`` with ``at_most``)."""
        ok = value <= limit if at_most else value < limit
        self._line(name, value, "<=" if at_most else "<", limit, ok, unit)
        return ok

    def at_least(self, name: str, value: float, limit: float, unit: str = "") -> bool:
        """Met when ``value >= limit``."""
        ok = value >= limit
        self._line(name, value, ">=", limit, ok, unit)
        return ok

    def _line(self, name: str, value: float, op: str, limit: float, ok: bool, unit: str) -> None:
        verdict = "ok" if ok else ("MISS (quick run: not judged)" if self.quick else "MISS")
        print(f"TARGET {name}={_num(value)}{unit} {op} {_num(limit)}{unit}: {verdict}", flush=True)
        if not ok:
            self.missed.append(name)

    def exit_code(self) -> int:
        return 1 if self.missed and not self.quick else 0


def _num(value: float) -> str:
    return (
        f"{value:g}" if float(value).is_integer() else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    )


def arguments(doc: str | None, **extra: Any) -> argparse.ArgumentParser:
    """A parser with ``--quick``; ``extra`` are further ``--name=default`` integer options."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds; targets not judged")
    for name, (default, text) in extra.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default, help=text)
    return parser


if __name__ == "__main__":
    pass  # a helper module: `make bench` runs it like the benchmarks, and it has nothing to measure
