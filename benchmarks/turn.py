"""Turn overhead without network: the whole bot against the in-process Cadence sandbox.

Run: .venv/bin/python benchmarks/turn.py [--quick] [--conversations N] [--profile N]

The bot is ``bot.service.open_bot`` with one tenant (the salon), its database a SQLite file in a temporary
directory, its Cadence the sandbox app reached through ``httpx.ASGITransport`` (no socket), everything on a
fixed clock. Complete booking conversations ("haircut on Tuesday 2 June at 3pm", a name, an email, "yes"),
each in its own chat and each for a different open slot, go one turn at a time through
``bot.engine.handle``. For every turn it records:

- the whole turn (``engine.handle``: dedupe, lock, load, dialog step, commit);
- the time spent inside Cadence calls (at the transport: the sandbox's own work plus the ASGI hop);
- the bot's overhead: the whole turn minus that, which is the target (p99 < 5 ms);
- how that overhead splits: the dialog step without its Cadence calls, and the engine and store around it.

Baseline, in the same run: every Cadence request the conversations made, issued again directly with the
same ``httpx`` client against a fresh sandbox with the same seed (so every answer is the same), which is
what the turns' Cadence calls cost on their own. Warm-up conversations (the first fills the tenant cache)
are left out of the statistics. ``--profile N`` prints the N functions with the most own time (cProfile).
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import _harness
import httpx
from _harness import CONVERSATION_TAIL, CountingTransport, Sent, Targets, percentile

from bot.service import Bot, open_bot
from bot.types import Inbound, Outcome, Profile
from cadence_adapter import new_http_client

P99_TARGET_MS = 5.0
WARMUP_CONVERSATIONS = 5
STEP_NAMES = ("request", "name", "contact", "confirm")


@dataclass
class TurnTimes:
    """Seconds of one turn and where they went."""

    step: int
    """0 the request, 1 the name, 2 the contact, 3 the confirmation."""
    total: float
    """``engine.handle``."""
    dialog_step: float
    """The dialog step the engine ran (Cadence calls included)."""
    client: float
    """Inside the Cadence client's methods: building requests, the transport, decoding, models."""
    cadence: float
    """Inside the transport: the sandbox's own work and the ASGI hop (what a network call would replace)."""
    gc: float
    """In the garbage collector, whatever it was collecting."""
    requests: list[Sent] = field(default_factory=list)
    slots: int = 0
    """Slots in the availability answers of this turn."""

    @property
    def overhead(self) -> float:
        return self.total - self.cadence

    @property
    def client_work(self) -> float:
        return self.client - self.cadence

    @property
    def dialog(self) -> float:
        return self.dialog_step - self.client

    @property
    def engine(self) -> float:
        return self.total - self.dialog_step


