"""The stores: round trips, migrations, one atomic transaction per turn, dedupe, profiles, ownership.

Tests taking ``store`` or ``database`` run on SQLite and on PostgreSQL; ``sqlite_store`` and ``db_path`` ones
check SQLite's own machinery (its file, WAL, migrations), and the ``postgres_*`` ones PostgreSQL's."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store import SchemaError, Store, open_store
from bot.store.dialect import SQLITE
from bot.store.migrations import Migration, migrate, read_version
from bot.store.postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from bot.store.postgres import PostgresStore
from bot.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from bot.types import Inbound, Option, Outcome, OwnedBooking, Profile, Reply
from tests.bot import legacy_schemas

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def booking(booking_id: str, *, hour: int = 10, tenant: str = "clinic", chat: str = "c1") -> OwnedBooking:
    return OwnedBooking(
        tenant=tenant,
        booking_id=booking_id,
        channel="telegram",
        chat_id=chat,
        start=datetime(2026, 6, 2, hour, 0, tzinfo=UTC),
        service_name="Consultation",
    )


def turn(n: int, **fields: Any) -> Outcome:
    return Outcome(state={"n": n}, replies=(Reply(text=f"reply {n}"),), **fields)


TABLES = ("conversations", "inbox", "jobs", "opt_outs", "owned_bookings", "processed_messages", "profiles")


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to compare before and after."""
    if isinstance(store, SQLiteStore):
        db = store._db
        return {name: [tuple(row.values()) for row in db.table(name).rows] for name in TABLES}
    assert isinstance(store, PostgresStore)
    with store._pool.connection() as conn:
        return {name: sorted(conn.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in TABLES}


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = open_store(database, clock=FakeClock())
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store() -> Iterator[SQLiteStore]:
    with SQLiteStore(":memory:", clock=FakeClock()) as s:
        yield s


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


# -- round trips -------------------------------------------------------------------------------------------


def test_an_unknown_chat_has_no_state_and_an_empty_profile(store: Store) -> None:
    loaded = store.load("telegram", "nobody")
    assert loaded.state is None
    assert loaded.updated_at is None
    assert loaded.profile == Profile()
    assert store.processed_replies("telegram", "nobody", "1") is None
    assert not store.is_processed("telegram", "nobody", "1")


def test_a_turn_round_trips(store: Store) -> None:
    replies = (
        Reply(text="Pick one ✂️", options=(Option(value="svc:1", label="Corte"),)),
        Reply(text="Share?", request_contact=True, link="https://example.com/b/1"),
    )
    outcome = Outcome(
        state={"stage": "confirm", "nested": {"list": [1, 2.5, None, True]}, "text": "olá 👋"},
        replies=replies,
        profile=Profile(name="Pat Patient", email="pat@example.com", timezone="Europe/Lisbon"),
        owned=(booking("b1"),),
    )
    assert store.commit_turn("telegram", "c1", "m1", outcome, now=NOW) is True

    loaded = store.load("telegram", "c1")
    assert loaded.state == outcome.state
    assert loaded.updated_at == NOW
    assert loaded.profile == outcome.profile
    assert store.processed_replies("telegram", "c1", "m1") == replies
    assert store.is_processed("telegram", "c1", "m1")
    # The same platform message id in another chat (or channel) is another message.
    assert not store.is_processed("telegram", "c2", "m1")
    assert not store.is_processed("sms", "c1", "m1")
    assert store.owned_bookings("telegram", "c1") == [booking("b1")]


def test_commit_turn_defaults_to_the_store_clock(store: Store) -> None:
    store.commit_turn("telegram", "c1", "m1", turn(1))
    assert store.load("telegram", "c1").updated_at == NOW


def test_a_naive_timestamp_is_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.commit_turn("telegram", "c1", "m1", turn(1), now=datetime(2026, 6, 1, 8, 0))
    assert not store.is_processed("telegram", "c1", "m1")


def test_a_state_that_is_not_json_is_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(TypeError):
        store.commit_turn("telegram", "c1", "m1", Outcome(state={"when": NOW}), now=NOW)
    assert snapshot(store)["processed_messages"] == []


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=50, deadline=None)
@given(state=st.dictionaries(st.text(), json_values, max_size=5), chat_id=st.text(min_size=1))
def test_any_json_state_round_trips(state: dict[str, Any], chat_id: str) -> None:
    with SQLiteStore(":memory:", clock=FakeClock()) as s:
        assert s.commit_turn("console", chat_id, "m", Outcome(state=state), now=NOW)
        assert s.load("console", chat_id).state == state


