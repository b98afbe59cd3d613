"""Cadence requests per completed booking, with a warm tenant cache and (the baseline) a cold one.

Run: .venv/bin/python benchmarks/cadence_requests.py [--quick]

The bot (``open_bot``, one tenant, a SQLite file) talks to the in-process sandbox through a transport that
counts every HTTP request by endpoint. Each conversation shape below books once on a bot just opened on
the shared database (a restart: the tenant directory's cache is empty, the baseline) and then once more,
in another chat, on that same bot (the cache is warm: the target, 4 requests or fewer). Every run must end
in "You're booked"; the clock is fixed, so the cache never expires mid-run.

Shapes: everything in one message; step by step picking an offered time by its number; step by step
typing a time that was not on the offer; a returning customer (the name and contact are remembered).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import _harness
import httpx
from _harness import CONVERSATION_TAIL, CountingTransport, Targets

from bot.service import Bot, open_bot
from bot.types import Inbound
from cadence_adapter import new_http_client

WARM_TARGET = 4

Script = Callable[[str, str], Sequence[str]]
"""(day as a customer says it, a time) -> what the customer types, message by message."""


@dataclass(frozen=True)
class Shape:
    name: str
    script: Script
    returning: bool = False
    """Books in a chat that has booked before (its profile holds the name and contact)."""


SHAPES = (
    Shape("one message", lambda day, at: (f"haircut on {day} at {at}", *CONVERSATION_TAIL)),
    Shape("step by step, offered time", lambda day, at: ("hi", "haircut", day, "2", *CONVERSATION_TAIL)),
    Shape("step by step, typed time", lambda day, at: ("hi", "haircut", day, at, *CONVERSATION_TAIL)),
    Shape("returning customer", lambda day, at: (f"haircut on {day} at {at}", "yes"), returning=True),
)


@dataclass(frozen=True)
class Count:
    shape: str
    cache: str
    turns: int
    endpoints: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.endpoints.values())


async def _book(bot: Bot, transport: CountingTransport, chat: str, texts: Sequence[str]) -> Counter[str]:
    before = len(transport.log)
    last = ""
    for text in texts:
        inbound = Inbound(channel="telegram", chat_id=chat, message_id=uuid.uuid4().hex, text=text)
        result = await bot.engine.handle(inbound)
        last = result.replies[-1].text if result.replies else ""
    if "You're booked" not in last:
        raise RuntimeError(f"{texts!r} in chat {chat} did not book: {last[:120]!r}")
    return Counter(sent.endpoint for sent in transport.log[before:])


async def run() -> list[Count]:
    app = _harness.sandbox()
    days = iter(_harness.open_days())
    counts: list[Count] = []
    booked: list[str] = []  # chats with a booking (and so a profile), for the returning customers
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
        database = str(Path(tmp) / "bot.db")
        for shape in SHAPES:
            transport = CountingTransport(httpx.ASGITransport(app=app))
            bot = open_bot(
                _harness.settings(),
                base_url="http://cadence.bench",
                http=new_http_client(transport=transport),
                database=database,
                clock=_harness.fixed_clock,
            )
            try:
                for cache in ("cold", "warm"):
                    day = next(days)
                    chat = booked.pop(0) if shape.returning else uuid.uuid4().hex[:12]
                    texts = shape.script(f"{day:%A} {day.day} {day:%B}", "3pm")
                    endpoints = await _book(bot, transport, chat, texts)
                    counts.append(Count(shape.name, cache, len(texts), endpoints))
                    booked.append(chat)
            finally:
                await bot.aclose()
    return counts


def _label(endpoint: str) -> str:
    """``GET /orgs/{slug}/services`` -> ``services``; ``POST /orgs/{slug}/bookings`` -> ``POST bookings``."""
    method, path = endpoint.split(" ", 1)
    tail = path.rsplit("/", 1)[-1]
    tail = "org" if tail == "{slug}" else tail
    return tail if method == "GET" else f"{method} {tail}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _harness.arguments(__doc__).parse_args(argv)  # --quick changes nothing: it is quick already
    counts = asyncio.run(run())
    print(_harness.machine())
    print("Cadence requests per completed booking (in-process sandbox, counted at the HTTP transport)")
    endpoints = list(dict.fromkeys(e for c in counts for e in c.endpoints))  # in order of first use
    labels = [_label(e) for e in endpoints]
    print(f"{'conversation':28}{'cache':>6}{'turns':>6}{'total':>6}  " + "  ".join(labels))
    for count in counts:
        cells = "  ".join(
            f"{count.endpoints.get(e, 0):>{len(label)}}" for e, label in zip(endpoints, labels, strict=True)
        )
        print(f"{count.shape:28}{count.cache:>6}{count.turns:>6}{count.total:>6}  {cells}")
    print("(" + "; ".join(f"{label}: {e}" for e, label in zip(endpoints, labels, strict=True)) + ")")
    by = {(c.shape, c.cache): c for c in counts}
    cold, warm = by[SHAPES[0].name, "cold"], by[SHAPES[0].name, "warm"]
    saved = [_label(e) for e in endpoints if cold.endpoints[e] > warm.endpoints[e]]
    print(
        f"baseline, cold cache: {cold.total} requests for '{cold.shape}', {warm.total} warm;"
        f" the cache saves {cold.total - warm.total} ({', '.join(saved)})"
    )
    worst = max((c for c in counts if c.cache == "warm"), key=lambda c: c.total)
    targets = Targets(quick=args.quick)
    targets.check("warm_requests_per_booking", worst.total, WARM_TARGET, at_most=True)
    print(f"  (the most of any shape, '{worst.shape}': a typed time that was not offered is looked up again)")
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