@dataclass
class Probe:
    """Instruments one bot: its engine's dialog step and the salon's Cadence client (instance attributes
    only; nothing global is patched). Accumulates seconds; a turn reads the differences."""

    transport: CountingTransport
    step: float = 0.0
    client: float = 0.0
    slots: int = 0
    gc: float = 0.0
    gen2: int = 0
    _gc_started: float = 0.0

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc += time.perf_counter() - self._gc_started
            self.gen2 += info["generation"] == 2

    def attach(self, bot: Bot) -> None:
        inner: Callable[..., Awaitable[Outcome]] = bot.engine._step  # composed by open_bot

        async def step(
            state: dict[str, Any] | None, profile: Profile, inbound: Inbound, now: datetime
        ) -> Outcome:
            started = time.perf_counter()
            try:
                return await inner(state, profile, inbound, now)
            finally:
                self.step += time.perf_counter() - started

        bot.engine._step = step
        gc.callbacks.append(self._on_gc)
        client = bot.directory.public(_harness.TENANT)  # the one the dialog gets: the directory keeps it
        for name in ("get_org", "list_services", "list_practitioners", "get_availability", "create_booking"):
            setattr(client, name, self._timed(getattr(client, name)))

    def detach(self) -> None:
        gc.callbacks.remove(self._on_gc)

    def _timed(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await method(*args, **kwargs)
            finally:
                self.client += time.perf_counter() - started
            self.slots += len(getattr(result, "slots", ()))
            return result

        return timed

    async def turn(self, bot: Bot, index: int, inbound: Inbound) -> tuple[TurnTimes, str]:
        sent, cadence, step, client, slots, collecting = (
            len(self.transport.log),
            self.transport.seconds,
            self.step,
            self.client,
            self.slots,
            self.gc,
        )
        started = time.perf_counter()
        result = await bot.engine.handle(inbound)
        total = time.perf_counter() - started
        times = TurnTimes(
            index,
            total,
            self.step - step,
            self.client - client,
            self.transport.seconds - cadence,
            self.gc - collecting,
            self.transport.log[sent:],
            self.slots - slots,
        )
        return times, result.replies[-1].text if result.replies else ""


async def _converse(bot: Bot, probe: Probe, first: str) -> list[TurnTimes]:
    chat = uuid.uuid4().hex[:12]
    turns: list[TurnTimes] = []
    last = ""
    for index, text in enumerate((first, *CONVERSATION_TAIL)):
        inbound = Inbound(channel="telegram", chat_id=chat, message_id=uuid.uuid4().hex, text=text)
        times, last = await probe.turn(bot, index, inbound)
        turns.append(times)
    if "You're booked" not in last:
        raise RuntimeError(f"the conversation starting {first!r} did not book: {last[:120]!r}")
    return turns


async def _replay(client: httpx.AsyncClient, sent: Sequence[Sent]) -> list[float]:
    """Each request again, in order, with the bot's client: seconds per request."""
    out: list[float] = []
    for request in sent:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "host")}
        started = time.perf_counter()
        response = await client.request(request.method, request.url, content=request.body, headers=headers)
        out.append(time.perf_counter() - started)
        if response.status_code != request.status:
            raise RuntimeError(
                f"replay of {request.endpoint} got {response.status_code}, not {request.status}"
            )
    return out