# -- dedupe ------------------------------------------------------------------------------------------------


def test_a_processed_message_id_changes_nothing(store: Store) -> None:
    assert store.commit_turn("telegram", "c1", "m1", turn(1, profile=Profile(name="Pat")), now=NOW)
    before = snapshot(store)

    later = NOW + timedelta(minutes=5)
    again = turn(2, profile=Profile(name="Other", email="o@example.com"), owned=(booking("b9"),))
    assert store.commit_turn("telegram", "c1", "m1", again, now=later) is False

    assert snapshot(store) == before
    assert store.load("telegram", "c1").state == {"n": 1}
    assert store.processed_replies("telegram", "c1", "m1") == (Reply(text="reply 1"),)


def test_record_processed_keeps_the_state_and_dedupes(store: Store) -> None:
    store.commit_turn("telegram", "c1", "m1", turn(1), now=NOW)
    sorry = (Reply(text="Sorry"),)
    assert store.record_processed("telegram", "c1", "m2", sorry, now=NOW + timedelta(hours=1)) is True
    loaded = store.load("telegram", "c1")
    assert (loaded.state, loaded.updated_at) == ({"n": 1}, NOW)
    assert store.processed_replies("telegram", "c1", "m2") == sorry
    assert store.record_processed("telegram", "c1", "m2", (Reply(text="x"),), now=NOW) is False
    assert store.commit_turn("telegram", "c1", "m2", turn(2), now=NOW) is False
    assert store.processed_replies("telegram", "c1", "m2") == sorry


def test_pruning_forgets_only_old_processed_messages(store: Store) -> None:
    store.commit_turn("telegram", "c1", "old", turn(1), now=NOW - timedelta(days=10))
    store.commit_turn("telegram", "c1", "edge", turn(2), now=NOW - timedelta(days=7))
    store.commit_turn("telegram", "c1", "new", turn(3), now=NOW - timedelta(days=1))

    assert store.prune_processed(older_than=timedelta(days=7)) == 1

    assert not store.is_processed("telegram", "c1", "old")
    assert store.is_processed("telegram", "c1", "edge")
    assert store.is_processed("telegram", "c1", "new")
    assert store.load("telegram", "c1").state == {"n": 3}
    assert store.prune_processed() == 0


# -- profiles ----------------------------------------------------------------------------------------------


def test_a_none_profile_field_never_erases_a_stored_one(store: Store) -> None:
    store.commit_turn("sms", "+351", "m1", turn(1, profile=Profile(name="Pat", email="pat@example.com")))
    store.commit_turn("sms", "+351", "m2", turn(2, profile=Profile(phone="+351912345678")))
    store.commit_turn("sms", "+351", "m3", turn(3))  # an empty profile
    store.commit_turn("sms", "+351", "m4", turn(4, profile=Profile(name="Pat Patient", language="pt")))

    assert store.load("sms", "+351").profile == Profile(
        name="Pat Patient", email="pat@example.com", phone="+351912345678", language="pt"
    )
    assert store.load("telegram", "+351").profile == Profile()  # per channel and chat


