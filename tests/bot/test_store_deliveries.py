"""Delivery tracking (issue 17): which job a sent message belongs to, and the platform's latest status for
it (Twilio's status callbacks). On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store, open_store
from bot.store.sqlite import SQLiteStore
from bot.types import Outcome

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
def store(database: str, clock: Clock) -> Iterator[Store]:
    opened = open_store(database, clock=clock)
    yield opened
    opened.close()


def stored(store: Store, message_sid: str) -> tuple[Any, ...] | None:
    """The delivery's row as the database holds it: (job_key, chat_id, status, error_code)."""
    sql = "SELECT job_key, chat_id, status, error_code FROM deliveries"
    sql += " WHERE channel = 'sms' AND message_sid ="
    if isinstance(store, SQLiteStore):
        row = store._db.execute(sql + " ?", [message_sid]).fetchone()
    else:
        with store._pool.connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute(sql + " %s", [message_sid]).fetchone()
    return tuple(row) if row is not None else None


def test_a_status_callback_finds_the_job_its_message_was_sent_for(store: Store) -> None:
    store.record_delivery("sms", "SM1", job_key="reminder:salon:bk_1", chat_id="+351912345678")
    assert store.mark_delivery("sms", "SM1", "sent") == "reminder:salon:bk_1"
    assert store.mark_delivery("sms", "SM1", "undelivered", error_code="30003") == "reminder:salon:bk_1"
    assert stored(store, "SM1") == ("reminder:salon:bk_1", "+351912345678", "undelivered", "30003")


def test_a_reply_sent_for_no_job_is_tracked_but_names_none(store: Store) -> None:
    store.record_delivery("sms", "SM2", job_key=None, chat_id="+351912345678")
    assert store.mark_delivery("sms", "SM2", "delivered") is None
    assert stored(store, "SM2") == (None, "+351912345678", "delivered", None)


def test_an_unknown_message_is_none_and_stores_nothing(store: Store) -> None:
    assert store.mark_delivery("sms", "SM404", "failed", error_code="30008") is None
    assert stored(store, "SM404") is None
    assert store.mark_delivery("telegram", "SM404", "failed") is None


def test_recording_a_message_again_keeps_what_was_recorded(store: Store) -> None:
    store.record_delivery("sms", "SM3", job_key="notify:salon:bk_1", chat_id="+1")
    store.mark_delivery("sms", "SM3", "sent")
    store.record_delivery("sms", "SM3", job_key="other", chat_id="+2")
    assert stored(store, "SM3") == ("notify:salon:bk_1", "+1", "sent", None)


def test_a_late_callback_never_takes_a_message_back_in_its_life(store: Store) -> None:
    """Twilio's callbacks may arrive out of order: ``sent`` after ``delivered`` leaves it delivered."""
    store.record_delivery("sms", "SM4", job_key="reminder:salon:bk_2", chat_id="+1")
    assert store.mark_delivery("sms", "SM4", "delivered") == "reminder:salon:bk_2"
    assert store.mark_delivery("sms", "SM4", "sent") == "reminder:salon:bk_2", "still names its job"
    assert store.mark_delivery("sms", "SM4", "queued") == "reminder:salon:bk_2"
    assert stored(store, "SM4") == ("reminder:salon:bk_2", "+1", "delivered", None)
    store.mark_delivery("sms", "SM4", "failed", error_code="30007")  # a final word replaces a final word
    assert stored(store, "SM4") == ("reminder:salon:bk_2", "+1", "failed", "30007")


def test_deliveries_are_forgotten_with_the_processed_messages(store: Store, clock: Clock) -> None:
    store.record_delivery("sms", "old", job_key="j1", chat_id="+1")
    store.record_delivery("sms", "busy", job_key="j2", chat_id="+1")
    store.commit_turn("sms", "+1", "m1", Outcome(state={}))
    clock.now = T0 + timedelta(days=6)
    store.mark_delivery("sms", "busy", "sent")  # a callback keeps its message's record fresh
    clock.now = T0 + timedelta(days=8)

    assert store.prune_processed(older_than=timedelta(days=7)) == 1, "counts processed messages"
    assert stored(store, "old") is None
    assert store.mark_delivery("sms", "old", "delivered") is None
    assert stored(store, "busy") == ("j2", "+1", "sent", None)


def test_sqlite_syncs_a_status_to_disk_before_the_callback_is_answered(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.db") as store:
        store.record_delivery("sms", "SM5", job_key="j", chat_id="+1")
        statements: list[str] = []
        store._db.conn.set_trace_callback(statements.append)
        store.mark_delivery("sms", "SM5", "failed", error_code="30003")
        store._db.conn.set_trace_callback(None)
    pragmas = [s for s in statements if s.startswith("PRAGMA synchronous")]
    assert pragmas == ["PRAGMA synchronous = FULL", "PRAGMA synchronous = NORMAL"]
