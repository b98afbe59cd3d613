"""The PostgreSQL store: several ``cadence-bot serve`` processes, on one machine or many, on one database.

Chosen by ``BOT_DATABASE=postgresql://user:password@host/db`` (see :func:`bot.store.open_store`); method by
method it is the same as :class:`bot.store.sqlite.SQLiteStore`, and the store tests run against both.

What makes several processes safe:

- **Turn order.** :meth:`PostgresStore.turn_lock` takes a session advisory lock named after the
  conversation and holds it for the whole turn (load, the dialog's Cadence calls, commit), so two processes
  never run turns of one chat at once, and the second sees the first's commit (and its processed message)
  before it starts. A process that dies mid-turn drops its connection and the server releases the lock.
- **Once per message.** ``processed_messages``' primary key: a turn whose message is already there changes
  nothing, as in SQLite.
- **Queues.** Inbox messages and jobs are claimed with ``FOR UPDATE SKIP LOCKED`` plus a lease, so two
  processes never get the same row, and a claimer that died hands its rows on when the lease runs out.

Connections: two pools. Short calls (one transaction each) share ``pool_size`` connections; turn locks have
their own ``turn_slots`` connections, held for a turn, so turns waiting on a lock can never starve the calls
that would let the holder finish. At most ``turn_slots`` turns hold or wait for a lock at once; more wait on
the event loop, not in threads (which the short calls need).

Schema: the ``cadence_bot_schema`` table holds how many of :data:`MIGRATIONS` are applied; opening a store
applies the rest under a transaction-level advisory lock, so processes starting together migrate once.
Tables live in the connection's ``search_path`` (the tests give each test a schema of its own).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final

import anyio
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

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
)
from bot.types import Clock, Inbound, Outcome, OwnedBooking, PlannedJob, Profile, Reply, system_clock

__all__ = ["MIGRATIONS", "PostgresStore"]

log = logging.getLogger(__name__)

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        "CREATE TABLE conversations (channel text NOT NULL, chat_id text NOT NULL, state text NOT NULL,"
        " updated_at timestamptz NOT NULL, PRIMARY KEY (channel, chat_id))",
        "CREATE TABLE processed_messages (channel text NOT NULL, chat_id text NOT NULL,"
        " message_id text NOT NULL, processed_at timestamptz NOT NULL, replies text NOT NULL,"
        " PRIMARY KEY (channel, chat_id, message_id))",
        "CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)",
        "CREATE TABLE profiles (channel text NOT NULL, chat_id text NOT NULL, name text, email text,"
        " phone text, timezone text, language text, updated_at timestamptz NOT NULL,"
        " PRIMARY KEY (channel, chat_id))",
        "CREATE TABLE owned_bookings (tenant text NOT NULL, booking_id text NOT NULL, channel text NOT NULL,"
        " chat_id text NOT NULL, start timestamptz NOT NULL, service_name text NOT NULL DEFAULT '',"
        " status text NOT NULL DEFAULT 'active', created_at timestamptz NOT NULL,"
        " updated_at timestamptz NOT NULL, PRIMARY KEY (tenant, booking_id))",
        "CREATE INDEX owned_bookings_by_chat ON owned_bookings (channel, chat_id)",
        "CREATE TABLE inbox (channel text NOT NULL, message_id text NOT NULL, chat_id text NOT NULL,"
        " inbound text NOT NULL, received_at timestamptz NOT NULL, lease_until timestamptz NOT NULL,"
        " attempts integer NOT NULL, PRIMARY KEY (channel, message_id))",
        "CREATE INDEX inbox_by_lease ON inbox (lease_until)",
        "CREATE TABLE jobs (key text PRIMARY KEY, kind text NOT NULL, run_at timestamptz NOT NULL,"
        " payload text NOT NULL, lease_until timestamptz NOT NULL, attempts integer NOT NULL,"
        " done_at timestamptz, created_at timestamptz NOT NULL)",
        "CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL",
        "CREATE TABLE opt_outs (channel text NOT NULL, address text NOT NULL,"
        " opted_out_at timestamptz NOT NULL, PRIMARY KEY (channel, address))",
    ),
    (
        # Issue 16. A sequence the server assigns, for ``superseded`` (hosts' clocks disagree); old rows
        # numbered in processing order, then the column becomes an identity continuing after them.
        "ALTER TABLE processed_messages ADD COLUMN seq bigint",
        "UPDATE processed_messages AS p SET seq = o.n FROM (SELECT channel, chat_id, message_id,"
        " row_number() OVER (ORDER BY processed_at, message_id) AS n FROM processed_messages) AS o"
        " WHERE p.channel = o.channel AND p.chat_id = o.chat_id AND p.message_id = o.message_id",
        "ALTER TABLE processed_messages ALTER COLUMN seq SET NOT NULL,"
        " ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY",
        "SELECT setval(pg_get_serial_sequence('processed_messages', 'seq'),"
        " (SELECT COALESCE(max(seq), 0) + 1 FROM processed_messages), false)",
        # The newest Cadence event applied to an owned booking: older ones, delivered late, are stale.
        "ALTER TABLE owned_bookings ADD COLUMN event_at timestamptz",
        "CREATE TABLE reply_from (channel text NOT NULL, chat_id text NOT NULL, address text NOT NULL,"
        " updated_at timestamptz NOT NULL, PRIMARY KEY (channel, chat_id))",
        "CREATE TABLE health (name text PRIMARY KEY, checked_at timestamptz NOT NULL)",
    ),
    (
        # Issue 17: the job each sent message belongs to, and the platform's latest status for it.
        "CREATE TABLE deliveries (channel text NOT NULL, message_sid text NOT NULL, job_key text,"
        " chat_id text NOT NULL, status text, error_code text, created_at timestamptz NOT NULL,"
        " updated_at timestamptz NOT NULL, PRIMARY KEY (channel, message_sid))",
        "CREATE INDEX deliveries_by_age ON deliveries (updated_at)",
    ),
)
"""Each entry is one migration's statements, applied in one transaction. Append only."""

