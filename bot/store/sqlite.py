"""The SQLite store: every deployment on one machine (the default, ``BOT_DATABASE=cadence-bot.db``).

SQLite through sqlite-utils, in WAL mode. One :meth:`SQLiteStore.commit_turn` is one transaction, so a crash
at any point leaves either the old turn or the new one on disk, never half of one. Method by method it is
the :class:`bot.store.Store` interface; ``bot/store/postgres.py`` is the same for several machines.

Durability: what the bot acknowledges to someone else is on disk (fsync) before the acknowledgement: a
message entering the inbox (Telegram and Twilio get their 200 after it), a Cadence event's job, an opt-out.
Everything else (turns, leases, finished messages and jobs) commits with ``synchronous = NORMAL``: safe
from any crash of the process, and after a power cut the WAL keeps a prefix of the commits, so what can be
lost is a suffix of turns whose messages are then still in the inbox, and are taken again (the same
booking, by its idempotency key; replies at least once). That saves an fsync per turn: on this kind of
disk 0.2 ms typically and 5-10 ms at the 99th percentile (docs/benchmarks.md).

Threads: the store owns ONE connection, opened with ``check_same_thread=False`` and used only under a
``threading.Lock``, so the engine may call it from worker threads (``anyio.to_thread``) and the event loop
never waits on SQLite. One connection (rather than one per call) is what makes ``":memory:"`` work and
keeps a call cheap; calls in one process are serialised by the lock, which costs little because each is a
few index lookups. Other processes on the same file are serialised by SQLite itself: writes take the write
lock up front (``BEGIN IMMEDIATE``) and wait up to ``busy_timeout`` for it. Their turns are de-duplicated
(the processed_messages key) but not ordered per conversation: :meth:`SQLiteStore.turn_lock` is a no-op, so
one machine runs one ``serve`` process; several processes need PostgreSQL's advisory locks.

Schema: ``PRAGMA user_version`` is the number of entries of :data:`MIGRATIONS` applied; opening a store
applies the rest in order, each in its own transaction with its version bump. Later tables (reminder jobs,
SMS opt-outs, webhook events: issue 7) are added by appending migrations, never by editing old ones.

Personal data: states and profiles are stored as given and never logged here.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlite_utils import Database

from bot.store.records import (
    ACTIVE,
    CANCELLED,
    DELIVERY_RANK_SQL,
    PROFILE_FIELDS,
    EventState,
    Job,
    SchemaError,
    StoredConversation,
    delivery_rank,
    dump_replies,
    load_replies,
    timestamp,
)
from bot.types import Clock, Inbound, Outcome, OwnedBooking, PlannedJob, Profile, Reply, system_clock

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore", "migrate"]

log = logging.getLogger(__name__)

# -- migrations -------------------------------------------------------------------------------------------


def _v1_conversations(db: Database) -> None:
    """Conversation state, processed inbound messages (with their replies), customer profiles."""
    db.table("conversations").create(
        {"channel": str, "chat_id": str, "state": str, "updated_at": str},
        pk=("channel", "chat_id"),
        not_null={"channel", "chat_id", "state", "updated_at"},
    )
    db.table("processed_messages").create(
        {"channel": str, "chat_id": str, "message_id": str, "processed_at": str, "replies": str},
        pk=("channel", "chat_id", "message_id"),
        not_null={"channel", "chat_id", "message_id", "processed_at", "replies"},
    )
    db.table("profiles").create(
        {
            "channel": str,
            "chat_id": str,
            "name": str,
            "email": str,
            "phone": str,
            "timezone": str,
            "language": str,
            "updated_at": str,
        },
        pk=("channel", "chat_id"),
        not_null={"channel", "chat_id", "updated_at"},
    )


def _v2_ownership(db: Database) -> None:
    """Bookings made through the bot and who made them; an index to prune processed messages by age."""
    db.table("owned_bookings").create(
        {
            "tenant": str,
            "booking_id": str,
            "channel": str,
            "chat_id": str,
            "start": str,
            "service_name": str,
            "status": str,
            "created_at": str,
            "updated_at": str,
        },
        pk=("tenant", "booking_id"),
        not_null={
            "tenant",
            "booking_id",
            "channel",
            "chat_id",
            "start",
            "service_name",
            "status",
            "created_at",
            "updated_at",
        },
        defaults={"service_name": "", "status": ACTIVE},
    )
    db.table("owned_bookings").create_index(["channel", "chat_id"], index_name="owned_bookings_by_chat")
    db.table("processed_messages").create_index(["processed_at"], index_name="processed_messages_by_age")


def _v3_queues(db: Database) -> None:
    """Durable work: inbound messages accepted but not yet answered, scheduled jobs, SMS opt-outs."""
    db.table("inbox").create(
        {
            "channel": str,
            "message_id": str,
            "chat_id": str,
            "inbound": str,
            "received_at": str,
            "lease_until": str,
            "attempts": int,
        },
        pk=("channel", "message_id"),
        not_null={"channel", "message_id", "chat_id", "inbound", "received_at", "lease_until", "attempts"},
    )
    db.table("jobs").create(
        {
            "key": str,
            "kind": str,
            "run_at": str,
            "payload": str,
            "lease_until": str,
            "attempts": int,
            "done_at": str,
            "created_at": str,
        },
        pk="key",
        not_null={"key", "kind", "run_at", "payload", "lease_until", "attempts", "created_at"},
    )
    db.table("jobs").create_index(["done_at", "run_at"], index_name="jobs_due")
    db.table("opt_outs").create(
        {"channel": str, "address": str, "opted_out_at": str},
        pk=("channel", "address"),
        not_null={"channel", "address", "opted_out_at"},
    )


def _v4_order_and_health(db: Database) -> None:
    """Issue 16: a store-assigned sequence on processed messages (``superseded`` compares it, not the
    clocks of the hosts that wrote them); the newest Cadence event applied per owned booking (events
    arrive out of order); the number each SMS customer last texted; a row readiness probes rewrite."""
    # AUTOINCREMENT needs an INTEGER PRIMARY KEY, so the table is rebuilt: the old key becomes a unique
    # constraint (ON CONFLICT still de-duplicates on it). Old rows are numbered in processing order.
    db.execute(
        "CREATE TABLE processed_messages_v4 (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " channel TEXT NOT NULL, chat_id TEXT NOT NULL, message_id TEXT NOT NULL,"
        " processed_at TEXT NOT NULL, replies TEXT NOT NULL, UNIQUE (channel, chat_id, message_id))"
    )
    db.execute(
        "INSERT INTO processed_messages_v4 (channel, chat_id, message_id, processed_at, replies)"
        " SELECT channel, chat_id, message_id, processed_at, replies FROM processed_messages"
        " ORDER BY processed_at, rowid"
    )
    db.execute("DROP TABLE processed_messages")
    db.execute("ALTER TABLE processed_messages_v4 RENAME TO processed_messages")
    db.execute("CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)")
    db.execute("ALTER TABLE owned_bookings ADD COLUMN event_at TEXT")
    db.table("reply_from").create(
        {"channel": str, "chat_id": str, "address": str, "updated_at": str},
        pk=("channel", "chat_id"),
        not_null={"channel", "chat_id", "address", "updated_at"},
    )
    db.table("health").create({"name": str, "checked_at": str}, pk="name", not_null={"name", "checked_at"})


def _v5_deliveries(db: Database) -> None:
    """Issue 17: the job each sent message belongs to and the platform's latest word on it (Twilio's
    status callbacks), so a reminder that never arrived is marked on its job."""
    db.execute(
        "CREATE TABLE deliveries (channel TEXT NOT NULL, message_sid TEXT NOT NULL, job_key TEXT,"
        " chat_id TEXT NOT NULL, status TEXT, error_code TEXT, created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL, PRIMARY KEY (channel, message_sid))"
    )
    db.execute("CREATE INDEX deliveries_by_age ON deliveries (updated_at)")


_RENEW_CHUNK: Final = 500
"""Ids per statement when renewing leases (SQLite allows 32,766 parameters; older builds 999)."""

MIGRATIONS: Final[tuple[Callable[[Database], None], ...]] = (
    _v1_conversations,
    _v2_ownership,
    _v3_queues,
    _v4_order_and_health,
    _v5_deliveries,
)
"""Applied in order; ``PRAGMA user_version`` counts how many are in the database. Append only."""

SCHEMA_VERSION: Final = len(MIGRATIONS)


def migrate(db: Database, migrations: Sequence[Callable[[Database], None]] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, each with its version bump in one transaction.

    Safe with several processes opening the same file at once: the version is re-read under the write lock.
    Returns the resulting version.
    """
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > len(MIGRATIONS):
                raise SchemaError(
                    f"database schema version {version} is newer than this bot's ({len(MIGRATIONS)})"
                )
            if version >= len(migrations):
                db.execute("COMMIT")
                return version
            migrations[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.rollback()
            raise


_INSERT_INBOX: Final = (
    "INSERT INTO inbox (channel, message_id, chat_id, inbound, received_at, lease_until, attempts)"
    " VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING"
)


# -- the store ---------------------------------------------------------------------------------------------


class SQLiteStore:
    """Conversation storage on one SQLite file (or ``":memory:"``); thread-safe, see the module notes."""

    def __init__(self, path: str | Path, *, clock: Clock = system_clock, busy_timeout: float = 5.0) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        conn = sqlite3.connect(str(path), timeout=busy_timeout, check_same_thread=False, isolation_level=None)
        try:
            self._db = Database(conn, recursive_triggers=False, execute_plugins=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if str(path) != ":memory:":
                self._db.enable_wal()
            self._db.execute("PRAGMA synchronous = NORMAL")  # see the module notes: durable writes ask
            migrate(self._db)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @asynccontextmanager
    async def turn_lock(self, channel: str, chat_id: str) -> AsyncIterator[None]:
        """Nothing to take: in one process the engine's own per-chat lock orders the turns."""
        yield

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def check_writable(self) -> None:
        """Prove the file can take a write: rewrite one row of ``health`` and sync it to disk. Raises what
        SQLite raises (``sqlite3.OperationalError`` for a full disk or a read-only file)."""
        with self._write(durable=True) as db:
            db.execute(
                "INSERT INTO health (name, checked_at) VALUES ('writable', ?)"
                " ON CONFLICT (name) DO UPDATE SET checked_at = excluded.checked_at",
                [timestamp(self._clock())],
            )

    @contextmanager
    def _write(self, *, durable: bool = False) -> Iterator[Database]:
        """One write transaction, holding SQLite's write lock from the start; rolled back on any error.

        ``durable``: on disk when this returns, and with it every commit before it (one WAL, in order)."""
        with self._lock:
            if durable:
                self._db.execute("PRAGMA synchronous = FULL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    if self._db.conn.in_transaction:  # the block may have rolled back itself
                        self._db.execute("COMMIT")
                except BaseException:
                    self._db.rollback()  # also when COMMIT itself fails (busy, I/O): never leave one open
                    raise
            finally:
                if durable:
                    self._db.execute("PRAGMA synchronous = NORMAL")

    # -- reads ---------------------------------------------------------------------------------------------

    def load(self, channel: str, chat_id: str) -> StoredConversation:
        """The chat's state and profile, read in one statement (one consistent snapshot)."""
        profile_columns = ", ".join(f"p.{name}" for name in PROFILE_FIELDS)
        sql = (
            f"SELECT c.state, c.updated_at, {profile_columns}"
            " FROM (SELECT ? AS channel, ? AS chat_id) AS k"
            " LEFT JOIN conversations AS c ON c.channel = k.channel AND c.chat_id = k.chat_id"
            " LEFT JOIN profiles AS p ON p.channel = k.channel AND p.chat_id = k.chat_id"
        )
        with self._lock:
            row = self._db.execute(sql, [channel, chat_id]).fetchone()
        state, updated_at, *profile = row
        return StoredConversation(
            state=json.loads(state) if state is not None else None,
            updated_at=datetime.fromisoformat(updated_at) if updated_at is not None else None,
            profile=Profile.model_validate(dict(zip(PROFILE_FIELDS, profile, strict=True))),
        )

    def is_processed(self, channel: str, chat_id: str, message_id: str) -> bool:
        return self.processed_replies(channel, chat_id, message_id) is not None

    def processed_replies(self, channel: str, chat_id: str, message_id: str) -> tuple[Reply, ...] | None:
        """What the bot answered to this message, or None if it has not been processed."""
        with self._lock:
            row = self._db.execute(
                "SELECT replies FROM processed_messages WHERE channel = ? AND chat_id = ? AND message_id = ?",
                [channel, chat_id, message_id],
            ).fetchone()
        return load_replies(row[0]) if row is not None else None

    def superseded(self, channel: str, chat_id: str, message_id: str) -> bool:
        """True when a message of this chat was processed after this one, by the store's own sequence
        (``processed_at`` comes from the caller's clock and may go backwards)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM processed_messages AS later JOIN processed_messages AS this"
                " ON later.channel = this.channel AND later.chat_id = this.chat_id"
                " WHERE this.channel = ? AND this.chat_id = ? AND this.message_id = ?"
                " AND later.seq > this.seq LIMIT 1",
                [channel, chat_id, message_id],
            ).fetchone()
        return row is not None

    def owned_bookings(
        self, channel: str, chat_id: str, tenant: str | None = None, *, include_cancelled: bool = False
    ) -> list[OwnedBooking]:
        """Bookings this chat made through the bot (with ``tenant``, only that tenant's), soonest first."""
        sql = (
            "SELECT tenant, booking_id, channel, chat_id, start, service_name FROM owned_bookings"
            " WHERE channel = ? AND chat_id = ?"
        )
        params: list[str] = [channel, chat_id]
        if tenant is not None:
            sql += " AND tenant = ?"
            params.append(tenant)
        if not include_cancelled:
            sql += " AND status = ?"
            params.append(ACTIVE)
        sql += " ORDER BY start, tenant, booking_id"
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            OwnedBooking(
                tenant=tenant_,
                booking_id=booking_id,
                channel=channel_,
                chat_id=chat_id_,
                start=datetime.fromisoformat(start),
                service_name=service_name,
            )
            for tenant_, booking_id, channel_, chat_id_, start, service_name in rows
        ]

    def booking_owner(self, tenant: str, booking_id: str) -> tuple[str, str] | None:
        """``(channel, chat_id)`` of the chat that made the booking, cancelled or not; None if not ours."""
        with self._lock:
            row = self._db.execute(
                "SELECT channel, chat_id FROM owned_bookings WHERE tenant = ? AND booking_id = ?",
                [tenant, booking_id],
            ).fetchone()
        return (row[0], row[1]) if row is not None else None

    # -- writes --------------------------------------------------------------------------------------------

    def commit_turn(
        self, channel: str, chat_id: str, message_id: str, outcome: Outcome, *, now: datetime | None = None
    ) -> bool:
        """Record one turn atomically: state, processed message with its replies, profile, ownership.

        Returns False, changing nothing, if ``message_id`` was already processed for this chat (the primary
        key on processed_messages decides, so concurrent writers in other processes are covered too).
        The profile is merged: a None field keeps the stored value. Owned bookings are upserted, but a
        booking already owned by another chat keeps its owner. Released ids are marked cancelled, for this
        chat's bookings only. Planned jobs are scheduled, dropped ones marked done.
        """
        moment = now or self._clock()
        at = timestamp(moment)
        state = json.dumps(outcome.state, ensure_ascii=False)  # fails before anything is written
        replies = dump_replies(outcome.replies)
        with self._write() as db:
            if not self._record(db, channel, chat_id, message_id, replies, at):
                db.rollback()  # nothing was written yet; be explicit anyway
                return False
            db.execute(
                "INSERT INTO conversations (channel, chat_id, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, chat_id) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                [channel, chat_id, state, at],
            )
            self._merge_profile(db, channel, chat_id, outcome.profile, at)
            for booking in outcome.owned:
                self._own(db, channel, chat_id, booking, at)
            for booking_id in outcome.released:
                db.execute(
                    "UPDATE owned_bookings SET status = ?, updated_at = ?"
                    " WHERE booking_id = ? AND channel = ? AND chat_id = ?",
                    [CANCELLED, at, booking_id, channel, chat_id],
                )
            for key in outcome.dropped_jobs:
                _drop_job(db, key, moment)
            for job in outcome.jobs:
                _schedule(db, job, moment)
        return True

    def record_processed(
        self,
        channel: str,
        chat_id: str,
        message_id: str,
        replies: Sequence[Reply],
        *,
        now: datetime | None = None,
    ) -> bool:
        """Mark a message processed with these replies, leaving state and profile as they are (a failed
        turn). Returns False if it was already processed."""
        at = timestamp(now or self._clock())
        dumped = dump_replies(replies)
        with self._write() as db:
            return self._record(db, channel, chat_id, message_id, dumped, at)

    def prune_processed(self, *, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget processed messages older than ``older_than`` (platforms redeliver within hours, not
        days); returns how many were removed. Keeps the dedupe table bounded."""
        cutoff = timestamp(self._clock() - older_than)
        with self._write() as db:
            db.execute("DELETE FROM deliveries WHERE updated_at < ?", [cutoff])
            return db.execute("DELETE FROM processed_messages WHERE processed_at < ?", [cutoff]).rowcount

    @staticmethod
    def _record(db: Database, channel: str, chat_id: str, message_id: str, replies: str, at: str) -> bool:
        cursor = db.execute(
            "INSERT INTO processed_messages (channel, chat_id, message_id, processed_at, replies)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [channel, chat_id, message_id, at, replies],
        )
        return cursor.rowcount == 1

    @staticmethod
    def _merge_profile(db: Database, channel: str, chat_id: str, profile: Profile, at: str) -> None:
        values = profile.model_dump()
        if all(values[name] is None for name in PROFILE_FIELDS):
            return
        columns = ", ".join(PROFILE_FIELDS)
        marks = ", ".join("?" for _ in PROFILE_FIELDS)
        merge = ", ".join(f"{name} = COALESCE(excluded.{name}, profiles.{name})" for name in PROFILE_FIELDS)
        db.execute(
            f"INSERT INTO profiles (channel, chat_id, {columns}, updated_at) VALUES (?, ?, {marks}, ?)"
            f" ON CONFLICT (channel, chat_id) DO UPDATE SET {merge}, updated_at = excluded.updated_at",
            [channel, chat_id, *(values[name] for name in PROFILE_FIELDS), at],
        )

    @staticmethod
    def _own(db: Database, channel: str, chat_id: str, booking: OwnedBooking, at: str) -> None:
        # The turn's chat is the owner, whatever the booking says; ownership never moves between chats.
        cursor = db.execute(
            "INSERT INTO owned_bookings"
            " (tenant, booking_id, channel, chat_id, start, service_name, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant, booking_id) DO UPDATE SET start = excluded.start,"
            " service_name = excluded.service_name, status = excluded.status,"
            " updated_at = excluded.updated_at"
            " WHERE owned_bookings.channel = excluded.channel AND owned_bookings.chat_id = excluded.chat_id",
            [
                booking.tenant,
                booking.booking_id,
                channel,
                chat_id,
                timestamp(booking.start),
                booking.service_name,
                ACTIVE,
                at,
                at,
            ],
        )
        if cursor.rowcount != 1:
            log.warning(
                "booking %s/%s is owned by another chat; ownership kept", booking.tenant, booking.booking_id
            )

    def update_owned(
        self, tenant: str, booking_id: str, *, start: datetime | None = None, cancelled: bool = False
    ) -> bool:
        """Follow a change made outside the chat (the business moved or cancelled it in Cadence)."""
        at = timestamp(self._clock())
        with self._write() as db:
            if cancelled:
                cursor = db.execute(
                    "UPDATE owned_bookings SET status = ?, updated_at = ?"
                    " WHERE tenant = ? AND booking_id = ?",
                    [CANCELLED, at, tenant, booking_id],
                )
            elif start is not None:
                cursor = db.execute(
                    "UPDATE owned_bookings SET start = ?, status = ?, updated_at = ?"
                    " WHERE tenant = ? AND booking_id = ?",
                    [timestamp(start), ACTIVE, at, tenant, booking_id],
                )
            else:
                return False
            return bool(cursor.rowcount)

    def apply_booking_event(
        self,
        tenant: str,
        booking_id: str,
        at: datetime | None,
        *,
        start: datetime | None = None,
        cancelled: bool = False,
    ) -> bool:
        """Apply a Cadence event to an owned booking unless it is stale; True when the booking changed
        (tell the customer). See :meth:`bot.store.Store.apply_booking_event`."""
        with self._write() as db:
            row = db.execute(
                "SELECT start, status, event_at FROM owned_bookings WHERE tenant = ? AND booking_id = ?",
                [tenant, booking_id],
            ).fetchone()
            if row is None:
                return False
            before = EventState(
                datetime.fromisoformat(row[0]), row[1], datetime.fromisoformat(row[2]) if row[2] else None
            )
            after = before.apply(at, start=start, cancelled=cancelled)
            if after is None:
                return False
            db.execute(
                "UPDATE owned_bookings SET start = ?, status = ?, event_at = ?, updated_at = ?"
                " WHERE tenant = ? AND booking_id = ?",
                [
                    timestamp(after.start),
                    after.status,
                    timestamp(after.event_at) if after.event_at else None,
                    timestamp(self._clock()),
                    tenant,
                    booking_id,
                ],
            )
            return after.changed_from(before)

    # -- inbox: inbound accepted before it is answered ---------------------------------------------------

    def enqueue_inbound(self, inbound: Inbound, *, lease: timedelta = timedelta(minutes=1)) -> bool:
        """Keep ``inbound`` until :meth:`finish_inbound`; False if it is already queued or processed.

        The caller holds it for ``lease`` (it is about to process it); after that, :meth:`claim_inbound`
        hands it to whoever asks, which is how a message accepted just before a crash is still answered.
        """
        now = self._clock()
        with self._write(durable=True) as db:
            done = db.execute(
                "SELECT 1 FROM processed_messages WHERE channel = ? AND chat_id = ? AND message_id = ?",
                [inbound.channel, inbound.chat_id, inbound.message_id],
            ).fetchone()
            if done is not None:
                return False
            cursor = db.execute(
                _INSERT_INBOX,
                [
                    inbound.channel,
                    inbound.message_id,
                    inbound.chat_id,
                    inbound.model_dump_json(),
                    timestamp(now),
                    timestamp(now + lease),
                ],
            )
            return cursor.rowcount == 1

    def claim_inbound(
        self,
        *,
        channel: str | None = None,
        lease: timedelta = timedelta(minutes=1),
        limit: int = 100,
        max_attempts: int | None = None,
    ) -> list[Inbound]:
        """Inbound messages nobody is processing (their lease ran out), oldest first, now leased to us;
        with ``channel``, only that channel's (each channel resumes its own). With ``max_attempts``, a
        message already handed out that many times is left for :meth:`dead_inbound`."""
        now = self._clock()
        where = "lease_until <= ?"
        params: list[str | int] = [timestamp(now)]
        if channel is not None:
            where += " AND channel = ?"
            params.append(channel)
        if max_attempts is not None:
            where += " AND attempts < ?"
            params.append(max_attempts)
        with self._write() as db:
            rows = db.execute(
                f"SELECT channel, message_id, inbound FROM inbox WHERE {where} ORDER BY received_at LIMIT ?",
                [*params, limit],
            ).fetchall()
            for channel, message_id, _ in rows:
                db.execute(
                    "UPDATE inbox SET lease_until = ?, attempts = attempts + 1"
                    " WHERE channel = ? AND message_id = ?",
                    [timestamp(now + lease), channel, message_id],
                )
        return [Inbound.model_validate_json(row[2]) for row in rows]

    def renew_inbound(self, channel: str, message_ids: Sequence[str], *, lease: timedelta) -> None:
        """Extend our lease on messages still being processed (any number: a long backlog is renewed in
        statements of at most :data:`_RENEW_CHUNK` ids, under SQLite's limit on parameters)."""
        until = timestamp(self._clock() + lease)
        with self._write() as db:
            for start in range(0, len(message_ids), _RENEW_CHUNK):
                chunk = message_ids[start : start + _RENEW_CHUNK]
                marks = ", ".join("?" * len(chunk))
                db.execute(
                    f"UPDATE inbox SET lease_until = ? WHERE channel = ? AND message_id IN ({marks})",
                    [until, channel, *chunk],
                )

    def finish_inbound(self, channel: str, message_id: str) -> None:
        """The message is answered: forget it."""
        with self._write() as db:
            db.execute("DELETE FROM inbox WHERE channel = ? AND message_id = ?", [channel, message_id])

    def dead_inbound(self, *, channel: str, max_attempts: int) -> list[Inbound]:
        """Dead letters: ``channel``'s messages handed out ``max_attempts`` times (``attempts`` counts the
        enqueue and every claim) whose last lease ran out too, so each attempt crashed or hung. They leave
        the inbox and are recorded as processed with no replies, so a redelivery is not run again; the
        caller apologises and counts them. A message whose turn did commit is only removed, not returned.
        Call it before ``claim_inbound(max_attempts=...)``, which then never hands these out again."""
        now = timestamp(self._clock())
        with self._write() as db:
            rows = db.execute(
                "SELECT message_id, chat_id, inbound FROM inbox"
                " WHERE channel = ? AND lease_until <= ? AND attempts >= ? ORDER BY received_at",
                [channel, now, max_attempts],
            ).fetchall()
            dead: list[Inbound] = []
            for message_id, chat_id, inbound in rows:
                db.execute("DELETE FROM inbox WHERE channel = ? AND message_id = ?", [channel, message_id])
                if self._record(db, channel, chat_id, message_id, "[]", now):
                    dead.append(Inbound.model_validate_json(inbound))
        return dead

    # -- jobs ----------------------------------------------------------------------------------------------

    def add_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> bool:
        """Add a job unless one with ``key`` was ever added (a replayed event); True when added."""
        with self._write(durable=True) as db:
            cursor = db.execute(
                "INSERT INTO jobs (key, kind, run_at, payload, lease_until, attempts, created_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING",
                [
                    key,
                    kind,
                    timestamp(run_at),
                    json.dumps(payload),
                    timestamp(run_at),
                    timestamp(self._clock()),
                ],
            )
            return cursor.rowcount == 1

    def schedule_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        """Add or move a job (a rescheduled booking moves its reminder); it becomes pending again."""
        with self._write() as db:
            _schedule(db, PlannedJob(key=key, kind=kind, run_at=run_at, payload=payload), self._clock())

    def cancel_job(self, key: str) -> bool:
        """Drop a pending job (a cancelled booking's reminder); True when there was one."""
        with self._write() as db:
            return _drop_job(db, key, self._clock())

    def claim_jobs(self, *, lease: timedelta = timedelta(minutes=2), limit: int = 50) -> list[Job]:
        """Due jobs nobody holds, leased to the caller: two processes never get the same job at once."""
        now = self._clock()
        with self._write() as db:
            rows = db.execute(
                "SELECT key, kind, run_at, payload, attempts FROM jobs"
                " WHERE done_at IS NULL AND run_at <= ? AND lease_until <= ? ORDER BY run_at LIMIT ?",
                [timestamp(now), timestamp(now), limit],
            ).fetchall()
            for row in rows:
                db.execute(
                    "UPDATE jobs SET lease_until = ?, attempts = attempts + 1 WHERE key = ?",
                    [timestamp(now + lease), row[0]],
                )
        return [
            Job(key, kind, datetime.fromisoformat(run_at), json.loads(payload), attempts + 1)
            for key, kind, run_at, payload, attempts in rows
        ]

    def finish_job(self, key: str) -> None:
        with self._write() as db:
            db.execute("UPDATE jobs SET done_at = ? WHERE key = ?", [timestamp(self._clock()), key])

    def retry_job(self, key: str, at: datetime) -> None:
        """Try a failed job again at ``at`` (backoff is the caller's choice)."""
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET lease_until = ? WHERE key = ? AND done_at IS NULL", [timestamp(at), key]
            )

    def get_job(self, key: str) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "SELECT key, kind, run_at, payload, attempts FROM jobs WHERE key = ? AND done_at IS NULL",
                [key],
            ).fetchone()
        return (
            Job(row[0], row[1], datetime.fromisoformat(row[2]), json.loads(row[3]), row[4]) if row else None
        )

    def prune_jobs(self, *, older_than: timedelta = timedelta(days=30)) -> int:
        """Forget jobs done more than ``older_than`` ago. Done jobs are kept that long because their keys
        de-duplicate Cadence's webhook events, which it retries for days, not weeks."""
        cutoff = timestamp(self._clock() - older_than)
        with self._write() as db:
            return db.execute("DELETE FROM jobs WHERE done_at < ?", [cutoff]).rowcount

    def count_jobs(self, kind: str | None = None) -> int:
        """Jobs not done yet (due or not), of ``kind`` if given: the worker's backlog."""
        sql, params = "SELECT count(*) FROM jobs WHERE done_at IS NULL", []
        if kind is not None:
            sql, params = sql + " AND kind = ?", [kind]
        with self._lock:
            return int(self._db.execute(sql, params).fetchone()[0])

    # -- deliveries ----------------------------------------------------------------------------------------

    def record_delivery(self, channel: str, message_sid: str, *, job_key: str | None, chat_id: str) -> None:
        """Remember which job a sent message belongs to. Not synced to disk on its own: nothing is
        acknowledged on it, and a power cut loses at most the attribution of a later callback."""
        at = timestamp(self._clock())
        with self._write() as db:
            db.execute(
                "INSERT INTO deliveries (channel, message_sid, job_key, chat_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [channel, message_sid, job_key, chat_id, at, at],
            )

    def mark_delivery(
        self, channel: str, message_sid: str, status: str, *, error_code: str | None = None
    ) -> str | None:
        """Store the latest status of a recorded message, durably (the platform's callback is then
        acknowledged); returns its job key. See :meth:`bot.store.Store.mark_delivery`."""
        with self._write(durable=True) as db:
            row = db.execute(
                "SELECT job_key FROM deliveries WHERE channel = ? AND message_sid = ?", [channel, message_sid]
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE deliveries SET status = ?, error_code = ?, updated_at = ?"
                f" WHERE channel = ? AND message_sid = ? AND {DELIVERY_RANK_SQL} <= ?",
                [status, error_code, timestamp(self._clock()), channel, message_sid, delivery_rank(status)],
            )
            return str(row[0]) if row[0] is not None else None

    # -- opt-outs ------------------------------------------------------------------------------------------

    def set_opted_out(self, channel: str, address: str, opted_out: bool) -> None:
        """Record a STOP (or a START undoing it) for an address such as a phone number."""
        with self._write(durable=True) as db:
            if opted_out:
                db.execute(
                    "INSERT INTO opt_outs (channel, address, opted_out_at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [channel, address, timestamp(self._clock())],
                )
            else:
                db.execute("DELETE FROM opt_outs WHERE channel = ? AND address = ?", [channel, address])

    def is_opted_out(self, channel: str, address: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM opt_outs WHERE channel = ? AND address = ?", [channel, address]
            ).fetchone()
        return row is not None

    # -- the number an SMS customer texted -------------------------------------------------------------

    def set_reply_from(self, channel: str, chat_id: str, address: str) -> None:
        """Remember the business address (the Twilio number) this chat last wrote to, so any process,
        after any restart, answers from it. Synced to disk when it changes (rarely: a customer keeps
        texting one number), so a same-number message costs one read."""
        if self.reply_from(channel, chat_id) == address:
            return
        with self._write(durable=True) as db:
            db.execute(
                "INSERT INTO reply_from (channel, chat_id, address, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, chat_id) DO UPDATE SET address = excluded.address,"
                " updated_at = excluded.updated_at",
                [channel, chat_id, address, timestamp(self._clock())],
            )

    def reply_from(self, channel: str, chat_id: str) -> str | None:
        """The address set by :meth:`set_reply_from`, or None if this chat never wrote to one."""
        with self._lock:
            row = self._db.execute(
                "SELECT address FROM reply_from WHERE channel = ? AND chat_id = ?", [channel, chat_id]
            ).fetchone()
        return str(row[0]) if row is not None else None


def _schedule(db: Database, job: PlannedJob, now: datetime) -> None:
    db.execute(
        "INSERT INTO jobs (key, kind, run_at, payload, lease_until, attempts, created_at)"
        " VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (key) DO UPDATE SET kind = excluded.kind,"
        " run_at = excluded.run_at, payload = excluded.payload, lease_until = excluded.lease_until,"
        " attempts = 0, done_at = NULL",
        [
            job.key,
            job.kind,
            timestamp(job.run_at),
            json.dumps(job.payload),
            timestamp(job.run_at),
            timestamp(now),
        ],
    )


def _drop_job(db: Database, key: str, now: datetime) -> bool:
    cursor = db.execute(
        "UPDATE jobs SET done_at = ? WHERE key = ? AND done_at IS NULL", [timestamp(now), key]
    )
    return cursor.rowcount == 1