def _row(name: str, values_s: Sequence[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (
        f"{name:42}{percentile(ms, 0.5):9.3f}{percentile(ms, 0.99):9.3f}"
        f"{statistics.fmean(ms) if ms else 0.0:9.3f}{max(ms, default=0.0):9.3f}"
    )


async def run(
    conversations: int, profile_top: int, gc_freeze: bool
) -> tuple[list[TurnTimes], list[float], list[TurnTimes]]:
    texts = _harness.booking_requests(conversations + WARMUP_CONVERSATIONS)
    transport = CountingTransport(httpx.ASGITransport(app=_harness.sandbox()))
    with tempfile.TemporaryDirectory(prefix="bench-turn-") as tmp:
        bot = open_bot(
            _harness.settings(),
            base_url="http://cadence.bench",
            http=new_http_client(transport=transport),
            database=str(Path(tmp) / "bot.db"),
            clock=_harness.fixed_clock,
        )
        probe = Probe(transport)
        probe.attach(bot)
        try:
            warmup: list[TurnTimes] = []
            for text in texts[:WARMUP_CONVERSATIONS]:
                warmup += await _converse(bot, probe, text)
            if gc_freeze:
                gc.freeze()  # what `serve` could do once started: the collector stops walking that heap
            profiler = cProfile.Profile() if profile_top else None
            measured: list[TurnTimes] = []
            if profiler is not None:
                profiler.enable()
            for text in texts[WARMUP_CONVERSATIONS:]:
                measured += await _converse(bot, probe, text)
            if profiler is not None:
                profiler.disable()
                _print_profile(profiler, profile_top)
            # Baseline: the same requests (the warm-up's too, so the sandbox goes through the same states)
            # against a fresh sandbox, through the same client.
            transport.inner = httpx.ASGITransport(app=_harness.sandbox())
            everything = [s for turn in (*warmup, *measured) for s in turn.requests]
            replayed = await _replay(bot.http, everything)
            bare = replayed[sum(len(turn.requests) for turn in warmup) :]
        finally:
            probe.detach()
            await bot.aclose()
    return measured, bare, warmup


def _print_profile(profiler: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print("profile of the measured turns, by own time:")
    print(out.getvalue().split("\n", 4)[-1].rstrip())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        r"(bot|cadence_adapter|channels)/", top
    )
    print("... by cumulative time, this repository's functions:")
    print(out.getvalue().split("\n", 4)[-1].rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = _harness.arguments(
        __doc__,
        conversations=(600, "booking conversations to time, after the warm-up (default 600)"),
        profile=(0, "print the N functions with the most own time over the measured turns"),
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after the warm-up (a possible `serve` change)"
    )
    args = parser.parse_args(argv)
    conversations = 4 if args.quick else args.conversations
    measured, bare, warmup = asyncio.run(run(conversations, args.profile, args.gc_freeze))

    print(_harness.machine())
    print(
        f"sample: {conversations} booking conversations, {len(measured)} turns, one chat each, one at a time"
        f" (after {WARMUP_CONVERSATIONS} warm-up conversations); SQLite file, in-process sandbox"
        + ("; gc.freeze() after the warm-up" if args.gc_freeze else "")
    )
    print(f"{'per turn':42}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}")
    print(_row("whole turn (engine.handle)", [t.total for t in measured]))
    print(_row("  Cadence calls (in-process sandbox)", [t.cadence for t in measured]))
    print(_row("  bot overhead (turn - Cadence): the target", [t.overhead for t in measured]))
    print(_row("    Cadence client (JSON, models)", [t.client_work for t in measured]))
    print(_row("    dialog step without Cadence client", [t.dialog for t in measured]))
    print(_row("    engine + store around the step", [t.engine for t in measured]))
    print(_row("  garbage collection, anywhere in the turn", [t.gc for t in measured]))
    print("bot overhead by kind of turn:")
    for index, name in enumerate(STEP_NAMES):
        mine = [t for t in measured if t.step == index]
        calls = sum(len(t.requests) for t in mine) / max(1, len(mine))
        print(_row(f"  '{name}' ({calls:.0f} Cadence calls)", [t.overhead for t in mine]))
    print(_row("bare Cadence requests, replayed", bare))
    cold = warmup[0]
    print(
        f"first turn of the run (cold tenant cache, {len(cold.requests)} Cadence calls):"
        f" {cold.total * 1000:.1f} ms, of which Cadence {cold.cadence * 1000:.1f} ms"
    )
    per_booking = len(measured) / conversations
    overhead = statistics.fmean(t.overhead for t in measured) * per_booking
    cadence = statistics.fmean(t.cadence for t in measured) * per_booking
    replay = sum(bare) / conversations
    print(
        f"per booking ({per_booking:.0f} turns): bot overhead {overhead * 1000:.2f} ms, Cadence calls in the"
        f" turns {cadence * 1000:.2f} ms, the same requests bare {replay * 1000:.2f} ms;"
        f" bot overhead / bare Cadence {overhead / replay if replay else float('nan'):.2f}x"
    )
    targets = Targets(quick=args.quick)
    p99 = percentile([t.overhead for t in measured], 0.99) * 1000
    if not targets.check("p99_overhead_ms", p99, P99_TARGET_MS):
        _explain(measured)
    print(
        f"(the whole turn, the in-process sandbox's own work included: p99"
        f" {percentile([t.total for t in measured], 0.99) * 1000:.2f} ms; not the target)"
    )
    return targets.exit_code()


def _explain(measured: Sequence[TurnTimes]) -> None:
    """What the turns over the target spend their overhead on."""
    slow = [t for t in measured if t.overhead * 1000 >= P99_TARGET_MS]
    kinds = ", ".join(
        f"{n} '{name}'" for i, name in enumerate(STEP_NAMES) if (n := sum(t.step == i for t in slow))
    )
    share = {
        "Cadence client (JSON, models)": sum(t.client_work for t in slow),
        "dialog step": sum(t.dialog for t in slow),
        "engine + store": sum(t.engine for t in slow),
    }
    whole = sum(share.values()) or 1.0
    offered = [t.slots for t in slow if t.slots]
    print(
        f"  {len(slow)} turns ({len(slow) / len(measured):.1%}) spent {P99_TARGET_MS:g} ms or more: {kinds}"
    )
    print(
        "  their overhead went to "
        + ", ".join(f"{k} {v / whole:.0%}" for k, v in share.items())
        + f"; garbage collection was {sum(t.gc for t in slow) / whole:.0%} of it"
    )
    if offered:
        print(
            f"  those turns parsed availability answers of {statistics.fmean(offered):.0f} slots on average"
            " (--profile 25 names the functions)"
        )


if __name__ == "__main__":
    sys.exit(main())
