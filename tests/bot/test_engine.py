"""The engine: dedupe, per-chat serialisation, idle reset, failures, restarts. A fake step stands in for
the dialog. Tests taking ``store`` or ``database`` run on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from bot.engine import Engine, TurnResult, default_fallback
from bot.store import SQLiteStore, Store, open_store
from bot.store.postgres import PostgresStore
from bot.types import Inbound, Outcome, Profile, Reply

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
APOLOGY = Reply(text="Sorry, something went wrong on our side. Please try again.")


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def msg(message_id: str, chat: str = "c1", text: str = "hi", **fields: Any) -> Inbound:
    return Inbound(channel="telegram", chat_id=chat, message_id=message_id, text=text, **fields)


class Counter:
    """A fake dialog: counts turns in the state, echoes the text, remembers the sender's name."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.calls: list[tuple[dict[str, Any] | None, Profile, Inbound, datetime]] = []

    async def __call__(
        self, state: dict[str, Any] | None, profile: Profile, inbound: Inbound, now: datetime
    ) -> Outcome:
        self.calls.append((state, profile, inbound, now))
        await self.pause(inbound)
        n = (state or {}).get("n", 0) + 1
        return Outcome(
            state={"n": n},
            replies=(Reply(text=f"{self.label}{inbound.text} #{n}"),),
            profile=Profile(name=inbound.sender_name),
        )

    async def pause(self, inbound: Inbound) -> None:
        pass


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database: str, clock: FakeClock) -> Iterator[Store]:
    opened = open_store(database, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


# -- one turn ----------------------------------------------------------------------------------------------


async def test_a_turn_runs_the_step_and_commits_its_outcome(store: Store, clock: FakeClock) -> None:
    step = Counter()
    engine = Engine(store, step, clock=clock)

    result = await engine.handle(msg("m1", sender_name="Pat"))

    assert result == TurnResult((Reply(text="hi #1"),), duplicate=False)
    assert step.calls == [(None, Profile(), msg("m1", sender_name="Pat"), NOW)]
    stored = store.load("telegram", "c1")
    assert (stored.state, stored.updated_at, stored.profile.name) == ({"n": 1}, NOW, "Pat")
    assert store.processed_replies("telegram", "c1", "m1") == result.replies

    await engine.handle(msg("m2", text="again"))
    assert step.calls[-1][:2] == ({"n": 1}, Profile(name="Pat"))


async def test_store_calls_run_off_the_event_loop_thread(clock: FakeClock) -> None:
    threads: set[int] = set()

    class Watched(SQLiteStore):
        def load(self, channel: str, chat_id: str) -> Any:
            threads.add(threading.get_ident())
            return super().load(channel, chat_id)

        def commit_turn(self, *args: Any, **kwargs: Any) -> bool:
            threads.add(threading.get_ident())
            return super().commit_turn(*args, **kwargs)

    with Watched(":memory:", clock=clock) as s:
        await Engine(s, Counter(), clock=clock).handle(msg("m1"))
    assert threads and threading.get_ident() not in threads


# -- dedupe ------------------------------------------------------------------------------------------------


async def test_the_same_message_twice_runs_the_step_once(store: Store, clock: FakeClock) -> None:
    step = Counter()
    engine = Engine(store, step, clock=clock)

    first = await engine.handle(msg("m1"))
    second = await engine.handle(msg("m1", text="redelivered, possibly different"))

    assert len(step.calls) == 1
    assert second == TurnResult(first.replies, duplicate=True)
    assert store.load("telegram", "c1").state == {"n": 1}


async def test_a_duplicate_says_whether_the_chat_has_moved_on_since(store: Store, clock: FakeClock) -> None:
    """A channel resuming an interrupted send re-sends a turn's replies only while they are current."""
    engine = Engine(store, Counter(), clock=clock)
    first = await engine.handle(msg("m1"))
    assert await engine.handle(msg("m1")) == TurnResult(first.replies, duplicate=True, superseded=False)

    clock.now += timedelta(seconds=5)
    second = await engine.handle(msg("m2", text="next"))
    clock.now += timedelta(seconds=5)

    assert await engine.handle(msg("m1")) == TurnResult(first.replies, duplicate=True, superseded=True)
    assert await engine.handle(msg("m2")) == TurnResult(second.replies, duplicate=True, superseded=False)
    other_chat = await engine.handle(msg("m3", chat="c2"))
    assert other_chat.superseded is False and not store.superseded("telegram", "c2", "m3")
    assert store.superseded("telegram", "c1", "m1") and not store.superseded("telegram", "c1", "nope")


def test_what_a_channel_sends_for_a_turn_a_redelivery_and_a_resumed_message() -> None:
    question, news = Reply(text="What name?"), Reply(text="You're booked!", lasting=True)
    fresh = TurnResult((question, news))
    assert fresh.to_send(resumed=False) == fresh.to_send(resumed=True) == (question, news)
    again = TurnResult((question, news), duplicate=True)
    assert again.to_send(resumed=False) == (), "a redelivery's replies went out the first time"
    assert again.to_send(resumed=True) == (question, news), "a resumed one's may not have"
    stale = TurnResult((question, news), duplicate=True, superseded=True)
    assert stale.to_send(resumed=True) == (news,), "the chat moved on: only the news is still worth it"


async def test_a_redelivery_racing_the_original_runs_the_step_once(store: Store, clock: FakeClock) -> None:
    class Slow(Counter):
        async def pause(self, inbound: Inbound) -> None:
            await anyio.sleep(0.05)

    step = Slow()
    engine = Engine(store, step, clock=clock)
    results: list[TurnResult] = []

    async def deliver() -> None:
        results.append(await engine.handle(msg("m1")))

    async with anyio.create_task_group() as tg:
        tg.start_soon(deliver)
        tg.start_soon(deliver)

    assert len(step.calls) == 1
    assert sorted(r.duplicate for r in results) == [False, True]
    assert results[0].replies == results[1].replies == (Reply(text="hi #1"),)


async def test_a_duplicate_committed_by_another_process_wins(db_path: Path, clock: FakeClock) -> None:
    """Two engines (two processes) on one SQLite file get the same message at once: both run the step
    (SQLite has no cross-process turn lock), the first commit wins, and the other answers with the winner's
    replies. On PostgreSQL the second waits instead (below)."""
    both_stepped = anyio.Event()
    stepped: list[str] = []

    class Meeting(Counter):
        async def pause(self, inbound: Inbound) -> None:
            stepped.append(self.label)
            if len(stepped) == 2:
                both_stepped.set()
            await both_stepped.wait()

    with SQLiteStore(db_path, clock=clock) as one, SQLiteStore(db_path, clock=clock) as two:
        engines = [Engine(one, Meeting("one: "), clock=clock), Engine(two, Meeting("two: "), clock=clock)]
        results: list[TurnResult] = []

        async def deliver(engine: Engine) -> None:
            results.append(await engine.handle(msg("m1")))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for engine in engines:
                    tg.start_soon(deliver, engine)

        assert sorted(stepped) == ["one: ", "two: "]
        assert sorted(r.duplicate for r in results) == [False, True]
        assert results[0].replies == results[1].replies
        assert one.processed_replies("telegram", "c1", "m1") == results[0].replies
        assert one.load("telegram", "c1").state == {"n": 1}


# -- serialisation -----------------------------------------------------------------------------------------


async def test_turns_of_one_chat_never_overlap(store: Store, clock: FakeClock) -> None:
    active: dict[str, int] = {}
    most: dict[str, int] = {}

    class Tracked(Counter):
        async def pause(self, inbound: Inbound) -> None:
            chat = inbound.chat_id
            active[chat] = active.get(chat, 0) + 1
            most[chat] = max(most.get(chat, 0), active[chat])
            await anyio.sleep(0.01)
            active[chat] -= 1

    step = Tracked()
    engine = Engine(store, step, clock=clock)
    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(engine.handle, msg(f"m{i}"))

    assert most == {"c1": 1}
    # Each turn saw the state the previous one committed: nothing was lost to a race.
    assert sorted((state or {}).get("n", 0) for state, *_ in step.calls) == [0, 1, 2, 3, 4]
    assert store.load("telegram", "c1").state == {"n": 5}


async def test_different_chats_run_concurrently(store: Store, clock: FakeClock) -> None:
    entered = {"a": anyio.Event(), "b": anyio.Event()}

    class Rendezvous(Counter):
        async def pause(self, inbound: Inbound) -> None:
            # Each chat's step waits for the other's to start: only possible if they overlap.
            entered[inbound.chat_id].set()
            await entered["b" if inbound.chat_id == "a" else "a"].wait()

    engine = Engine(store, Rendezvous(), clock=clock)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.handle, msg("m1", chat="a"))
            tg.start_soon(engine.handle, msg("m1", chat="b"))
    assert store.load("telegram", "a").state == store.load("telegram", "b").state == {"n": 1}


