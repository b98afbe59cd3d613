"""The store's durable work: the inbox, scheduled jobs and opt-outs, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Store, open_store
from bot.store.sqlite import SQLiteStore
from bot.types import Inbound, Outcome, PlannedJob, Reply

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def opened(database: str, clock: Clock) -> Iterator[Callable[[], Store]]:
    """Opens stores on one fresh database (each like another process); closes them at the end."""
    stores: list[Store] = []

    def open_one() -> Store:
        stores.append(open_store(database, clock=clock))
        return stores[-1]

    yield open_one
    for store in stores:
        store.close()


@pytest.fixture
def store(opened: Callable[[], Store]) -> Store:
    return opened()


def message(message_id: str = "m1") -> Inbound:
    return Inbound(channel="telegram", chat_id="42", message_id=message_id, text="hi")


def test_inbox_keeps_a_message_until_finished_and_hands_it_over_after_a_crash(
    opened: Callable[[], Store], clock: Clock
) -> None:
    store = opened()
    assert store.enqueue_inbound(message())
    assert not store.enqueue_inbound(message()), "a redelivery is not queued twice"
    assert store.claim_inbound() == [], "leased to whoever accepted it"
    store.close()
    clock.now += timedelta(minutes=2)  # that process died; its lease ran out
    restarted = opened()
    assert [m.message_id for m in restarted.claim_inbound()] == ["m1"]
    assert restarted.claim_inbound() == [], "now leased again"
    restarted.finish_inbound("telegram", "m1")
    clock.now += timedelta(minutes=5)
    assert restarted.claim_inbound() == []


def test_a_renewed_lease_keeps_a_message_from_other_processes_until_it_lapses(
    opened: Callable[[], Store], clock: Clock
) -> None:
    mine, other = opened(), opened()
    lease = timedelta(seconds=10)
    assert mine.enqueue_inbound(message("m1"), lease=lease)
    assert mine.enqueue_inbound(message("m2"), lease=lease)
    taken: list[str] = []
    for _ in range(5):  # the owner renews every few seconds while it processes m1, not m2
        clock.now += timedelta(seconds=4)
        mine.renew_inbound("telegram", ["m1"], lease=lease)
        mine.renew_inbound("telegram", [], lease=lease)  # nothing in flight: a no-op
        taken += [m.message_id for m in other.claim_inbound(lease=lease)]
    assert taken == ["m2"], "m2's lease lapsed; m1's never did"
    other.finish_inbound("telegram", "m2")
    clock.now += timedelta(seconds=11)  # the owner died: its renewals stop
    assert [m.message_id for m in other.claim_inbound(lease=lease)] == ["m1"]


def test_a_process_renews_only_the_leases_it_holds(opened: Callable[[], Store], clock: Clock) -> None:
    """A process whose renewals came late (a busy machine) must not take back a message another process
    claimed once its lease ran out: two would then process it, and neither would let it go."""
    slow, other = opened(), opened()
    lease = timedelta(seconds=10)
    assert slow.enqueue_inbound(message("m1"), lease=lease, holder="slow")
    clock.now += timedelta(seconds=11)  # slow's renewals are late
    assert [m.message_id for m in other.claim_inbound(lease=lease, holder="other")] == ["m1"]
    clock.now += timedelta(seconds=5)
    slow.renew_inbound("telegram", ["m1"], lease=timedelta(hours=1), holder="slow")  # not slow's now
    other.renew_inbound("telegram", ["m1"], lease=lease, holder="other")  # the holder's renewal counts
    clock.now += timedelta(seconds=9)
    assert slow.claim_inbound(lease=lease, holder="slow") == [], "still other's: it renewed"
    clock.now += timedelta(seconds=2)  # other died too: its lease ran out, slow's hour never counted
    assert [m.message_id for m in slow.claim_inbound(lease=lease, holder="slow")] == ["m1"]


def test_a_backlog_of_any_length_is_renewed(store: Store, clock: Clock) -> None:
    """Updates waiting for a turn slot stay ours however many there are: SQLite refuses a statement
    with more parameters than its build allows (32,766 by default, 999 before 3.32, 250,000 on Debian),
    so a single UPDATE ... IN (...) would fail and lose them all."""
    if isinstance(store, SQLiteStore):  # as strict as the oldest builds, whatever this one allows
        store._db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    lease = timedelta(seconds=10)
    for n in range(3):
        assert store.enqueue_inbound(message(f"m{n}"), lease=lease)
    backlog = [f"m{n}" for n in range(40_000)]
    clock.now += timedelta(seconds=8)
    store.renew_inbound("telegram", backlog, lease=lease)
    clock.now += timedelta(seconds=8)
    assert store.claim_inbound() == [], "all three renewed"
    clock.now += timedelta(seconds=3)
    assert len(store.claim_inbound()) == 3


def test_a_processed_message_is_not_queued_again(store: Store) -> None:
    outcome = Outcome(state={"stage": "service"}, replies=(Reply(text="hello"),))
    assert store.commit_turn("telegram", "42", "m1", outcome)
    assert not store.enqueue_inbound(message("m1"))


def test_jobs_run_when_due_once_and_move_when_rescheduled(store: Store, clock: Clock) -> None:
    store.schedule_job("reminder:bk_1", "reminder", T0 + timedelta(hours=1), {"booking_id": "bk_1"})
    assert store.claim_jobs() == []
    clock.now += timedelta(hours=1)
    [job] = store.claim_jobs()
    assert (job.key, job.payload, job.attempts) == ("reminder:bk_1", {"booking_id": "bk_1"}, 1)
    assert store.claim_jobs() == [], "leased: a second process gets nothing"
    store.finish_job(job.key)
    clock.now += timedelta(hours=1)
    assert store.claim_jobs() == []
    store.schedule_job("reminder:bk_1", "reminder", clock.now + timedelta(hours=3), {"booking_id": "bk_1"})
    assert store.get_job("reminder:bk_1") is not None
    assert store.cancel_job("reminder:bk_1")
    clock.now += timedelta(hours=4)
    assert store.claim_jobs() == []


def test_a_turns_jobs_are_committed_with_it_and_only_once(store: Store, clock: Clock) -> None:
    """A booking's reminder is part of the turn that made it: both land, or neither does."""
    store.schedule_job("reminder:old", "reminder", T0 + timedelta(days=1), {})
    remind = PlannedJob(key="reminder:bk1", kind="reminder", run_at=T0 + timedelta(days=2), payload={"n": 1})
    outcome = Outcome(state={"n": 1}, jobs=(remind,), dropped_jobs=("reminder:old",))
    assert store.commit_turn("telegram", "42", "m1", outcome)
    job = store.get_job("reminder:bk1")
    assert job is not None and (job.run_at, job.payload) == (remind.run_at, {"n": 1})
    assert store.count_jobs("reminder") == 1, "the dropped job is done"

    other = PlannedJob(key="reminder:bk2", kind="reminder", run_at=T0 + timedelta(days=3))
    redelivered = Outcome(state={"n": 2}, jobs=(other,), dropped_jobs=("reminder:bk1",))
    assert not store.commit_turn("telegram", "42", "m1", redelivered)
    assert store.get_job("reminder:bk2") is None and store.count_jobs("reminder") == 1

    unsaveable = Outcome(state={"bad": object()}, jobs=(other,))
    with pytest.raises(TypeError):
        store.commit_turn("telegram", "42", "m2", unsaveable)
    assert store.get_job("reminder:bk2") is None