_MIGRATION_LOCK: Final = int.from_bytes(
    hashlib.blake2b(b"cadence-bot:migrate", digest_size=8).digest(), "big", signed=True
)


def _turn_key(channel: str, chat_id: str) -> int:
    """The conversation's advisory lock: 64 bits of a hash (a collision only serialises two chats)."""
    digest = hashlib.blake2b(f"turn\x00{channel}\x00{chat_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def migrate(pool: ConnectionPool[psycopg.Connection[Any]]) -> int:
    """Apply the migrations the database lacks; returns the resulting version."""
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK])
        conn.execute("CREATE TABLE IF NOT EXISTS cadence_bot_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM cadence_bot_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO cadence_bot_schema (version) VALUES (0)")
        version = row[0] if row is not None else 0
        if version > len(MIGRATIONS):
            raise SchemaError(
                f"database schema version {version} is newer than this bot's ({len(MIGRATIONS)})"
            )
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("UPDATE cadence_bot_schema SET version = %s", [len(MIGRATIONS)])
        return max(version, len(MIGRATIONS))


class PostgresStore:
    """Conversation storage on a PostgreSQL database shared by any number of processes; thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock = system_clock,
        pool_size: int = 10,
        turn_slots: int = 20,
        lock_timeout: timedelta = timedelta(minutes=1),
        connect_timeout: float = 10.0,
    ) -> None:
        self._clock = clock
        self._pool = _new_pool(url, "-c TimeZone=UTC", 1, pool_size, connect_timeout, "cadence-bot")
        lock_timeout_ms = int(lock_timeout.total_seconds() * 1000)
        self._lock_pool = _new_pool(
            url,
            f"-c TimeZone=UTC -c lock_timeout={lock_timeout_ms}",
            0,
            turn_slots,
            connect_timeout,
            "cadence-bot-turns",
        )
        self._turn_slots = threading.BoundedSemaphore(turn_slots)
        self._pool.open(wait=True, timeout=connect_timeout)
        try:
            migrate(self._pool)
            self._lock_pool.open()
        except BaseException:
            self._pool.close()
            raise

    def close(self) -> None:
        self._lock_pool.close()
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT version FROM cadence_bot_schema").fetchone()
        return int(row[0]) if row else 0

    def check_writable(self) -> None:
        """Prove the database takes a durable write (one row of ``health``, committed); raises
        ``psycopg.Error`` when it can't (a full disk, a read-only standby, no server)."""
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO health (name, checked_at) VALUES ('writable', %s)"
                " ON CONFLICT (name) DO UPDATE SET checked_at = excluded.checked_at",
                [self._clock()],
            )

    # -- the turn lock -------------------------------------------------------------------------------------

    @asynccontextmanager
    async def turn_lock(self, channel: str, chat_id: str) -> AsyncIterator[None]:
        """Hold the conversation's advisory lock for the block, waiting for any other process's turn."""
        delay = 0.001
        while not self._turn_slots.acquire(blocking=False):  # wait on the loop, not in a thread
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            key = _turn_key(channel, chat_id)
            # Shielded: a cancellation between taking the lock and yielding must not leak it.
            with anyio.CancelScope(shield=True):
                conn = await anyio.to_thread.run_sync(self._take_lock, key)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._release_lock, conn, key)
        finally:
            self._turn_slots.release()

    def _take_lock(self, key: int) -> psycopg.Connection[Any]:
        conn = self._lock_pool.getconn()
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", [key])
        except BaseException:
            self._lock_pool.putconn(conn)
            raise
        return conn

    def _release_lock(self, conn: psycopg.Connection[Any], key: int) -> None:
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", [key])
        except psycopg.Error:
            conn.close()  # the server drops a closed session's locks; the pool replaces the connection
        finally:
            self._lock_pool.putconn(conn)

    # -- reads ---------------------------------------------------------------------------------------------

    def load(self, channel: str, chat_id: str) -> StoredConversation:
        profile_columns = ", ".join(f"p.{name}" for name in PROFILE_FIELDS)
        sql = (
            f"SELECT c.state, c.updated_at, {profile_columns}"
            " FROM (SELECT %s::text AS channel, %s::text AS chat_id) AS k"
            " LEFT JOIN conversations AS c ON c.channel = k.channel AND c.chat_id = k.chat_id"
            " LEFT JOIN profiles AS p ON p.channel = k.channel AND p.chat_id = k.chat_id"
        )
        with self._pool.connection() as conn:
            row = conn.execute(sql, [channel, chat_id]).fetchone()
        assert row is not None  # the one-row key table always yields a row
        state, updated_at, *profile = row
        return StoredConversation(
            state=json.loads(state) if state is not None else None,
            updated_at=updated_at,
            profile=Profile.model_validate(dict(zip(PROFILE_FIELDS, profile, strict=True))),
        )

    def is_processed(self, channel: str, chat_id: str, message_id: str) -> bool:
        return self.processed_replies(channel, chat_id, message_id) is not None

    def processed_replies(self, channel: str, chat_id: str, message_id: str) -> tuple[Reply, ...] | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT replies FROM processed_messages"
                " WHERE channel = %s AND chat_id = %s AND message_id = %s",
                [channel, chat_id, message_id],
            ).fetchone()
        return load_replies(row[0]) if row is not None else None

    def superseded(self, channel: str, chat_id: str, message_id: str) -> bool:
        # By the server's sequence: turns of one chat are serialised by its turn lock, so sequence
        # order is commit order within a chat, whichever host's clock stamped processed_at.
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM processed_messages AS later JOIN processed_messages AS this"
                " ON later.channel = this.channel AND later.chat_id = this.chat_id"
                " WHERE this.channel = %s AND this.chat_id = %s AND this.message_id = %s"
                " AND later.seq > this.seq LIMIT 1",
                [channel, chat_id, message_id],
            ).fetchone()
        return row is not None

    def owned_bookings(
        self, channel: str, chat_id: str, tenant: str | None = None, *, include_cancelled: bool = False
    ) -> list[OwnedBooking]:
        sql = (
            "SELECT tenant, booking_id, channel, chat_id, start, service_name FROM owned_bookings"
            " WHERE channel = %s AND chat_id = %s"
        )
        params: list[str] = [channel, chat_id]
        if tenant is not None:
            sql += " AND tenant = %s"
            params.append(tenant)
        if not include_cancelled:
            sql += " AND status = %s"
            params.append(ACTIVE)
        sql += " ORDER BY start, tenant, booking_id"
        with self._pool.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            OwnedBooking(
                tenant=tenant_,
                booking_id=booking_id,
                channel=channel_,
                chat_id=chat_id_,
                start=start,
                service_name=service_name,
            )
            for tenant_, booking_id, channel_, chat_id_, start, service_name in rows
        ]

    def booking_owner(self, tenant: str, booking_id: str) -> tuple[str, str] | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT channel, chat_id FROM owned_bookings WHERE tenant = %s AND booking_id = %s",
                [tenant, booking_id],
            ).fetchone()
        return (row[0], row[1]) if row is not None else None

    # -- writes --------------------------------------------------------------------------------------------

    def commit_turn(
        self, channel: str, chat_id: str, message_id: str, outcome: Outcome, *, now: datetime | None = None
    ) -> bool:
        """One transaction: state, processed message with its replies, profile, ownership, jobs. False,
        changing nothing, when the message was processed already (by this process or another)."""
        at = _aware(now or self._clock())
        state = json.dumps(outcome.state, ensure_ascii=False)  # fails before anything is written
        replies = dump_replies(outcome.replies)
        with self._pool.connection() as conn, conn.transaction():
            if not _record(conn, channel, chat_id, message_id, replies, at):
                return False
            conn.execute(
                "INSERT INTO conversations (channel, chat_id, state, updated_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (channel, chat_id) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                [channel, chat_id, state, at],
            )
            _merge_profile(conn, channel, chat_id, outcome.profile, at)
            for booking in outcome.owned:
                _own(conn, channel, chat_id, booking, at)
            for booking_id in outcome.released:
                conn.execute(
                    "UPDATE owned_bookings SET status = %s, updated_at = %s"
                    " WHERE booking_id = %s AND channel = %s AND chat_id = %s",
                    [CANCELLED, at, booking_id, channel, chat_id],
                )
            for key in outcome.dropped_jobs:
                _drop_job(conn, key, at)
            for job in outcome.jobs:
                _schedule(conn, job, at)
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
        at = _aware(now or self._clock())
        with self._pool.connection() as conn:
            return _record(conn, channel, chat_id, message_id, dump_replies(replies), at)

    def prune_processed(self, *, older_than: timedelta = timedelta(days=7)) -> int:
        cutoff = self._clock() - older_than
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM deliveries WHERE updated_at < %s", [cutoff])
            return conn.execute("DELETE FROM processed_messages WHERE processed_at < %s", [cutoff]).rowcount

    def update_owned(
        self, tenant: str, booking_id: str, *, start: datetime | None = None, cancelled: bool = False
    ) -> bool:
        at = self._clock()
        with self._pool.connection() as conn:
            if cancelled:
                cursor = conn.execute(
                    "UPDATE owned_bookings SET status = %s, updated_at = %s"
                    " WHERE tenant = %s AND booking_id = %s",
                    [CANCELLED, at, tenant, booking_id],
                )
            elif start is not None:
                cursor = conn.execute(
                    "UPDATE owned_bookings SET start = %s, status = %s, updated_at = %s"
                    " WHERE tenant = %s AND booking_id = %s",
                    [_aware(start), ACTIVE, at, tenant, booking_id],
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
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT start, status, event_at FROM owned_bookings WHERE tenant = %s AND booking_id = %s"
                " FOR UPDATE",  # two processes applying two events of one booking: one after the other
                [tenant, booking_id],
            ).fetchone()
            if row is None:
                return False
            before = EventState(row[0], row[1], row[2])
            after = before.apply(
                _aware(at) if at else None, start=_aware(start) if start else None, cancelled=cancelled
            )
            if after is None:
                return False
            conn.execute(
                "UPDATE owned_bookings SET start = %s, status = %s, event_at = %s, updated_at = %s"
                " WHERE tenant = %s AND booking_id = %s",
                [after.start, after.status, after.event_at, self._clock(), tenant, booking_id],
            )
            return after.changed_from(before)

    # -- inbox ---------------------------------------------------------------------------------------------

    def enqueue_inbound(self, inbound: Inbound, *, lease: timedelta = timedelta(minutes=1)) -> bool:
        now = self._clock()
        with self._pool.connection() as conn:
            cursor = conn.execute(
                "INSERT INTO inbox"
                " (channel, message_id, chat_id, inbound, received_at, lease_until, attempts)"
                " SELECT %s, %s, %s, %s, %s, %s, 1 WHERE NOT EXISTS (SELECT 1 FROM processed_messages"
                "  WHERE channel = %s AND chat_id = %s AND message_id = %s)"
                " ON CONFLICT DO NOTHING",
                [
                    inbound.channel,
                    inbound.message_id,
                    inbound.chat_id,
                    inbound.model_dump_json(),
                    now,
                    now + lease,
                    inbound.channel,
                    inbound.chat_id,
                    inbound.message_id,
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
        now = self._clock()
        where = "lease_until <= %s"
        params: list[datetime | str | int] = [now]
        if channel is not None:
            where += " AND channel = %s"
            params.append(channel)
        if max_attempts is not None:
            where += " AND attempts < %s"
            params.append(max_attempts)
        with self._pool.connection() as conn:
            rows = conn.execute(
                "UPDATE inbox SET lease_until = %s, attempts = attempts + 1"
                " WHERE (channel, message_id) IN (SELECT channel, message_id FROM inbox"
                f"  WHERE {where} ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING received_at, inbound",
                [now + lease, *params, limit],
            ).fetchall()
        return [Inbound.model_validate_json(inbound) for _, inbound in sorted(rows, key=lambda row: row[0])]

    def renew_inbound(self, channel: str, message_ids: Sequence[str], *, lease: timedelta) -> None:
        if not message_ids:
            return
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE inbox SET lease_until = %s WHERE channel = %s AND message_id = ANY(%s)",
                [self._clock() + lease, channel, list(message_ids)],
            )

    def finish_inbound(self, channel: str, message_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM inbox WHERE channel = %s AND message_id = %s", [channel, message_id])

    def dead_inbound(self, *, channel: str, max_attempts: int) -> list[Inbound]:
        """See :meth:`bot.store.sqlite.SQLiteStore.dead_inbound`: one transaction, rows locked by a
        claimer are skipped (they are being tried again)."""
        now = self._clock()
        with self._pool.connection() as conn, conn.transaction():
            rows = conn.execute(
                "DELETE FROM inbox WHERE (channel, message_id) IN (SELECT channel, message_id FROM inbox"
                "  WHERE channel = %s AND lease_until <= %s AND attempts >= %s FOR UPDATE SKIP LOCKED)"
                " RETURNING message_id, chat_id, inbound, received_at",
                [channel, now, max_attempts],
            ).fetchall()
            dead: list[Inbound] = []
            for message_id, chat_id, inbound, _ in sorted(rows, key=lambda row: row[3]):
                if _record(conn, channel, chat_id, message_id, "[]", now):
                    dead.append(Inbound.model_validate_json(inbound))
        return dead

    # -- jobs ----------------------------------------------------------------------------------------------

    def add_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> bool:
        with self._pool.connection() as conn:
            cursor = conn.execute(
                "INSERT INTO jobs (key, kind, run_at, payload, lease_until, attempts, created_at)"
                " VALUES (%s, %s, %s, %s, %s, 0, %s) ON CONFLICT DO NOTHING",
                [key, kind, _aware(run_at), json.dumps(payload), run_at, self._clock()],
            )
            return cursor.rowcount == 1

    def schedule_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        with self._pool.connection() as conn:
            _schedule(conn, PlannedJob(key=key, kind=kind, run_at=run_at, payload=payload), self._clock())

    def cancel_job(self, key: str) -> bool:
        with self._pool.connection() as conn:
            return _drop_job(conn, key, self._clock())

    def claim_jobs(self, *, lease: timedelta = timedelta(minutes=2), limit: int = 50) -> list[Job]:
        now = self._clock()
        with self._pool.connection() as conn:
            rows = conn.execute(
                "UPDATE jobs SET lease_until = %s, attempts = attempts + 1"
                " WHERE key IN (SELECT key FROM jobs WHERE done_at IS NULL AND run_at <= %s"
                "  AND lease_until <= %s ORDER BY run_at LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING key, kind, run_at, payload, attempts",
                [now + lease, now, now, limit],
            ).fetchall()
        jobs = [
            Job(key, kind, run_at, json.loads(payload), attempts)
            for key, kind, run_at, payload, attempts in rows
        ]
        return sorted(jobs, key=lambda job: job.run_at)

    def finish_job(self, key: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("UPDATE jobs SET done_at = %s WHERE key = %s", [self._clock(), key])

    def retry_job(self, key: str, at: datetime) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE jobs SET lease_until = %s WHERE key = %s AND done_at IS NULL", [_aware(at), key]
            )

    def get_job(self, key: str) -> Job | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT key, kind, run_at, payload, attempts FROM jobs WHERE key = %s AND done_at IS NULL",
                [key],
            ).fetchone()
        return Job(row[0], row[1], row[2], json.loads(row[3]), row[4]) if row else None

    def prune_jobs(self, *, older_than: timedelta = timedelta(days=30)) -> int:
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM jobs WHERE done_at < %s", [self._clock() - older_than]).rowcount

    def count_jobs(self, kind: str | None = None) -> int:
        sql, params = "SELECT count(*) FROM jobs WHERE done_at IS NULL", []
        if kind is not None:
            sql, params = sql + " AND kind = %s", [kind]
        with self._pool.connection() as conn:
            row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    # -- deliveries ----------------------------------------------------------------------------------------

    def record_delivery(self, channel: str, message_sid: str, *, job_key: str | None, chat_id: str) -> None:
        at = self._clock()
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO deliveries (channel, message_sid, job_key, chat_id, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [channel, message_sid, job_key, chat_id, at, at],
            )

    def mark_delivery(
        self, channel: str, message_sid: str, status: str, *, error_code: str | None = None
    ) -> str | None:
        with self._pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT job_key FROM deliveries WHERE channel = %s AND message_sid = %s",
                [channel, message_sid],
            ).fetchone()
            if row is None:
                return None
            # The rank test is in the UPDATE: concurrent callbacks of one message are ordered by its lock.
            conn.execute(
                "UPDATE deliveries SET status = %s, error_code = %s, updated_at = %s"
                f" WHERE channel = %s AND message_sid = %s AND {DELIVERY_RANK_SQL} <= %s",
                [status, error_code, self._clock(), channel, message_sid, delivery_rank(status)],
            )
            return str(row[0]) if row[0] is not None else None

    # -- opt-outs ------------------------------------------------------------------------------------------

    def set_opted_out(self, channel: str, address: str, opted_out: bool) -> None:
        with self._pool.connection() as conn:
            if opted_out:
                conn.execute(
                    "INSERT INTO opt_outs (channel, address, opted_out_at) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    [channel, address, self._clock()],
                )
            else:
                conn.execute("DELETE FROM opt_outs WHERE channel = %s AND address = %s", [channel, address])

    def is_opted_out(self, channel: str, address: str) -> bool:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM opt_outs WHERE channel = %s AND address = %s", [channel, address]
            ).fetchone()
        return row is not None

    # -- the number an SMS customer texted -------------------------------------------------------------

    def set_reply_from(self, channel: str, chat_id: str, address: str) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO reply_from (channel, chat_id, address, updated_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (channel, chat_id) DO UPDATE SET address = excluded.address,"
                " updated_at = excluded.updated_at WHERE reply_from.address <> excluded.address",
                [channel, chat_id, address, self._clock()],
            )

    def reply_from(self, channel: str, chat_id: str) -> str | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT address FROM reply_from WHERE channel = %s AND chat_id = %s", [channel, chat_id]
            ).fetchone()
        return str(row[0]) if row is not None else None


