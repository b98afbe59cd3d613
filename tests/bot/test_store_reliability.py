"""Issue 16's store: ``superseded`` by the store's own sequence, dead letters, the number an SMS customer
texted, a readiness write, and the migrations that add them. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.store import Store, open_store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SCHEMA_VERSION, SQLiteStore
from bot.types import Inbound, Outcome, OwnedBooking, Reply
from tests.bot import legacy_schemas

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


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


def message(message_id: str = "m1", *, channel: str = "telegram", chat_id: str = "42") -> Inbound:
    return Inbound(channel=channel, chat_id=chat_id, message_id=message_id, text="hi")


def said(text: str) -> Outcome:
    return Outcome(state={}, replies=(Reply(text=text),))


# -- superseded -------------------------------------------------------------------------------------------


def test_superseded_follows_the_order_the_store_recorded_not_the_hosts_clocks(store: Store) -> None:
    """Two hosts whose clocks disagree by an hour: the second turn is the later one, whatever it says."""
    assert store.commit_turn("telegram", "42", "m1", said("one"), now=T0 + timedelta(hours=1))
    assert store.commit_turn("telegram", "42", "m2", said("two"), now=T0)
    assert store.superseded("telegram", "42", "m1")
    assert not store.superseded("telegram", "42", "m2")
    assert not store.superseded("telegram", "other", "m1"), "per chat"


def test_a_failed_turn_recorded_later_supersedes_too(store: Store) -> None:
    assert store.commit_turn("sms", "+1", "m1", said("one"), now=T0)
    assert store.record_processed("sms", "+1", "m2", (Reply(text="sorry"),), now=T0 - timedelta(minutes=5))
    assert store.superseded("sms", "+1", "m1")
    assert not store.superseded("sms", "+1", "m2")


# -- dead letters ----------------------------------------------------------------------------------------


def test_a_message_that_keeps_crashing_becomes_a_dead_letter(store: Store, clock: Clock) -> None:
    assert store.enqueue_inbound(message("m1"), lease=LEASE)  # attempt 1: the process that accepted it
    for attempt in (2, 3):  # it died each time: the lease ran out, a successor took it
        clock.now += LEASE
        assert store.dead_inbound(channel="telegram", max_attempts=3) == [], f"attempt {attempt} is allowed"
        assert [m.message_id for m in store.claim_inbound(lease=LEASE, max_attempts=3)] == ["m1"]
    assert store.dead_inbound(channel="telegram", max_attempts=3) == [], "leased: attempt 3 may finish"
    clock.now += LEASE
    assert store.claim_inbound(lease=LEASE, max_attempts=3) == [], "three attempts: never handed out again"
    assert store.dead_inbound(channel="telegram", max_attempts=3) == [message("m1")]

    assert store.processed_replies("telegram", "42", "m1") == (), "answered with nothing, once"
    assert not store.enqueue_inbound(message("m1")), "a redelivery is not run again"
    assert store.claim_inbound(lease=LEASE) == [], "out of the inbox"
    assert store.dead_inbound(channel="telegram", max_attempts=3) == []


def test_dead_letters_are_per_channel_oldest_first(store: Store, clock: Clock) -> None:
    store.enqueue_inbound(message("t2"), lease=LEASE)
    clock.now += timedelta(seconds=1)
    store.enqueue_inbound(message("s1", channel="sms", chat_id="+1"), lease=LEASE)
    store.enqueue_inbound(message("t1"), lease=LEASE)
    clock.now += LEASE
    assert [m.message_id for m in store.dead_inbound(channel="telegram", max_attempts=1)] == ["t2", "t1"]
    assert [m.message_id for m in store.claim_inbound(channel="sms", max_attempts=1)] == []
    assert [m.message_id for m in store.claim_inbound(channel="sms")] == ["s1"], "untouched"


def test_a_message_whose_turn_committed_is_cleared_but_not_a_dead_letter(store: Store, clock: Clock) -> None:
    """It crashed after its turn committed (sending, say): no apology for a message that was answered."""
    store.enqueue_inbound(message("m1"), lease=LEASE)
    assert store.commit_turn("telegram", "42", "m1", said("booked"), now=T0)
    clock.now += LEASE
    assert store.dead_inbound(channel="telegram", max_attempts=1) == []
    assert store.processed_replies("telegram", "42", "m1") == (Reply(text="booked"),)
    assert store.claim_inbound() == []


def test_without_max_attempts_claim_hands_out_as_before(store: Store, clock: Clock) -> None:
    store.enqueue_inbound(message("m1"), lease=LEASE)
    for _ in range(5):
        clock.now += LEASE
        assert [m.message_id for m in store.claim_inbound(lease=LEASE)] == ["m1"]


# -- the number an SMS customer texted --------------------------------------------------------------------


def test_the_number_a_customer_texted_survives_a_restart_and_is_shared(
    opened: Callable[[], Store],
) -> None:
    first, other = opened(), opened()
    assert first.reply_from("sms", "+15550001") is None
    first.set_reply_from("sms", "+15550001", "+15551234567")
    first.set_reply_from("sms", "+15550002", "+15559999999")
    assert other.reply_from("sms", "+15550001") == "+15551234567", "another replica sees it"
    other.set_reply_from("sms", "+15550001", "+15557654321")  # they texted the other number since
    first.set_reply_from("sms", "+15550002", "+15559999999")  # unchanged: nothing to write
    first.close()
    restarted = opened()
    assert restarted.reply_from("sms", "+15550001") == "+15557654321"
    assert restarted.reply_from("sms", "+15550002") == "+15559999999"
    assert restarted.reply_from("telegram", "+15550001") is None, "per channel"


def test_sqlite_syncs_a_new_reply_number_to_disk_and_skips_an_unchanged_one(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.db") as store:
        statements: list[str] = []
        store._db.conn.set_trace_callback(statements.append)
        store.set_reply_from("sms", "+15550001", "+15551234567")
        assert "PRAGMA synchronous = FULL" in statements
        statements.clear()
        store.set_reply_from("sms", "+15550001", "+15551234567")
        assert not any(s.startswith(("INSERT", "PRAGMA synchronous")) for s in statements)
        store._db.conn.set_trace_callback(None)


# -- readiness -------------------------------------------------------------------------------------------


def test_check_writable_writes_a_row(store: Store, clock: Clock) -> None:
    store.check_writable()
    clock.now += timedelta(seconds=5)
    store.check_writable()  # again: an upsert, not a second row


def test_sqlite_check_writable_raises_when_the_file_takes_no_writes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "bot.db") as store:
        store.check_writable()
        store._db.execute("PRAGMA query_only = 1")  # as a full disk or a read-only mount refuses writes
        with pytest.raises(sqlite3.OperationalError):
            store.check_writable()
        store._db.execute("PRAGMA query_only = 0")
        store.check_writable()  # and nothing was left half done
        assert store.load("telegram", "42").state is None


def test_postgres_check_writable_raises_when_the_server_refuses_the_write(postgres_database: str) -> None:
    with PostgresStore(postgres_database) as store:
        with store._pool.connection() as conn:
            conn.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
            )
            conn.execute(
                "CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON health EXECUTE FUNCTION refuse()"
            )
        with pytest.raises(psycopg.Error):
            store.check_writable()


# -- migrations ------------------------------------------------------------------------------------------


def test_sqlite_version_3_database_migrates_keeping_messages_in_processing_order(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as old:
        for statement in legacy_schemas.SQLITE[3]:
            old.execute(statement)
        old.execute("PRAGMA user_version = 3")
        for message_id, at in (("late", T0 + timedelta(minutes=1)), ("early", T0)):  # inserted out of order
            old.execute(
                "INSERT INTO processed_messages (channel, chat_id, message_id, processed_at, replies)"
                " VALUES ('telegram', '42', ?, ?, ?)",
                [message_id, at.isoformat(), json.dumps([{"text": message_id}])],
            )

    with SQLiteStore(path, clock=Clock()) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.superseded("telegram", "42", "early")
        assert not store.superseded("telegram", "42", "late")
        assert store.processed_replies("telegram", "42", "late") == (Reply(text="late"),)
        assert not store.commit_turn("telegram", "42", "early", said("again")), "still de-duplicated"
        assert store.commit_turn("telegram", "42", "next", said("next"), now=T0 - timedelta(days=1))
        assert store.superseded("telegram", "42", "late"), "new rows come after the old ones"
        indexes = {index.name for index in store._db.table("processed_messages").indexes}
        assert "processed_messages_by_age" in indexes


def test_postgres_version_1_database_migrates_keeping_messages_in_processing_order(
    postgres_database: str,
) -> None:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE cadence_bot_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO cadence_bot_schema (version) VALUES (1)")
        for statement in legacy_schemas.POSTGRES[0]:
            conn.execute(statement)
        for message_id, at in (("late", T0 + timedelta(minutes=1)), ("early", T0)):
            conn.execute(
                "INSERT INTO processed_messages (channel, chat_id, message_id, processed_at, replies)"
                " VALUES ('telegram', '42', %s, %s, %s)",
                [message_id, at, json.dumps([{"text": message_id}])],
            )

    with PostgresStore(postgres_database, clock=Clock()) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.superseded("telegram", "42", "early")
        assert not store.superseded("telegram", "42", "late")
        assert not store.commit_turn("telegram", "42", "early", said("again")), "still de-duplicated"
        assert store.commit_turn("telegram", "42", "next", said("next"), now=T0 - timedelta(days=1))
        assert store.superseded("telegram", "42", "late"), "the sequence continues after the old rows"


# -- Cadence events per booking ------------------------------------------------------------------------


def _owned(store: Store, start: datetime) -> None:
    booking = OwnedBooking(
        tenant="salon", booking_id="bk_1", channel="telegram", chat_id="42", start=start, service_name="Cut"
    )
    assert store.commit_turn("telegram", "42", "m1", Outcome(state={}, owned=(booking,)))


def _starts(store: Store) -> list[datetime]:
    return [b.start for b in store.owned_bookings("telegram", "42")]


def test_the_newest_event_of_a_booking_wins_and_a_stale_one_changes_nothing(store: Store) -> None:
    ten, noon, two = (T0 + timedelta(days=1, hours=h) for h in (2, 4, 6))
    _owned(store, ten)
    assert store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=120), start=two)
    assert not store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=60), start=noon), "stale"
    assert _starts(store) == [two]
    assert not store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=120), start=two), "no change"
    assert store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=120), start=noon), "same second"
    assert store.apply_booking_event("salon", "bk_1", None, start=two), "no time: applied as it comes"
    assert not store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=90), start=noon), (
        "an event without a time does not forget the newest one"
    )
    assert not store.apply_booking_event("salon", "nobody", T0 + timedelta(days=1), start=noon)


def test_a_cancel_is_final(store: Store) -> None:
    ten, noon = T0 + timedelta(days=1, hours=2), T0 + timedelta(days=1, hours=4)
    _owned(store, ten)
    assert store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=60), cancelled=True)
    assert not store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=60), cancelled=True)
    assert not store.apply_booking_event("salon", "bk_1", T0 + timedelta(seconds=90), start=noon)
    assert store.owned_bookings("telegram", "42") == []
    [kept] = store.owned_bookings("telegram", "42", include_cancelled=True)
    assert kept.start == ten
