"""Every query of the store, written once: :class:`SQLStore`, the :class:`bot.store.Store` interface in SQL
that SQLite and PostgreSQL both accept.

What differs between the two is in a :class:`~bot.store.dialect.Dialect` (placeholders, timestamps,
``SKIP LOCKED``). How a connection is had, a transaction opened and a write made durable is each store's
own (:class:`~bot.store.sqlite.SQLiteStore`, :class:`~bot.store.postgres.PostgresStore`): a subclass
gives :meth:`SQLStore._read` and :meth:`SQLStore._write`, and the turn lock.

Queues are claimed in one statement, ``UPDATE ... WHERE key IN (SELECT ... LIMIT n <skip locked>)
RETURNING ...``: on PostgreSQL the subquery's row locks keep two processes off one row; on SQLite the
write transaction (``BEGIN IMMEDIATE``) already excludes every other writer. Rows come back in no order,
so they are sorted here.

Personal data: states and profiles are stored as given and never logged here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final

from bot.store.connection import Executor
from bot.store.dialect import Dialect
from bot.store.migrations import read_version
from bot.store.records import (
    ACTIVE,
    CANCELLED,
    DELIVERY_RANK_SQL,
    PROFILE_FIELDS,
    EventState,
    Job,
    StoredConversation,
    aware,
    delivery_rank,
    dump_replies,
    load_replies,
)
from bot.types import Clock, Inbound, Outcome, OwnedBooking, PlannedJob, Profile, Reply

__all__ = ["SQLStore"]

log = logging.getLogger(__name__)

_RENEW_CHUNK: Final = 500
"""Ids per statement when renewing leases (SQLite allows 32,766 parameters, older builds 999)."""


class SQLStore:
    """The queries of :class:`bot.store.Store`, over a subclass's connections. Thread-safe when the
    subclass's :meth:`_read` and :meth:`_write` are."""

    def __init__(self, dialect: Dialect, clock: Clock) -> None:
        self._dialect = dialect
        self._clock = clock

    # -- what a subclass provides ----------------------------------------------------------------------

    def _read(self) -> AbstractContextManager[Executor]:
        """A connection for reads (one consistent statement each)."""
        raise NotImplementedError

    def _write(
        self, *, durable: bool = False, one_statement: bool = False
    ) -> AbstractContextManager[Executor]:
        """One write transaction, committed when the block ends, rolled back on any error. ``durable``:
        on disk when the block ends, for what the bot acknowledges to someone else (see the stores'
        notes: SQLite makes only those fsync). ``one_statement``: the block runs a single statement, so a
        store may skip the transaction around it (PostgreSQL's autocommit)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @asynccontextmanager
    async def turn_lock(self, channel: str, chat_id: str) -> AsyncIterator[None]:
        """Nothing to take by default: in one process the engine's own per-chat lock orders turns."""
        yield

    # -- the schema ------------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        with self._read() as db:
            return read_version(db)

    def check_writable(self) -> None:
        """Prove the database takes a durable write: rewrite one row of ``health``. Raises what the driver
        raises when it can't (``sqlite3.OperationalError`` for a full disk, ``psycopg.Error``)."""
        with self._write(durable=True, one_statement=True) as db:
            db.execute(
                "INSERT INTO health (name, checked_at) VALUES ('writable', ?)"
                " ON CONFLICT (name) DO UPDATE SET checked_at = excluded.checked_at",
                [self._dialect.to_db(self._clock())],
            )

    # -- reads -----------------------------------------------------------------------------------------

    def load(self, channel: str, chat_id: str) -> StoredConversation:
        """The chat's state and profile, read in one statement (one consistent snapshot)."""
        profile_columns = ", ".join(f"p.{name}" for name in PROFILE_FIELDS)
        sql = (
            f"SELECT c.state, c.updated_at, {profile_columns}"
            " FROM (SELECT CAST(? AS TEXT) AS channel, CAST(? AS TEXT) AS chat_id) AS k"
            " LEFT JOIN conversations AS c ON c.channel = k.channel AND c.chat_id = k.chat_id"
            " LEFT JOIN profiles AS p ON p.channel = k.channel AND p.chat_id = k.chat_id"
        )
        with self._read() as db:
            row = db.execute(sql, [channel, chat_id]).fetchone()
        state, updated_at, *profile = row  # the one-row key table always yields a row
        return StoredConversation(
            state=json.loads(state) if state is not None else None,
            updated_at=self._dialect.from_db(updated_at) if updated_at is not None else None,
            profile=Profile.model_validate(dict(zip(PROFILE_FIELDS, profile, strict=True))),
        )

    def is_processed(self, channel: str, chat_id: str, message_id: str) -> bool:
        return self.processed_replies(channel, chat_id, message_id) is not None

    def processed_replies(self, channel: str, chat_id: str, message_id: str) -> tuple[Reply, ...] | None:
        """What the bot answered to this message, or None if it has not been processed."""
        with self._read() as db:
            row = db.execute(
                "SELECT replies FROM processed_messages WHERE channel = ? AND chat_id = ? AND message_id = ?",
                [channel, chat_id, message_id],
            ).fetchone()
        return load_replies(row[0]) if row is not None else None

    def superseded(self, channel: str, chat_id: str, message_id: str) -> bool:
        """True when a message of this chat was processed after this one, by the store's own sequence
        (``processed_at`` comes from the caller's clock and may go backwards). Turns of one chat are
        serialised by its turn lock, so sequence order is commit order within a chat."""
        with self._read() as db:
            row = db.execute(
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
        with self._read() as db:
            rows = db.execute(sql, params).fetchall()
        return [
            OwnedBooking(
                tenant=tenant_,
                booking_id=booking_id,
                channel=channel_,
                chat_id=chat_id_,
                start=self._dialect.from_db(start),
                service_name=service_name,
            )
            for tenant_, booking_id, channel_, chat_id_, start, service_name in rows
        ]

    def booking_owner(self, tenant: str, booking_id: str) -> tuple[str, str] | None:
        """``(channel, chat_id)`` of the chat that made the booking, cancelled or not; None if not ours."""
        with self._read() as db:
            row = db.execute(
                "SELECT channel, chat_id FROM owned_bookings WHERE tenant = ? AND booking_id = ?",
                [tenant, booking_id],
            ).fetchone()
        return (row[0], row[1]) if row is not None else None

    # -- turns -----------------------------------------------------------------------------------------

    def commit_turn(
        self, channel: str, chat_id: str, message_id: str, outcome: Outcome, *, now: datetime | None = None
    ) -> bool:
        """Record one turn atomically: state, processed message with its replies, profile, ownership.

        Returns False, changing nothing, if ``message_id`` was already processed for this chat (the unique
        key on processed_messages decides, so concurrent writers in other processes are covered too).
        The profile is merged: a None field keeps the stored value. Owned bookings are upserted, but a
        booking already owned by another chat keeps its owner. Released ids are marked cancelled, for this
        chat's bookings only. Planned jobs are scheduled, dropped ones marked done.
        """
        to_db = self._dialect.to_db
        at = to_db(now or self._clock())
        state = json.dumps(outcome.state, ensure_ascii=False)  # fails before anything is written
        replies = dump_replies(outcome.replies)
        with self._write() as db:
            if not _record(db, channel, chat_id, message_id, replies, at):
                return False  # nothing was written: the transaction commits nothing
            db.execute(
                "INSERT INTO conversations (channel, chat_id, state, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, chat_id) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                [channel, chat_id, state, at],
            )
            _merge_profile(db, channel, chat_id, outcome.profile, at)
            for booking in outcome.owned:
                _own(db, channel, chat_id, booking, at, to_db(booking.start))
            for booking_id in outcome.released:
                db.execute(
                    "UPDATE owned_bookings SET status = ?, updated_at = ?"
                    " WHERE booking_id = ? AND channel = ? AND chat_id = ?",
                    [CANCELLED, at, booking_id, channel, chat_id],
                )
            for key in outcome.dropped_jobs:
                _drop_job(db, key, at)
            for job in outcome.jobs:
                self._schedule(db, job, at)
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
        at = self._dialect.to_db(now or self._clock())
        dumped = dump_replies(replies)
        with self._write(one_statement=True) as db:
            return _record(db, channel, chat_id, message_id, dumped, at)

    def prune_processed(self, *, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget processed messages older than ``older_than`` (platforms redeliver within hours, not
        days), and delivery records not updated for as long (status callbacks come within hours);
        returns how many processed messages were removed. Keeps both tables bounded."""
        cutoff = self._dialect.to_db(self._clock() - older_than)
        with self._write() as db:
            db.execute("DELETE FROM deliveries WHERE updated_at < ?", [cutoff])
            return db.execute("DELETE FROM processed_messages WHERE processed_at < ?", [cutoff]).rowcount

    # -- bookings changed outside the chat -------------------------------------------------------------

    def update_owned(
        self, tenant: str, booking_id: str, *, start: datetime | None = None, cancelled: bool = False
    ) -> bool:
        """Follow a change made outside the chat (the business moved or cancelled it in Cadence)."""
        to_db = self._dialect.to_db
        at = to_db(self._clock())
        if cancelled:
            sql, params = "UPDATE owned_bookings SET status = ?, updated_at = ?", [CANCELLED, at]
        elif start is not None:
            sql = "UPDATE owned_bookings SET start = ?, status = ?, updated_at = ?"
            params = [to_db(start), ACTIVE, at]
        else:
            return False
        with self._write(one_statement=True) as db:
            cursor = db.execute(f"{sql} WHERE tenant = ? AND booking_id = ?", [*params, tenant, booking_id])
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
        d = self._dialect
        with self._write() as db:
            row = db.execute(
                "SELECT start, status, event_at FROM owned_bookings WHERE tenant = ? AND booking_id = ?"
                + d.for_update,  # two processes applying two events of one booking: one after the other
                [tenant, booking_id],
            ).fetchone()
            if row is None:
                return False
            before = EventState(d.from_db(row[0]), row[1], d.from_db(row[2]) if row[2] is not None else None)
            after = before.apply(
                aware(at) if at else None, start=aware(start) if start else None, cancelled=cancelled
            )
            if after is None:
                return False
            db.execute(
                "UPDATE owned_bookings SET start = ?, status = ?, event_at = ?, updated_at = ?"
                " WHERE tenant = ? AND booking_id = ?",
                [
                    d.to_db(after.start),
                    after.status,
                    d.to_db(after.event_at) if after.event_at else None,
                    d.to_db(self._clock()),
                    tenant,
                    booking_id,
                ],
            )
            return after.changed_from(before)

    # -- inbox: inbound accepted before it is answered -------------------------------------------------

    def enqueue_inbound(
        self, inbound: Inbound, *, lease: timedelta = timedelta(minutes=1), holder: str = ""
    ) -> bool:
        """Keep ``inbound`` until :meth:`finish_inbound`; False if it is already queued or processed.
        Durable: the platform is told it arrived once this returns.

        The caller (``holder``) holds it for ``lease`` (it is about to process it); after that,
        :meth:`claim_inbound` hands it to whoever asks, which is how a message accepted just before a
        crash is still answered.
        """
        now = self._clock()
        to_db = self._dialect.to_db
        with self._write(durable=True, one_statement=True) as db:
            cursor = db.execute(
                "INSERT INTO inbox"
                " (channel, message_id, chat_id, inbound, received_at, lease_until, attempts, holder)"
                " SELECT ?, ?, ?, ?, ?, ?, 1, ? WHERE NOT EXISTS (SELECT 1 FROM processed_messages"
                "  WHERE channel = ? AND chat_id = ? AND message_id = ?)"
                " ON CONFLICT DO NOTHING",
                [
                    inbound.channel,
                    inbound.message_id,
                    inbound.chat_id,
                    inbound.model_dump_json(),
                    to_db(now),
                    to_db(now + lease),
                    holder,
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
        holder: str = "",
    ) -> list[Inbound]:
        """Inbound messages nobody is processing (their lease ran out), oldest first, now leased to
        ``holder``; with ``channel``, only that channel's (each channel resumes its own). With
        ``max_attempts``, a message already handed out that many times is left for :meth:`dead_inbound`."""
        now = self._clock()
        to_db = self._dialect.to_db
        where = "lease_until <= ?"
        params: list[Any] = [to_db(now)]
        if channel is not None:
            where += " AND channel = ?"
            params.append(channel)
        if max_attempts is not None:
            where += " AND attempts < ?"
            params.append(max_attempts)
        with self._write(one_statement=True) as db:
            rows = db.execute(
                "UPDATE inbox SET lease_until = ?, attempts = attempts + 1, holder = ?"
                " WHERE (channel, message_id) IN (SELECT channel, message_id FROM inbox"
                f"  WHERE {where} ORDER BY received_at LIMIT ?{self._dialect.skip_locked})"
                " RETURNING received_at, inbound",
                [to_db(now + lease), holder, *params, limit],
            ).fetchall()
        return [Inbound.model_validate_json(inbound) for _, inbound in sorted(rows, key=lambda row: row[0])]

    def renew_inbound(
        self, channel: str, message_ids: Sequence[str], *, lease: timedelta, holder: str = ""
    ) -> None:
        """Extend our lease on messages still being processed (any number: a long backlog is renewed in
        statements of at most :data:`_RENEW_CHUNK` ids, under SQLite's limit on parameters). With
        ``holder``, only the leases it holds: a message another process claimed once ours ran out (our
        renewals were late) stays theirs."""
        if not message_ids:
            return
        until = self._dialect.to_db(self._clock() + lease)
        mine = " AND holder = ?" if holder else ""
        with self._write() as db:
            for start in range(0, len(message_ids), _RENEW_CHUNK):
                chunk = message_ids[start : start + _RENEW_CHUNK]
                marks = ", ".join("?" * len(chunk))
                db.execute(
                    f"UPDATE inbox SET lease_until = ? WHERE channel = ? AND message_id IN ({marks}){mine}",
                    [until, channel, *chunk, *([holder] if holder else [])],
                )

    def finish_inbound(self, channel: str, message_id: str) -> None:
        """The message is answered: forget it."""
        with self._write(one_statement=True) as db:
            db.execute("DELETE FROM inbox WHERE channel = ? AND message_id = ?", [channel, message_id])

    def dead_inbound(self, *, channel: str, max_attempts: int) -> list[Inbound]:
        """Dead letters: ``channel``'s messages handed out ``max_attempts`` times (``attempts`` counts the
        enqueue and every claim) whose last lease ran out too, so each attempt crashed or hung. They leave
        the inbox and are recorded as processed with no replies, so a redelivery is not run again; the
        caller apologises and counts them. A message whose turn did commit is only removed, not returned.
        Call it before ``claim_inbound(max_attempts=...)``, which then never hands these out again. Rows
        a claimer holds are passed over (they are being tried again)."""
        now = self._dialect.to_db(self._clock())
        with self._write() as db:
            rows = db.execute(
                "DELETE FROM inbox WHERE (channel, message_id) IN (SELECT channel, message_id FROM inbox"
                f"  WHERE channel = ? AND lease_until <= ? AND attempts >= ?{self._dialect.skip_locked})"
                " RETURNING received_at, message_id, chat_id, inbound",
                [channel, now, max_attempts],
            ).fetchall()
            dead: list[Inbound] = []
            for _, message_id, chat_id, inbound in sorted(rows, key=lambda row: row[0]):
                if _record(db, channel, chat_id, message_id, "[]", now):
                    dead.append(Inbound.model_validate_json(inbound))
        return dead

    # -- jobs ------------------------------------------------------------------------------------------

    def add_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> bool:
        """Add a job unless one with ``key`` was ever added (a replayed event); True when added. Durable:
        Cadence is told its event arrived once this returns."""
        to_db = self._dialect.to_db
        with self._write(durable=True, one_statement=True) as db:
            cursor = db.execute(
                "INSERT INTO jobs (key, kind, run_at, payload, lease_until, attempts, created_at)"
                " VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING",
                [key, kind, to_db(run_at), json.dumps(payload), to_db(run_at), to_db(self._clock())],
            )
            return cursor.rowcount == 1

    def schedule_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        """Add or move a job (a rescheduled booking moves its reminder); it becomes pending again."""
        now = self._dialect.to_db(self._clock())
        with self._write(one_statement=True) as db:
            self._schedule(db, PlannedJob(key=key, kind=kind, run_at=run_at, payload=payload), now)

    def cancel_job(self, key: str) -> bool:
        """Drop a pending job (a cancelled booking's reminder); True when there was one."""
        now = self._dialect.to_db(self._clock())
        with self._write(one_statement=True) as db:
            return _drop_job(db, key, now)

    def claim_jobs(self, *, lease: timedelta = timedelta(minutes=2), limit: int = 50) -> list[Job]:
        """Due jobs nobody holds, leased to the caller: two processes never get the same job at once."""
        now = self._clock()
        d = self._dialect
        with self._write(one_statement=True) as db:
            rows = db.execute(
                "UPDATE jobs SET lease_until = ?, attempts = attempts + 1"
                " WHERE key IN (SELECT key FROM jobs WHERE done_at IS NULL AND run_at <= ?"
                f"  AND lease_until <= ? ORDER BY run_at LIMIT ?{d.skip_locked})"
                " RETURNING key, kind, run_at, payload, attempts",
                [d.to_db(now + lease), d.to_db(now), d.to_db(now), limit],
            ).fetchall()
        jobs = [
            Job(key, kind, d.from_db(run_at), json.loads(payload), attempts)
            for key, kind, run_at, payload, attempts in rows
        ]
        return sorted(jobs, key=lambda job: job.run_at)

    def finish_job(self, key: str) -> None:
        now = self._dialect.to_db(self._clock())
        with self._write(one_statement=True) as db:
            db.execute("UPDATE jobs SET done_at = ? WHERE key = ?", [now, key])

    def retry_job(self, key: str, at: datetime) -> None:
        """Try a failed job again at ``at`` (backoff is the caller's choice)."""
        when = self._dialect.to_db(at)
        with self._write(one_statement=True) as db:
            db.execute("UPDATE jobs SET lease_until = ? WHERE key = ? AND done_at IS NULL", [when, key])

    def get_job(self, key: str) -> Job | None:
        with self._read() as db:
            row = db.execute(
                "SELECT key, kind, run_at, payload, attempts FROM jobs WHERE key = ? AND done_at IS NULL",
                [key],
            ).fetchone()
        if row is None:
            return None
        return Job(row[0], row[1], self._dialect.from_db(row[2]), json.loads(row[3]), row[4])

    def prune_jobs(self, *, older_than: timedelta = timedelta(days=30)) -> int:
        """Forget jobs done more than ``older_than`` ago. Done jobs are kept that long because their keys
        de-duplicate Cadence's webhook events, which it retries for days, not weeks."""
        cutoff = self._dialect.to_db(self._clock() - older_than)
        with self._write(one_statement=True) as db:
            return db.execute("DELETE FROM jobs WHERE done_at < ?", [cutoff]).rowcount

    def count_jobs(self, kind: str | None = None) -> int:
        """Jobs not done yet (due or not), of ``kind`` if given: the worker's backlog."""
        sql, params = "SELECT count(*) FROM jobs WHERE done_at IS NULL", []
        if kind is not None:
            sql, params = sql + " AND kind = ?", [kind]
        with self._read() as db:
            return int(db.execute(sql, params).fetchone()[0])

    def _schedule(self, db: Executor, job: PlannedJob, now: Any) -> None:
        run_at = self._dialect.to_db(job.run_at)
        db.execute(
            "INSERT INTO jobs (key, kind, run_at, payload, lease_until, attempts, created_at)"
            " VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (key) DO UPDATE SET kind = excluded.kind,"
            " run_at = excluded.run_at, payload = excluded.payload, lease_until = excluded.lease_until,"
            " attempts = 0, done_at = NULL",
            [job.key, job.kind, run_at, json.dumps(job.payload), run_at, now],
        )

    # -- deliveries ------------------------------------------------------------------------------------

    def record_delivery(self, channel: str, message_sid: str, *, job_key: str | None, chat_id: str) -> None:
        """Remember which job a sent message belongs to. Not durable on its own: nothing is acknowledged
        on it, and a power cut loses at most the job of a later callback."""
        at = self._dialect.to_db(self._clock())
        with self._write(one_statement=True) as db:
            db.execute(
                "INSERT INTO deliveries (channel, message_sid, job_key, chat_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [channel, message_sid, job_key, chat_id, at, at],
            )

    def mark_delivery(
        self, channel: str, message_sid: str, status: str, *, error_code: str | None = None
    ) -> str | None:
        """Store the latest status of a recorded message, durably (the platform's callback is answered
        next); returns its job key. See :meth:`bot.store.Store.mark_delivery`."""
        at = self._dialect.to_db(self._clock())
        with self._write(durable=True) as db:
            row = db.execute(
                "SELECT job_key FROM deliveries WHERE channel = ? AND message_sid = ?", [channel, message_sid]
            ).fetchone()
            if row is None:
                return None
            # The rank test is in the UPDATE: concurrent callbacks of one message take its row in turn.
            db.execute(
                "UPDATE deliveries SET status = ?, error_code = ?, updated_at = ?"
                f" WHERE channel = ? AND message_sid = ? AND {DELIVERY_RANK_SQL} <= ?",
                [status, error_code, at, channel, message_sid, delivery_rank(status)],
            )
            return str(row[0]) if row[0] is not None else None

    # -- opt-outs --------------------------------------------------------------------------------------

    def set_opted_out(self, channel: str, address: str, opted_out: bool) -> None:
        """Record a STOP (or a START undoing it) for an address such as a phone number. Durable: the
        customer is told it is done."""
        at = self._dialect.to_db(self._clock())
        with self._write(durable=True, one_statement=True) as db:
            if opted_out:
                db.execute(
                    "INSERT INTO opt_outs (channel, address, opted_out_at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [channel, address, at],
                )
            else:
                db.execute("DELETE FROM opt_outs WHERE channel = ? AND address = ?", [channel, address])

    def is_opted_out(self, channel: str, address: str) -> bool:
        with self._read() as db:
            row = db.execute(
                "SELECT 1 FROM opt_outs WHERE channel = ? AND address = ?", [channel, address]
            ).fetchone()
        return row is not None

    # -- the number an SMS customer texted -------------------------------------------------------------

    def set_reply_from(self, channel: str, chat_id: str, address: str) -> None:
        """Remember the business address (the Twilio number) this chat last wrote to, so any process,
        after any restart, answers from it. Durable, and written only when it changes (rarely: a
        customer keeps texting one number), so a same-number message costs one read."""
        if self.reply_from(channel, chat_id) == address:
            return
        at = self._dialect.to_db(self._clock())
        with self._write(durable=True, one_statement=True) as db:
            db.execute(
                "INSERT INTO reply_from (channel, chat_id, address, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, chat_id) DO UPDATE SET address = excluded.address,"
                " updated_at = excluded.updated_at WHERE reply_from.address <> excluded.address",
                [channel, chat_id, address, at],
            )

    def reply_from(self, channel: str, chat_id: str) -> str | None:
        """The address set by :meth:`set_reply_from`, or None if this chat never wrote to one."""
        with self._read() as db:
            row = db.execute(
                "SELECT address FROM reply_from WHERE channel = ? AND chat_id = ?", [channel, chat_id]
            ).fetchone()
        return str(row[0]) if row is not None else None


# -- one turn's statements ----------------------------------------------------------------------------


def _record(db: Executor, channel: str, chat_id: str, message_id: str, replies: str, at: Any) -> bool:
    cursor = db.execute(
        "INSERT INTO processed_messages (channel, chat_id, message_id, processed_at, replies)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [channel, chat_id, message_id, at, replies],
    )
    return cursor.rowcount == 1


def _merge_profile(db: Executor, channel: str, chat_id: str, profile: Profile, at: Any) -> None:
    values = profile.model_dump()
    if all(values[name] is None for name in PROFILE_FIELDS):
        return
    db.execute(_MERGE_PROFILE, [channel, chat_id, *(values[name] for name in PROFILE_FIELDS), at])


_MERGE_PROFILE: Final = (
    f"INSERT INTO profiles (channel, chat_id, {', '.join(PROFILE_FIELDS)}, updated_at)"
    f" VALUES (?, ?, {', '.join('?' for _ in PROFILE_FIELDS)}, ?)"
    " ON CONFLICT (channel, chat_id) DO UPDATE SET "
    + ", ".join(f"{name} = COALESCE(excluded.{name}, profiles.{name})" for name in PROFILE_FIELDS)
    + ", updated_at = excluded.updated_at"
)
"""The profile is merged: a None field keeps the stored value."""


def _own(db: Executor, channel: str, chat_id: str, booking: OwnedBooking, at: Any, start: Any) -> None:
    # The turn's chat is the owner, whatever the booking says; ownership never moves between chats.
    cursor = db.execute(
        "INSERT INTO owned_bookings"
        " (tenant, booking_id, channel, chat_id, start, service_name, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (tenant, booking_id) DO UPDATE SET start = excluded.start,"
        " service_name = excluded.service_name, status = excluded.status,"
        " updated_at = excluded.updated_at"
        " WHERE owned_bookings.channel = excluded.channel AND owned_bookings.chat_id = excluded.chat_id",
        [booking.tenant, booking.booking_id, channel, chat_id, start, booking.service_name, ACTIVE, at, at],
    )
    if cursor.rowcount != 1:
        log.warning(
            "booking %s/%s is owned by another chat; ownership kept", booking.tenant, booking.booking_id
        )


def _drop_job(db: Executor, key: str, now: Any) -> bool:
    cursor = db.execute("UPDATE jobs SET done_at = ? WHERE key = ? AND done_at IS NULL", [now, key])
    return cursor.rowcount == 1
