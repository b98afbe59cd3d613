"""The store's durable work: the inbox, scheduled jobs and opt-outs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import Store
from bot.types import Inbound, Outcome, Reply

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def message(message_id: str = "m1") -> Inbound:
    return Inbound(channel="telegram", chat_id="42", message_id=message_id, text="hi")


def test_inbox_keeps_a_message_until_finished_and_hands_it_over_after_a_crash(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path / "bot.db", clock=clock)
    assert store.enqueue_inbound(message())
    assert not store.enqueue_inbound(message()), "a redelivery is not queued twice"
    assert store.claim_inbound() == [], "leased to whoever accepted it"
    store.close()
    clock.now += timedelta(minutes=2)  # that process died; its lease ran out
    restarted = Store(tmp_path / "bot.db", clock=clock)
    assert [m.message_id for m in restarted.claim_inbound()] == ["m1"]
    assert restarted.claim_inbound() == [], "now leased again"
    restarted.finish_inbound("telegram", "m1")
    clock.now += timedelta(minutes=5)
    assert restarted.claim_inbound() == []


def test_a_processed_message_is_not_queued_again() -> None:
    store = Store(":memory:", clock=Clock())
    outcome = Outcome(state={"stage": "service"}, replies=(Reply(text="hello"),))
    assert store.commit_turn("telegram", "42", "m1", outcome)
    assert not store.enqueue_inbound(message("m1"))


def test_jobs_run_when_due_once_and_move_when_rescheduled() -> None:
    clock = Clock()
    store = Store(":memory:", clock=clock)
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


def test_add_job_ignores_a_replayed_key_even_after_it_ran() -> None:
    clock = Clock()
    store = Store(":memory:", clock=clock)
    assert store.add_job("event:evt_1", "event", T0, {"id": "evt_1"})
    [job] = store.claim_jobs()
    store.finish_job(job.key)
    assert not store.add_job("event:evt_1", "event", T0, {"id": "evt_1"})


def test_failed_job_is_retried_later() -> None:
    clock = Clock()
    store = Store(":memory:", clock=clock)
    store.add_job("event:evt_2", "event", T0, {})
    [job] = store.claim_jobs()
    store.retry_job(job.key, T0 + timedelta(seconds=30))
    assert store.claim_jobs() == []
    clock.now += timedelta(seconds=30)
    assert [j.attempts for j in store.claim_jobs()] == [2]


def test_opt_outs() -> None:
    store = Store(":memory:", clock=Clock())
    assert not store.is_opted_out("sms", "+15551234567")
    store.set_opted_out("sms", "+15551234567", True)
    store.set_opted_out("sms", "+15551234567", True)
    assert store.is_opted_out("sms", "+15551234567")
    store.set_opted_out("sms", "+15551234567", False)
    assert not store.is_opted_out("sms", "+15551234567")


def test_each_channel_claims_its_own_inbox() -> None:
    clock = Clock()
    store = Store(":memory:", clock=clock)
    store.enqueue_inbound(message("t1"))
    store.enqueue_inbound(Inbound(channel="sms", chat_id="+15551234567", message_id="SM1", text="hi"))
    clock.now += timedelta(minutes=2)
    assert [m.message_id for m in store.claim_inbound(channel="sms")] == ["SM1"]
    assert [m.message_id for m in store.claim_inbound(channel="telegram")] == ["t1"]
    assert store.claim_inbound() == []