async def test_the_lock_table_does_not_grow(store: Store, clock: FakeClock) -> None:
    engine = Engine(store, Counter(), clock=clock)
    async with anyio.create_task_group() as tg:
        for chat in range(50):
            for n in range(2):
                tg.start_soon(engine.handle, msg(f"m{n}", chat=f"chat-{chat}"))
            tg.start_soon(engine.handle, msg("m0", chat=f"chat-{chat}"))  # a redelivery too
    assert len(engine._locks) == 0
    assert store.load("telegram", "chat-49").state == {"n": 2}


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.sleep(0.001)


async def test_a_cancelled_waiter_leaves_no_lock_behind(store: Store, clock: FakeClock) -> None:
    release = anyio.Event()

    class Blocking(Counter):
        async def pause(self, inbound: Inbound) -> None:
            await release.wait()

    engine = Engine(store, Blocking(), clock=clock)
    key = ("telegram", "c1")
    doomed = anyio.CancelScope()

    async def waits_then_gives_up() -> None:
        with doomed:
            await engine.handle(msg("m2"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(engine.handle, msg("m1"))  # takes the lock, then blocks in the step
        await until(lambda: key in engine._locks)
        tg.start_soon(waits_then_gives_up)
        await until(lambda: engine._locks.users(key) == 2)
        doomed.cancel()  # e.g. the channel's request timed out
        await until(lambda: engine._locks.users(key) == 1)
        release.set()

    assert len(engine._locks) == 0
    assert store.is_processed("telegram", "c1", "m1")
    assert not store.is_processed("telegram", "c1", "m2")


# -- idle conversations ------------------------------------------------------------------------------------


async def test_an_idle_conversation_starts_fresh_but_keeps_the_profile(
    store: Store, clock: FakeClock
) -> None:
    step = Counter()
    engine = Engine(store, step, clock=clock)
    await engine.handle(msg("m1", sender_name="Pat"))

    clock.now = NOW + timedelta(days=1)  # exactly the limit: still the same conversation
    await engine.handle(msg("m2"))
    assert step.calls[-1][:2] == ({"n": 1}, Profile(name="Pat"))

    clock.now += timedelta(days=1, seconds=1)
    result = await engine.handle(msg("m3"))
    assert step.calls[-1][:2] == (None, Profile(name="Pat"))
    assert result.replies == (Reply(text="hi #1"),)
    assert store.load("telegram", "c1").state == {"n": 1}


async def test_the_idle_limit_is_configurable(store: Store, clock: FakeClock) -> None:
    step = Counter()
    engine = Engine(store, step, clock=clock, idle_reset=timedelta(minutes=30))
    await engine.handle(msg("m1"))
    clock.now += timedelta(minutes=31)
    await engine.handle(msg("m2"))
    assert step.calls[-1][0] is None


# -- failures ----------------------------------------------------------------------------------------------

PERSONAL = ("Pat Patient", "pat@example.com", "+351912345678", "my secret text")


class Exploding(Counter):
    async def pause(self, inbound: Inbound) -> None:
        if inbound.message_id == "boom":
            raise ValueError(f"cannot parse {inbound.text} from {inbound.sender_name}")


async def test_a_failing_step_apologises_and_keeps_the_old_state(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    step = Exploding()
    engine = Engine(store, step, clock=clock)
    await engine.handle(msg("m1"))

    clock.now += timedelta(minutes=5)
    text = "my secret text: pat@example.com +351912345678"
    with caplog.at_level(logging.DEBUG):
        result = await engine.handle(msg("boom", chat="c1", text=text, sender_name="Pat Patient"))

    assert result == TurnResult((APOLOGY,), duplicate=False)
    stored = store.load("telegram", "c1")
    assert (stored.state, stored.updated_at, stored.profile) == ({"n": 1}, NOW, Profile())
    assert store.processed_replies("telegram", "c1", "boom") == (APOLOGY,)

    # The failure is logged, usefully and without personal data.
    assert "ValueError" in caplog.text and "boom" in caplog.text and "pause" in caplog.text
    for record in caplog.records:
        for secret in PERSONAL:
            assert secret not in record.getMessage()
            assert secret not in (record.exc_text or "")
            assert not record.exc_info

    # A redelivery does not loop through the failure again.
    calls = len(step.calls)
    assert await engine.handle(msg("boom", text=text)) == TurnResult((APOLOGY,), duplicate=True)
    assert len(step.calls) == calls

    # And the conversation carries on from the old state.
    await engine.handle(msg("m3"))
    assert step.calls[-1][0] == {"n": 1}


async def test_the_apology_is_injectable_and_a_first_turn_failure_leaves_no_state(
    store: Store, clock: FakeClock
) -> None:
    def spanish(inbound: Inbound) -> Reply:
        return Reply(text="Lo sentimos, algo salió mal. Inténtalo de nuevo.")

    engine = Engine(store, Exploding(), clock=clock, fallback=spanish)
    result = await engine.handle(msg("boom"))
    assert result.replies == (spanish(msg("boom")),)
    assert store.load("telegram", "c1").state is None
    assert default_fallback(msg("x")) == APOLOGY


async def test_an_outcome_the_store_cannot_save_is_answered_like_a_failing_step(
    store: Store, clock: FakeClock
) -> None:
    async def unsaveable(state: Any, profile: Profile, inbound: Inbound, now: datetime) -> Outcome:
        return Outcome(state={"when": now}, replies=(Reply(text="booked!"),))  # a datetime is not JSON

    await Engine(store, Counter(), clock=clock).handle(msg("m1"))
    result = await Engine(store, unsaveable, clock=clock).handle(msg("m2"))
    assert result.replies == (APOLOGY,)
    assert store.load("telegram", "c1").state == {"n": 1}
    assert store.is_processed("telegram", "c1", "m2")


async def test_when_the_database_fails_nothing_is_recorded_and_a_redelivery_retries(
    db_path: Path, clock: FakeClock
) -> None:
    class Locked(SQLiteStore):
        failing = True

        def commit_turn(self, *args: Any, **kwargs: Any) -> bool:
            if self.failing:
                raise sqlite3.OperationalError("database is locked")
            return super().commit_turn(*args, **kwargs)

        def record_processed(self, *args: Any, **kwargs: Any) -> bool:
            if self.failing:
                raise sqlite3.OperationalError("database is locked")
            return super().record_processed(*args, **kwargs)

    step = Counter()
    with Locked(db_path, clock=clock) as s:
        engine = Engine(s, step, clock=clock)
        with pytest.raises(sqlite3.OperationalError):
            await engine.handle(msg("m1"))  # the channel answers 5xx and the platform redelivers
        assert len(engine._locks) == 0
        assert not s.is_processed("telegram", "c1", "m1")

        s.failing = False
        assert await engine.handle(msg("m1")) == TurnResult((Reply(text="hi #1"),))
        assert len(step.calls) == 2


# -- restarts ----------------------------------------------------------------------------------------------


async def test_a_new_engine_on_the_same_database_continues_the_conversation(
    database: str, clock: FakeClock
) -> None:
    with closing(open_store(database, clock=clock)) as s:
        engine = Engine(s, Counter(), clock=clock)
        await engine.handle(msg("m1", sender_name="Pat"))
        before = await engine.handle(msg("m2"))

    step = Counter()
    with closing(open_store(database, clock=clock)) as s:
        engine = Engine(s, step, clock=clock)
        assert await engine.handle(msg("m2")) == TurnResult(before.replies, duplicate=True)
        assert await engine.handle(msg("m3")) == TurnResult((Reply(text="hi #3"),))
    assert step.calls == [({"n": 2}, Profile(name="Pat"), msg("m3"), NOW)]


# -- several processes on PostgreSQL -----------------------------------------------------------------------


async def test_postgres_runs_a_message_delivered_to_two_processes_once(
    postgres_database: str, clock: FakeClock
) -> None:
    """Two engines on separate stores (separate connections, as two processes have) get the same message
    at once: the advisory lock makes the second wait, and it answers with the first one's replies."""

    class Slow(Counter):
        async def pause(self, inbound: Inbound) -> None:
            await anyio.sleep(0.1)

    steps = [Slow("one: "), Slow("two: ")]
    with (
        PostgresStore(postgres_database, clock=clock) as one,
        PostgresStore(postgres_database, clock=clock) as two,
    ):
        engines = [Engine(one, steps[0], clock=clock), Engine(two, steps[1], clock=clock)]
        results: list[TurnResult] = []

        async def deliver(engine: Engine) -> None:
            results.append(await engine.handle(msg("m1")))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for engine in engines:
                    tg.start_soon(deliver, engine)

    assert len(steps[0].calls) + len(steps[1].calls) == 1, "the step ran once"
    assert sorted(r.duplicate for r in results) == [False, True]
    assert results[0].replies == results[1].replies


async def test_postgres_keeps_one_chats_turns_in_order_across_processes(
    postgres_database: str, clock: FakeClock
) -> None:
    """One chat's messages spread over three processes: no two turns overlap, and every turn sees the
    state the previous one committed, so nothing is lost; other chats are not held up."""
    active: list[int] = [0]
    most: list[int] = [0]

    class Tracked(Counter):
        async def pause(self, inbound: Inbound) -> None:
            if inbound.chat_id == "busy":
                active[0] += 1
                most[0] = max(most[0], active[0])
                await anyio.sleep(0.02)
                active[0] -= 1

    stores = [PostgresStore(postgres_database, clock=clock) for _ in range(3)]
    steps = [Tracked(f"p{i}: ") for i in range(3)]
    engines = [Engine(store, step, clock=clock) for store, step in zip(stores, steps, strict=True)]
    try:
        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for n in range(12):
                    tg.start_soon(engines[n % 3].handle, msg(f"m{n}", chat="busy"))
                    tg.start_soon(engines[n % 3].handle, msg(f"m{n}", chat=f"other{n}"))
        assert most[0] == 1
        seen = sorted(
            (state or {}).get("n", 0)
            for step in steps
            for state, _, m, _ in step.calls
            if m.chat_id == "busy"
        )
        assert seen == list(range(12))
        assert stores[0].load("telegram", "busy").state == {"n": 12}
    finally:
        for store in stores:
            store.close()


async def test_postgres_a_cancelled_turn_releases_its_lock(postgres_database: str, clock: FakeClock) -> None:
    """A turn cancelled mid-step (a shutdown, a timeout) gives the conversation's lock back."""

    class Stuck(Counter):
        async def pause(self, inbound: Inbound) -> None:
            if inbound.message_id == "m1":
                await anyio.sleep(60)

    with (
        PostgresStore(postgres_database, clock=clock) as one,
        PostgresStore(postgres_database, clock=clock) as two,
    ):
        with anyio.move_on_after(0.3):
            await Engine(one, Stuck(), clock=clock).handle(msg("m1"))
        with anyio.fail_after(5):
            result = await Engine(two, Counter(), clock=clock).handle(msg("m2"))
    assert result == TurnResult((Reply(text="hi #1"),))