def test_add_job_ignores_a_replayed_key_even_after_it_ran(store: Store, clock: Clock) -> None:
    assert store.add_job("event:evt_1", "event", T0, {"id": "evt_1"})
    [job] = store.claim_jobs()
    store.finish_job(job.key)
    assert not store.add_job("event:evt_1", "event", T0, {"id": "evt_1"})


def test_failed_job_is_retried_later(store: Store, clock: Clock) -> None:
    store.add_job("event:evt_2", "event", T0, {})
    [job] = store.claim_jobs()
    store.retry_job(job.key, T0 + timedelta(seconds=30))
    assert store.claim_jobs() == []
    clock.now += timedelta(seconds=30)
    assert [j.attempts for j in store.claim_jobs()] == [2]


def test_opt_outs(store: Store) -> None:
    assert not store.is_opted_out("sms", "+15551234567")
    store.set_opted_out("sms", "+15551234567", True)
    store.set_opted_out("sms", "+15551234567", True)
    assert store.is_opted_out("sms", "+15551234567")
    store.set_opted_out("sms", "+15551234567", False)
    assert not store.is_opted_out("sms", "+15551234567")


def test_each_channel_claims_its_own_inbox(store: Store, clock: Clock) -> None:
    store.enqueue_inbound(message("t1"))
    store.enqueue_inbound(Inbound(channel="sms", chat_id="+15551234567", message_id="SM1", text="hi"))
    clock.now += timedelta(minutes=2)
    assert [m.message_id for m in store.claim_inbound(channel="sms")] == ["SM1"]
    assert [m.message_id for m in store.claim_inbound(channel="telegram")] == ["t1"]
    assert store.claim_inbound() == []


