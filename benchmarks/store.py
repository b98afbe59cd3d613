"""Store cost per turn with 1,000, 100,000 and 1,000,000 stored conversations, beside PTB's PicklePersistence.

Run: .venv/bin/python benchmarks/store.py [--quick] [--turns N] [--sizes 1000,100000,1000000]

Our store (``bot.store.open_store`` on a SQLite file in a temporary directory, as ``serve`` opens it: WAL,
synchronous NORMAL for a turn's commit, which the inbox can redo after a power cut; only what is
acknowledged to someone else is fsynced, see bot/store/sqlite.py) is filled straight through SQL, in
one transaction, with N conversations, each with a profile and a processed message. Every conversation
holds a real dialog state: the one a conversation has at the confirmation step, captured first from a
turn against the in-process sandbox (about 1 KB of JSON), with its id varied; the processed message holds
that turn's real replies.
Then, for random existing chats, one turn's store work is timed: ``load`` + ``commit_turn`` (state,
processed message, replies, profile, in one transaction), with the outcome built beforehand.

Baseline, at the same sizes: python-telegram-bot's ``PicklePersistence`` (single file) holding the same
conversations in ``chat_data`` (the state, kept as its JSON text: the cheapest form for pickle) and
``conversations``. A turn made durable there is ``update_chat_data`` + ``update_conversation`` + ``flush``
(``on_flush=True``: one dump of the whole file per turn; the default ``on_flush=False`` dumps it on each of
the two updates). Fewer of those are timed at the larger sizes, where one takes seconds.

Target: SQLite per-turn p50 at 1M within 1.5x of 1k. With ``BOT_TEST_POSTGRES_URL`` set, the store is
also timed on PostgreSQL at the sizes up to 100k (filled with COPY, in a schema dropped afterwards).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import _harness
import httpx
from _harness import Targets, percentile

from bot.service import open_bot
from bot.store import open_store
from bot.store.records import dump_replies, timestamp
from bot.types import Inbound, Outcome, Profile, Reply
from cadence_adapter import new_http_client

RATIO_TARGET = 1.5
FULL_SIZES = (1_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
POSTGRES_MAX = 100_000
CHANNEL = "telegram"
FIRST_CHAT = 100_000_000  # chat ids of one width, so their text order is their number order
BATCH = 50_000


@dataclass(frozen=True)
class Sample:
    """A real conversation at the confirmation step, and the turn that follows it."""

    state: dict[str, Any]
    replies: str
    """The confirmation turn's replies, as processed_messages keeps them."""
    profile: Profile
    next_state: dict[str, Any]
    next_replies: tuple[Reply, ...]

    def state_json(self) -> str:
        return json.dumps(self.state, ensure_ascii=False)


async def _capture() -> Sample:
    """One conversation against the in-process sandbox: the state and replies a real turn stores."""
    transport = httpx.ASGITransport(app=_harness.sandbox())
    bot = open_bot(
        _harness.settings(),
        base_url="http://cadence.bench",
        http=new_http_client(transport=transport),
        database=":memory:",
        clock=_harness.fixed_clock,
    )
    chat = "sample"
    try:
        results = []
        for text in (_harness.booking_requests(1)[0], *_harness.CONVERSATION_TAIL):
            inbound = Inbound(channel=CHANNEL, chat_id=chat, message_id=uuid.uuid4().hex, text=text)
            results.append(((await bot.engine.handle(inbound)).replies, bot.store.load(CHANNEL, chat)))
    finally:
        await bot.aclose()
    (confirm_replies, at_confirm), (booked_replies, booked) = results[2], results[3]
    assert at_confirm.state is not None and booked.state is not None
    return Sample(
        at_confirm.state, dump_replies(confirm_replies), booked.profile, booked.state, booked_replies
    )


# -- filling ------------------------------------------------------------------------------------------