def test_the_profile_table_has_a_column_per_profile_field(sqlite_store: SQLiteStore) -> None:
    columns = set(sqlite_store._db.table("profiles").columns_dict)
    assert columns == {"channel", "chat_id", "updated_at", *Profile.model_fields}


def test_postgres_profile_table_has_a_column_per_profile_field(postgres_database: str) -> None:
    with PostgresStore(postgres_database) as store, store._pool.connection() as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'profiles' AND table_schema = current_schema()"
        ).fetchall()
    assert {name for (name,) in rows} == {"channel", "chat_id", "updated_at", *Profile.model_fields}


# -- ownership ---------------------------------------------------------------------------------------------


def test_owned_bookings_by_chat_and_tenant_soonest_first(store: Store) -> None:
    store.commit_turn(
        "telegram", "c1", "m1", turn(1, owned=(booking("late", hour=15), booking("early", hour=9)))
    )
    store.commit_turn("telegram", "c1", "m2", turn(2, owned=(booking("salon-1", tenant="salon"),)))
    store.commit_turn("telegram", "c2", "m1", turn(1, owned=(booking("theirs", chat="c2"),)))

    ids = [b.booking_id for b in store.owned_bookings("telegram", "c1")]
    assert ids == ["early", "salon-1", "late"]
    assert [b.booking_id for b in store.owned_bookings("telegram", "c1", "clinic")] == ["early", "late"]
    assert [b.booking_id for b in store.owned_bookings("telegram", "c1", tenant="salon")] == ["salon-1"]
    assert [b.booking_id for b in store.owned_bookings("telegram", "c2")] == ["theirs"]
    assert store.owned_bookings("sms", "c1") == []

    assert store.booking_owner("clinic", "early") == ("telegram", "c1")
    assert store.booking_owner("clinic", "theirs") == ("telegram", "c2")
    assert store.booking_owner("salon", "early") is None  # booking ids are per tenant
    assert store.booking_owner("clinic", "elsewhere") is None


def test_released_bookings_are_cancelled_only_for_their_owner(store: Store) -> None:
    store.commit_turn("telegram", "c1", "m1", turn(1, owned=(booking("b1"), booking("b2", hour=11))))
    store.commit_turn("telegram", "c2", "m1", turn(1, owned=(booking("b3", chat="c2"),)))

    store.commit_turn("telegram", "c2", "m2", turn(2, released=("b1",)))  # not theirs: no effect
    assert [b.booking_id for b in store.owned_bookings("telegram", "c1")] == ["b1", "b2"]

    store.commit_turn("telegram", "c1", "m2", turn(2, released=("b1",)))
    assert [b.booking_id for b in store.owned_bookings("telegram", "c1")] == ["b2"]
    everything = store.owned_bookings("telegram", "c1", include_cancelled=True)
    assert [b.booking_id for b in everything] == ["b1", "b2"]
    assert store.booking_owner("clinic", "b1") == ("telegram", "c1")  # still theirs, for webhooks


def test_a_moved_booking_is_updated_and_active_again(store: Store) -> None:
    store.commit_turn("telegram", "c1", "m1", turn(1, owned=(booking("b1"),)))
    store.commit_turn("telegram", "c1", "m2", turn(2, released=("b1",)))
    store.commit_turn("telegram", "c1", "m3", turn(3, owned=(booking("b1", hour=16),)))
    assert store.owned_bookings("telegram", "c1") == [booking("b1", hour=16)]