def test_two_processes_never_claim_the_same_job_or_message(opened: Callable[[], Store], clock: Clock) -> None:
    """Many claimers on separate connections (as separate processes are) split the work: each job and
    each inbox message goes to exactly one of them."""
    stores = [opened() for _ in range(4)]
    for n in range(200):
        stores[0].add_job(f"event:{n}", "event", T0, {"n": n})
        stores[0].enqueue_inbound(message(f"m{n}"))
    clock.now += timedelta(minutes=2)

    def claim_all(store: Store) -> tuple[list[str], list[str]]:
        jobs: list[str] = []
        messages: list[str] = []
        while batch := store.claim_jobs(limit=7):
            jobs += [job.key for job in batch]
        while inbox := store.claim_inbound(limit=7):
            messages += [m.message_id for m in inbox]
        return jobs, messages

    with ThreadPoolExecutor(len(stores)) as pool:
        results = list(pool.map(claim_all, stores))
    jobs = [key for claimed, _ in results for key in claimed]
    messages = [message_id for _, claimed in results for message_id in claimed]
    assert sorted(jobs) == sorted(f"event:{n}" for n in range(200))
    assert sorted(messages) == sorted(f"m{n}" for n in range(200))


def test_claimed_inbox_messages_come_oldest_first(store: Store, clock: Clock) -> None:
    for n in range(5):
        store.enqueue_inbound(message(f"m{n}"))
        clock.now += timedelta(seconds=1)
    clock.now += timedelta(minutes=2)
    assert [m.message_id for m in store.claim_inbound()] == [f"m{n}" for n in range(5)]


def test_count_jobs_is_the_backlog_by_kind(store: Store) -> None:
    store.add_job("event:1", "cadence_event", T0, {})
    store.schedule_job("reminder:1", "reminder", T0 + timedelta(days=1), {})
    store.schedule_job("reminder:2", "reminder", T0 + timedelta(days=1), {})
    store.cancel_job("reminder:2")
    assert (store.count_jobs(), store.count_jobs("reminder"), store.count_jobs("cadence_event")) == (2, 1, 1)


def test_finished_jobs_are_forgotten_after_a_month_and_pending_ones_never(store: Store, clock: Clock) -> None:
    store.add_job("event:old", "cadence_event", T0, {})
    [job] = store.claim_jobs()
    store.finish_job(job.key)
    store.schedule_job("reminder:far", "reminder", T0 + timedelta(days=90), {})
    clock.now += timedelta(days=29)
    assert store.prune_jobs() == 0
    assert not store.add_job("event:old", "cadence_event", T0, {}), "still de-duplicates a retried event"
    clock.now += timedelta(days=2)
    assert store.prune_jobs() == 1
    assert store.get_job("reminder:far") is not None