def _rows(
    sample: Sample, count: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Batches of (conversation, profile, processed message) rows, in key order."""
    state = sample.state_json()
    conv_id = sample.state["id"]
    at = timestamp(_harness.NOW - timedelta(hours=1))
    p = sample.profile
    for start in range(0, count, BATCH):
        chats = [str(FIRST_CHAT + i) for i in range(start, min(count, start + BATCH))]
        yield (
            [(CHANNEL, c, state.replace(conv_id, f"{int(c):016x}"), at) for c in chats],
            [(CHANNEL, c, p.name, f"c{c}@example.com", p.phone, p.timezone, p.language, at) for c in chats],
            [(CHANNEL, c, f"m{c}", at, sample.replies) for c in chats],
        )


_INSERTS = (
    "INSERT INTO conversations (channel, chat_id, state, updated_at) VALUES (?, ?, ?, ?)",
    "INSERT INTO profiles (channel, chat_id, name, email, phone, timezone, language, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO processed_messages (channel, chat_id, message_id, processed_at, replies)"
    " VALUES (?, ?, ?, ?, ?)",
)


def _fill_sqlite(path: Path, sample: Sample, count: int) -> None:
    open_store(path, clock=_harness.fixed_clock).close()  # the schema, as the bot creates it
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")  # the fill only: the timed turns run as the bot runs them
        conn.execute("BEGIN")
        for batch in _rows(sample, count):
            for sql, rows in zip(_INSERTS, batch, strict=True):
                conn.executemany(sql, rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _fill_postgres(url: str, sample: Sample, count: int) -> None:
    import psycopg

    open_store(url, clock=_harness.fixed_clock).close()
    columns = (
        "conversations (channel, chat_id, state, updated_at)",
        "profiles (channel, chat_id, name, email, phone, timezone, language, updated_at)",
        "processed_messages (channel, chat_id, message_id, processed_at, replies)",
    )
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        for batch in _rows(sample, count):
            for table, rows in zip(columns, batch, strict=True):
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        cursor.execute("ANALYZE")


# -- timing -------------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    size: int
    fill_seconds: float
    load: list[float] = field(default_factory=list)
    commit: list[float] = field(default_factory=list)
    """Seconds per turn in ``load`` and in ``commit_turn`` (PicklePersistence: update + flush, no load)."""
    note: str = ""

    @property
    def turns(self) -> list[float]:
        if not self.load:
            return self.commit
        return [a + b for a, b in zip(self.load, self.commit, strict=True)]

    @property
    def p50_us(self) -> float:
        return percentile(self.turns, 0.5) * 1e6


class Timer:
    """One open store and the turns timed on it: ``load`` and ``commit_turn`` of random existing chats."""

    def __init__(self, database: str, sample: Sample, size: int) -> None:
        self.store = open_store(database, clock=_harness.fixed_clock)
        self.sample, self.size = sample, size
        self.rng = random.Random(size)
        self.load: list[float] = []
        self.commit: list[float] = []

    def run(self, turns: int) -> None:
        for _ in range(turns):
            chat = str(FIRST_CHAT + self.rng.randrange(self.size))
            state = {**self.sample.next_state, "id": f"{int(chat):016x}"}
            outcome = Outcome(state=state, replies=self.sample.next_replies, profile=self.sample.profile)
            message = uuid.uuid4().hex
            started = time.perf_counter()
            stored = self.store.load(CHANNEL, chat)
            loaded = time.perf_counter()
            self.store.commit_turn(CHANNEL, chat, message, outcome)
            self.commit.append(time.perf_counter() - loaded)
            self.load.append(loaded - started)
            if stored.state is None:
                raise RuntimeError(f"chat {chat} was not in the store")

    def close(self) -> None:
        self.store.close()


def _interleaved(timers: Sequence[Timer], turns: int, rounds: int) -> None:
    """Warm each store, then time them in turn, round after round, so that drift (the disk, the machine's
    neighbours) falls on every size alike."""
    for timer in timers:
        timer.run(min(200, turns))
        timer.load.clear()
        timer.commit.clear()
    for _ in range(rounds):
        for timer in timers:
            timer.run(max(1, turns // rounds))


def _sqlite(sample: Sample, sizes: Sequence[int], turns: int, tmp: Path) -> list[Result]:
    results: list[Result] = []
    timers: list[Timer] = []
    try:
        for size in sizes:
            path = tmp / f"bot-{size}.db"
            started = time.perf_counter()
            _fill_sqlite(path, sample, size)
            results.append(
                Result("SQLite", size, time.perf_counter() - started, note=f"file {_megabytes(path)}")
            )
            timers.append(Timer(str(path), sample, size))
        _interleaved(timers, turns, rounds=10)
    finally:
        for timer in timers:
            timer.close()
    for result, timer in zip(results, timers, strict=True):
        result.load, result.commit = timer.load, timer.commit
    return results


def _postgres(base: str, sample: Sample, size: int, turns: int) -> Result:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{base}{'&' if '?' in base else '?'}options={quote(f'-c search_path={schema}')}"
    try:
        started = time.perf_counter()
        _fill_postgres(url, sample, size)
        result = Result("PostgreSQL", size, time.perf_counter() - started, note=f"fsync={_pg_fsync(base)}")
        timer = Timer(url, sample, size)
        try:
            _interleaved([timer], turns, rounds=1)
        finally:
            timer.close()
        result.load, result.commit = timer.load, timer.commit
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return result


def _pg_fsync(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW fsync").fetchone()
    return str(row[0]) if row else "?"


def _pickle(sample: Sample, size: int, flushes: int, tmp: Path) -> Result:
    """PTB's PicklePersistence with ``size`` conversations; ``flushes`` turns timed."""
    from telegram.ext import ExtBot, PicklePersistence

    path = tmp / f"ptb-{size}.pickle"
    state = sample.state_json()
    conv_id = sample.state["id"]
    started = time.perf_counter()
    persistence: PicklePersistence[Any, Any, Any] = PicklePersistence(path, single_file=True, on_flush=True)
    persistence.set_bot(ExtBot("123456:bench-token"))
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(persistence.get_chat_data())  # reads the (missing) file: empty dicts
        chat_data: dict[int, Any] = {}
        booking: dict[tuple[int | str, ...], object] = {}
        for i in range(size):
            chat = FIRST_CHAT + i
            chat_data[chat] = {"state": state.replace(conv_id, f"{chat:016x}"), "turns": 3}
            booking[(chat, chat)] = "confirm"
        persistence.chat_data = chat_data
        persistence.conversations = {"booking": booking}
        loop.run_until_complete(persistence.flush())
        result = Result("PTB PicklePersistence", size, time.perf_counter() - started)
        rng = random.Random(size)
        next_state = json.dumps(sample.next_state, ensure_ascii=False)
        for n in range(flushes):
            chat = FIRST_CHAT + rng.randrange(size)
            data = {"state": next_state.replace(sample.next_state["id"], f"{chat:016x}"), "turns": 4 + n}
            began = time.perf_counter()
            loop.run_until_complete(persistence.update_chat_data(chat, data))
            loop.run_until_complete(persistence.update_conversation("booking", (chat, chat), "booked"))
            loop.run_until_complete(persistence.flush())
            result.commit.append(time.perf_counter() - began)
    finally:
        loop.close()
    result.note = f"file {_megabytes(path)}"
    path.unlink(missing_ok=True)
    return result


def _megabytes(path: Path) -> str:
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"


def _flushes(size: int, turns: int, quick: bool) -> int:
    """Pickle dumps to time: half the turns at 1k, ten at 100k, three at 1M (where each takes seconds)."""
    return max(3, min(turns // 2, (100_000 if quick else 1_000_000) // size))


HEADER = (
    f"{'store':22}{'conversations':>14}{'fill s':>8}{'turns':>7}{'p50 us':>10}{'p99 us':>10}{'mean us':>10}"
    f"{'load p50':>10}{'commit p50':>11}  size"
)


def _row(r: Result) -> str:
    us = [t * 1e6 for t in r.turns]
    split = f"{'':10}{'':11}"
    if r.load:
        split = f"{percentile(r.load, 0.5) * 1e6:10.0f}{percentile(r.commit, 0.5) * 1e6:11.0f}"
    return (
        f"{r.backend:22}{r.size:>14,}{r.fill_seconds:8.1f}{len(us):7d}{percentile(us, 0.5):10.0f}"
        f"{percentile(us, 0.99):10.0f}{statistics.fmean(us):10.0f}{split}  {r.note}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _harness.arguments(__doc__, turns=(2000, "store turns timed per size (default 2000)"))
    parser.add_argument("--sizes", default=None, help="comma-separated conversation counts")
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    else:
        sizes = QUICK_SIZES if args.quick else FULL_SIZES
    turns = 200 if args.quick else args.turns
    sample = asyncio.run(_capture())
    print(_harness.machine())
    print(
        f"state: a real one at the confirmation step, {len(sample.state_json())} bytes of JSON;"
        f" replies {len(sample.replies)} bytes; SQLite {sqlite3.sqlite_version}, WAL,"
        " turns commit with synchronous NORMAL; the SQLite sizes timed in interleaved rounds"
    )
    postgres = os.environ.get("BOT_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        sqlite = _sqlite(sample, sizes, turns, Path(tmp))
        print(HEADER)
        for result in sqlite:
            print(_row(result), flush=True)
        others: list[Result] = []
        for size in sizes:
            if postgres and size <= POSTGRES_MAX:
                others.append(_postgres(postgres, sample, size, turns))
                print(_row(others[-1]), flush=True)
        for size in sizes:
            others.append(_pickle(sample, size, _flushes(size, turns, args.quick), Path(tmp)))
            print(_row(others[-1]), flush=True)
    pickles = [r for r in others if r.backend.startswith("PTB")]
    for mine, theirs in zip(sqlite, pickles, strict=True):
        print(
            f"at {mine.size:,} conversations PicklePersistence takes {theirs.p50_us / mine.p50_us:,.0f}x the"
            " SQLite store's time per durable turn (p50)"
        )
    smallest, largest = sqlite[0], sqlite[-1]
    ratio = largest.p50_us / smallest.p50_us
    print(
        f"SQLite {largest.size:,} vs {smallest.size:,}: p50 {ratio:.2f}x, load p50"
        f" {percentile(largest.load, 0.5) / percentile(smallest.load, 0.5):.2f}x, commit p50"
        f" {percentile(largest.commit, 0.5) / percentile(smallest.commit, 0.5):.2f}x"
    )
    targets = Targets(quick=args.quick)
    targets.check(f"sqlite_p50_ratio_{largest.size}_vs_{smallest.size}", ratio, RATIO_TARGET)
    return targets.exit_code()


if __name__ == "__main__":
    sys.exit(main())