# -- one turn's statements ----------------------------------------------------------------------------------


def _new_pool(
    url: str, options: str, min_size: int, max_size: int, connect_timeout: float, name: str
) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool, not yet open, of autocommit connections (a one-statement call is its own transaction;
    several statements use ``conn.transaction()``), checked before each use."""
    return ConnectionPool(
        _with_options(url, options),
        min_size=min_size,
        max_size=max_size,
        kwargs={"connect_timeout": int(connect_timeout), "autocommit": True},
        check=ConnectionPool.check_connection,
        timeout=connect_timeout,
        open=False,
        name=name,
    )


def _with_options(url: str, options: str) -> str:
    """The URL with server settings added to any ``options`` it has (a ``search_path``, say)."""
    params = conninfo_to_dict(url)
    params["options"] = f"{params.get('options', '')} {options}".strip()
    return make_conninfo("", **params)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment


def _record(
    conn: psycopg.Connection[Any], channel: str, chat_id: str, message_id: str, replies: str, at: datetime
) -> bool:
    cursor = conn.execute(
        "INSERT INTO processed_messages (channel, chat_id, message_id, processed_at, replies)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        [channel, chat_id, message_id, at, replies],
    )
    return cursor.rowcount == 1


def _merge_profile(
    conn: psycopg.Connection[Any], channel: str, chat_id: str, profile: Profile, at: datetime
) -> None:
    values = profile.model_dump()
    if all(values[name] is None for name in PROFILE_FIELDS):
        return
    columns = ", ".join(PROFILE_FIELDS)
    marks = ", ".join("%s" for _ in PROFILE_FIELDS)
    merge = ", ".join(f"{name} = COALESCE(excluded.{name}, profiles.{name})" for name in PROFILE_FIELDS)
    conn.execute(
        f"INSERT INTO profiles (channel, chat_id, {columns}, updated_at) VALUES (%s, %s, {marks}, %s)"
        f" ON CONFLICT (channel, chat_id) DO UPDATE SET {merge}, updated_at = excluded.updated_at",
        [channel, chat_id, *(values[name] for name in PROFILE_FIELDS), at],
    )


def _own(
    conn: psycopg.Connection[Any], channel: str, chat_id: str, booking: OwnedBooking, at: datetime
) -> None:
    # The turn's chat is the owner, whatever the booking says; ownership never moves between chats.
    cursor = conn.execute(
        "INSERT INTO owned_bookings"
        " (tenant, booking_id, channel, chat_id, start, service_name, status, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (tenant, booking_id) DO UPDATE SET start = excluded.start,"
        " service_name = excluded.service_name, status = excluded.status,"
        " updated_at = excluded.updated_at"
        " WHERE owned_bookings.channel = excluded.channel AND owned_bookings.chat_id = excluded.chat_id",
        [
            booking.tenant,
            booking.booking_id,
            channel,
            chat_id,
            _aware(booking.start),
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


def _schedule(conn: psycopg.Connection[Any], job: PlannedJob, now: datetime) -> None:
    conn.execute(
        "INSERT INTO jobs (key, kind, run_at, payload, lease_until, attempts, created_at)"
        " VALUES (%s, %s, %s, %s, %s, 0, %s) ON CONFLICT (key) DO UPDATE SET kind = excluded.kind,"
        " run_at = excluded.run_at, payload = excluded.payload, lease_until = excluded.lease_until,"
        " attempts = 0, done_at = NULL",
        [job.key, job.kind, _aware(job.run_at), json.dumps(job.payload), _aware(job.run_at), _aware(now)],
    )


def _drop_job(conn: psycopg.Connection[Any], key: str, now: datetime) -> bool:
    cursor = conn.execute(
        "UPDATE jobs SET done_at = %s WHERE key = %s AND done_at IS NULL", [_aware(now), key]
    )
    return cursor.rowcount == 1