def test_ownership_never_moves_to_another_chat(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    store.commit_turn("telegram", "c1", "m1", turn(1, owned=(booking("b1"),)))
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        assert store.commit_turn("telegram", "c2", "m1", turn(1, owned=(booking("b1", hour=17, chat="c2"),)))
    assert store.booking_owner("clinic", "b1") == ("telegram", "c1")
    assert store.owned_bookings("telegram", "c1") == [booking("b1")]
    assert store.owned_bookings("telegram", "c2") == []
    assert "owned by another chat" in caplog.text
    assert store.load("telegram", "c2").state == {"n": 1}  # the rest of the turn is kept


# -- atomicity ---------------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def full_turn() -> Outcome:
    return turn(2, profile=Profile(name="New"), owned=(booking("b2"),), released=("b1",))


def committed_once(store: Store) -> None:
    store.commit_turn("telegram", "c1", "m1", turn(1, profile=Profile(name="Old"), owned=(booking("b1"),)))


def test_a_failure_at_any_statement_of_a_turn_leaves_the_old_turn() -> None:
    statements: list[str] = []
    with SQLiteStore(":memory:", clock=FakeClock()) as scratch:
        committed_once(scratch)
        with scratch._db.tracer(lambda sql, params: statements.append(sql)):
            scratch.commit_turn("telegram", "c1", "m2", full_turn())
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[-1] == "COMMIT"
    assert len(statements) >= 7  # begin, dedupe, state, profile, owned, released, commit

    for failing in range(len(statements)):
        with SQLiteStore(":memory:", clock=FakeClock()) as s:
            committed_once(s)
            before = snapshot(s)
            calls = iter(range(len(statements)))

            def fail(sql: str, params: object, failing: int = failing, calls: Any = calls) -> None:
                if next(calls) == failing:
                    raise Boom(sql)

            with pytest.raises(Boom), s._db.tracer(fail):
                s.commit_turn("telegram", "c1", "m2", full_turn())

            assert snapshot(s) == before, statements[failing]
            assert not s._db.conn.in_transaction
            # Nothing is stuck: the same turn commits afterwards.
            assert s.commit_turn("telegram", "c1", "m2", full_turn())
            assert s.load("telegram", "c1").state == {"n": 2}


def test_a_database_error_mid_turn_rolls_back_the_whole_turn(sqlite_store: SQLiteStore) -> None:
    store = sqlite_store
    committed_once(store)
    before = snapshot(store)
    store._db.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON owned_bookings BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        store.commit_turn("telegram", "c1", "m2", full_turn())
    assert snapshot(store) == before
    assert store.load("telegram", "c1").profile.name == "Old"


def test_postgres_rolls_back_the_whole_turn_on_an_error_mid_turn(postgres_database: str) -> None:
    import psycopg

    with PostgresStore(postgres_database, clock=FakeClock()) as store:
        committed_once(store)
        before = snapshot(store)
        with store._pool.connection() as conn:
            conn.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON owned_bookings EXECUTE FUNCTION refuse()")
        with pytest.raises(psycopg.errors.RaiseException, match="refused"):
            store.commit_turn("telegram", "c1", "m2", full_turn())
        assert snapshot(store) == before
        assert store.load("telegram", "c1").profile.name == "Old"
        assert store.commit_turn("telegram", "c1", "m3", turn(3)), "the pool's connection is usable again"


@pytest.mark.parametrize(
    "state",
    [
        {"text": "nul \x00, bell \x07, escape \x1b, and a lone \\"},
        {"emoji": "💈✂️", "rtl": "مرحبا", "combining": "e\u0301", "astral": "𝔘"},
        {"nested": [{"a": [1, 2.5, None, True]}, {}], "big": 2**53, "long": "x" * 10_000},
    ],
)
def test_unusual_states_round_trip(store: Store, state: dict[str, Any]) -> None:
    assert store.commit_turn("telegram", "c1", "m1", Outcome(state=state, replies=(Reply(text="ok"),)))
    assert store.load("telegram", "c1").state == state


CRASH = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from bot.store.sqlite import SQLiteStore
    from bot.types import Outcome, OwnedBooking, Profile, Reply

    path, crash_before = sys.argv[1], sys.argv[2]
    store = SQLiteStore(path)

    def crash(sql, params):
        if crash_before and sql.startswith(crash_before):
            os._exit(17)  # no cleanup, no rollback: the process just dies

    start = datetime(2026, 6, 2, 10, tzinfo=UTC)
    owned = (OwnedBooking(tenant="clinic", booking_id="b2", channel="telegram", chat_id="c1", start=start),)
    outcome = Outcome(
        state={"n": 2}, replies=(Reply(text="reply 2"),), profile=Profile(name="New"), owned=owned,
        released=("b1",),
    )
    with store._db.tracer(crash):
        store.commit_turn("telegram", "c1", "m2", outcome)
    os._exit(0)
    """
)


@pytest.mark.parametrize(
    "crash_before",
    ["INSERT INTO conversations", "INSERT INTO profiles", "UPDATE owned_bookings", "COMMIT", ""],
)
def test_a_process_killed_mid_turn_leaves_the_old_turn_or_the_new_one(
    db_path: Path, crash_before: str
) -> None:
    with SQLiteStore(db_path, clock=FakeClock()) as s:
        committed_once(s)
        before = snapshot(s)

    done = subprocess.run(
        [sys.executable, "-c", CRASH, str(db_path), crash_before], cwd=ROOT, capture_output=True, timeout=60
    )
    assert done.returncode == (17 if crash_before else 0), done.stderr.decode()

    with SQLiteStore(db_path, clock=FakeClock()) as s:
        assert s._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not crash_before:  # it got through COMMIT: all of the new turn
            assert s.load("telegram", "c1").state == {"n": 2}
            assert s.load("telegram", "c1").profile.name == "New"
            assert [b.booking_id for b in s.owned_bookings("telegram", "c1")] == ["b2"]
            assert s.is_processed("telegram", "c1", "m2")
        else:  # none of it
            assert snapshot(s) == before


# -- files, processes and threads --------------------------------------------------------------------------


def test_a_second_store_on_the_same_database_sees_committed_data(database: str) -> None:
    with closing(open_store(database, clock=FakeClock())) as first:
        first.commit_turn(
            "telegram", "c1", "m1", turn(1, profile=Profile(name="Pat"), owned=(booking("b1"),))
        )
        with closing(open_store(database, clock=FakeClock())) as second:  # at once, like another process
            assert second.load("telegram", "c1").state == {"n": 1}
            assert second.commit_turn("telegram", "c1", "m1", turn(9)) is False
            assert second.commit_turn("telegram", "c1", "m2", turn(2))
        assert first.load("telegram", "c1").state == {"n": 2}

    with closing(open_store(database, clock=FakeClock())) as reopened:  # after a restart
        loaded = reopened.load("telegram", "c1")
        assert (loaded.state, loaded.profile.name) == ({"n": 2}, "Pat")
        assert reopened.owned_bookings("telegram", "c1") == [booking("b1")]
        assert reopened.processed_replies("telegram", "c1", "m1") == (Reply(text="reply 1"),)


def test_the_file_is_in_wal_mode_with_a_busy_timeout(db_path: Path) -> None:
    with SQLiteStore(db_path, busy_timeout=2.5) as s:
        assert s._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s._db.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent, for every process
    finally:
        conn.close()


def test_one_store_is_safe_to_share_between_threads(database: str) -> None:
    with closing(open_store(database, clock=FakeClock())) as s:

        def chat(i: int) -> list[bool]:
            return [s.commit_turn("sms", f"chat-{i}", f"m{n}", turn(n)) for n in range(20)]

        def race(_: int) -> bool:
            return s.commit_turn("sms", "shared", "same-message", turn(0))

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(all(ok) for ok in pool.map(chat, range(8)))
            assert sorted(pool.map(race, range(8))) == [False] * 7 + [True]
        assert s.load("sms", "chat-3").state == {"n": 19}


# -- migrations --------------------------------------------------------------------------------------------


def test_a_new_database_is_at_the_latest_version(sqlite_store: SQLiteStore) -> None:
    assert sqlite_store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)


def test_postgres_processes_starting_together_migrate_once(postgres_database: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        stores = list(pool.map(lambda _: PostgresStore(postgres_database, clock=FakeClock()), range(4)))
    try:
        assert {store.schema_version for store in stores} == {len(POSTGRES_MIGRATIONS)}
        assert stores[0].commit_turn("telegram", "c1", "m1", turn(1))
        assert stores[3].load("telegram", "c1").state == {"n": 1}
    finally:
        for store in stores:
            store.close()


def test_postgres_refuses_a_database_from_a_newer_bot(postgres_database: str) -> None:
    with PostgresStore(postgres_database) as store, store._pool.connection() as conn:
        conn.execute("UPDATE cadence_bot_version SET version = version + 1")
    with pytest.raises(SchemaError, match="newer"):
        PostgresStore(postgres_database)


def test_opening_an_older_database_migrates_it_and_keeps_its_data(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as old:  # written by the first release
        for statement in legacy_schemas.SQLITE[1]:
            old.execute(statement)
        old.execute("PRAGMA user_version = 1")
        old.execute(
            "INSERT INTO conversations (channel, chat_id, state, updated_at) VALUES (?, ?, ?, ?)",
            ["telegram", "c1", json.dumps({"n": 1}), NOW.isoformat()],
        )

    with SQLiteStore(db_path, clock=FakeClock()) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert s.load("telegram", "c1").state == {"n": 1}
        assert s.commit_turn("telegram", "c1", "m2", turn(2, owned=(booking("b1"),)))
        assert s.owned_bookings("telegram", "c1") == [booking("b1")]

    with SQLiteStore(db_path, clock=FakeClock()) as again:  # migrations run once
        assert again.schema_version == SCHEMA_VERSION
        assert again.owned_bookings("telegram", "c1") == [booking("b1")]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def test_a_failing_migration_leaves_the_previous_version(db_path: Path) -> None:
    twice = "CREATE TABLE half_done (x TEXT)"
    broken = Migration("fails half way", shared=(twice, twice))
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            migrate(lambda: transaction(conn), SQLITE, (MIGRATIONS[0], broken))
        assert read_version(conn) == 1
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_a_database_from_a_newer_bot_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="newer"):
        SQLiteStore(db_path)


def test_store_logs_nothing_personal(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        store.commit_turn(
            "sms", "+351912345678", "m1", turn(1, profile=Profile(name="Pat", email="pat@example.com"))
        )
        store.load("sms", "+351912345678")
    assert "+351912345678" not in caplog.text
    assert "pat@example.com" not in caplog.text


def test_sqlite_syncs_to_disk_exactly_what_is_acknowledged_to_someone_else(tmp_path: Path) -> None:
    """fsync (synchronous = FULL) for the inbox, Cadence's event jobs and opt-outs; a turn, which the
    inbox can redo after a power cut, commits without one (see bot/store/sqlite.py's notes)."""
    with SQLiteStore(tmp_path / "bot.db") as store:
        statements: list[str] = []
        store._db.conn.set_trace_callback(statements.append)

        def durable(write: Any) -> bool:
            statements.clear()
            write()
            pragmas = [s for s in statements if s.startswith("PRAGMA synchronous")]
            return pragmas == ["PRAGMA synchronous = FULL", "PRAGMA synchronous = NORMAL"]

        inbound = Inbound(channel="telegram", chat_id="42", message_id="m1", text="hi")
        assert durable(lambda: store.enqueue_inbound(inbound))
        assert durable(lambda: store.add_job("event:e1", "cadence_event", NOW, {}))
        assert durable(lambda: store.set_opted_out("sms", "+351912345678", True))
        assert not durable(lambda: store.commit_turn("telegram", "42", "m1", Outcome(state={}), now=NOW))
        assert not durable(lambda: store.finish_inbound("telegram", "m1"))
        store._db.conn.set_trace_callback(None)
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1, "NORMAL between durable writes"
