"""Where conversations live: state, de-duplication, profiles, booking ownership, inbox, jobs, opt-outs.

:class:`Store` is the interface the engine, the channels and the worker use. Two implementations:
:class:`~bot.store.sqlite.SQLiteStore` for one machine (a file, the default) and
:class:`~bot.store.postgres.PostgresStore` for several ``serve`` processes on one PostgreSQL database.
:func:`open_store` picks one from ``BOT_DATABASE``.

Each query is written once, in :mod:`bot.store.sql` (``SQLStore``, which both stores extend), over a
:mod:`bot.store.dialect` holding what the two databases spell differently; the two modules of the stores
hold only how each connects, opens a transaction, makes a write durable and locks a turn. The schema is
one list of migrations for both (:mod:`bot.store.migrations`); the values stored are in
:mod:`bot.store.records`.

Every method is blocking and thread-safe (callers on the event loop use ``anyio.to_thread``), except
:meth:`Store.turn_lock`, which is async because it is held across a whole turn, network calls included.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.store.records import Job, SchemaError, StoredConversation
from bot.store.sqlite import SQLiteStore
from bot.types import Clock, Inbound, Outcome, OwnedBooking, Reply, system_clock

__all__ = [
    "Job",
    "SQLiteStore",
    "SchemaError",
    "Store",
    "StoredConversation",
    "is_postgres_url",
    "open_store",
]


class Store(Protocol):
    """The operations on conversation storage. Timestamps are timezone-aware; ``now`` defaults to the
    store's clock."""

    def close(self) -> None: ...

    @property
    def schema_version(self) -> int: ...

    def check_writable(self) -> None:
        """Prove the database takes a durable write (``GET /readyz``); raises what the driver raises when
        it can't (``sqlite3.OperationalError`` for a full disk, ``psycopg.Error``)."""
        ...

    def turn_lock(self, channel: str, chat_id: str) -> AbstractAsyncContextManager[None]:
        """Held for a whole turn of one conversation: turns of one chat never overlap, in any process
        sharing this database."""
        ...

    # conversations
    def load(self, channel: str, chat_id: str) -> StoredConversation: ...
    def is_processed(self, channel: str, chat_id: str, message_id: str) -> bool: ...
    def processed_replies(self, channel: str, chat_id: str, message_id: str) -> tuple[Reply, ...] | None: ...
    def superseded(self, channel: str, chat_id: str, message_id: str) -> bool:
        """True when a later message of this chat was processed after this one: its replies are stale.
        "Later" is by a sequence the store assigns when it records a message, never by host clocks."""
        ...

    def commit_turn(
        self, channel: str, chat_id: str, message_id: str, outcome: Outcome, *, now: datetime | None = None
    ) -> bool: ...
    def record_processed(
        self,
        channel: str,
        chat_id: str,
        message_id: str,
        replies: Sequence[Reply],
        *,
        now: datetime | None = None,
    ) -> bool: ...
    def prune_processed(self, *, older_than: timedelta = ...) -> int:
        """Forget processed messages, and delivery records (:meth:`record_delivery`) not updated, older
        than ``older_than``; returns how many processed messages were removed."""
        ...

    # bookings made through the bot
    def owned_bookings(
        self, channel: str, chat_id: str, tenant: str | None = None, *, include_cancelled: bool = False
    ) -> list[OwnedBooking]: ...
    def booking_owner(self, tenant: str, booking_id: str) -> tuple[str, str] | None: ...
    def update_owned(
        self, tenant: str, booking_id: str, *, start: datetime | None = None, cancelled: bool = False
    ) -> bool: ...

    def apply_booking_event(
        self,
        tenant: str,
        booking_id: str,
        at: datetime | None,
        *,
        start: datetime | None = None,
        cancelled: bool = False,
    ) -> bool:
        """Apply a Cadence event about an owned booking (``cancelled``, or moved to ``start``), in one
        transaction, unless it is stale: older by ``at`` (the event's ``created_at``) than the newest one
        applied to this booking; an event without one (None) is not compared and not recorded. A cancel is
        final: no later event revives the booking. True only when the booking changed, so the caller tells
        the customer once; False for a stale event, one that changes nothing, or a booking not owned."""
        ...

    # inbox: inbound accepted before it is answered
    def enqueue_inbound(self, inbound: Inbound, *, lease: timedelta = ..., holder: str = "") -> bool: ...
    def claim_inbound(
        self,
        *,
        channel: str | None = None,
        lease: timedelta = ...,
        limit: int = 100,
        max_attempts: int | None = None,
        holder: str = "",
    ) -> list[Inbound]:
        """Messages whose lease ran out, oldest first, leased to the caller; each claim counts one more
        attempt. With ``max_attempts``, those already tried that often are not handed out: call
        :meth:`dead_inbound` with the same number first, so they are answered as dead letters."""
        ...

    def dead_inbound(self, *, channel: str, max_attempts: int) -> list[Inbound]:
        """Dead letters of ``channel``: messages whose lease ran out after ``max_attempts`` attempts (the
        enqueue counts one, each claim one more). They leave the inbox and are recorded as processed with
        no replies (a redelivery then runs nothing) and are returned oldest first, for the caller to
        apologise to each customer and count them. One whose turn had committed is removed, not returned."""
        ...

    def renew_inbound(
        self, channel: str, message_ids: Sequence[str], *, lease: timedelta, holder: str = ""
    ) -> None:
        """Extend the lease on messages still being processed: a live process keeps what it holds, a
        dead one's messages are free for others (or its successor) after ``lease``. With ``holder``
        (the one given to :meth:`enqueue_inbound` and :meth:`claim_inbound`), only what it holds."""
        ...

    def finish_inbound(self, channel: str, message_id: str) -> None: ...

    # jobs: reminders, notifications, webhook events
    def add_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> bool: ...
    def schedule_job(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None: ...
    def cancel_job(self, key: str) -> bool: ...
    def claim_jobs(self, *, lease: timedelta = ..., limit: int = 50) -> list[Job]: ...
    def finish_job(self, key: str) -> None: ...
    def retry_job(self, key: str, at: datetime) -> None: ...
    def get_job(self, key: str) -> Job | None: ...
    def prune_jobs(self, *, older_than: timedelta = ...) -> int: ...
    def count_jobs(self, kind: str | None = None) -> int: ...

    # deliveries: which job a sent message belongs to, and what the platform last said about it
    def record_delivery(self, channel: str, message_sid: str, *, job_key: str | None, chat_id: str) -> None:
        """Remember that the platform's message ``message_sid`` was sent for ``job_key`` (a reminder, a
        notification, an outbox send; None for a turn's reply) to ``chat_id``. Recording it again changes
        nothing. Kept until :meth:`prune_processed` forgets it."""
        ...

    def mark_delivery(
        self, channel: str, message_sid: str, status: str, *, error_code: str | None = None
    ) -> str | None:
        """Store the platform's latest ``status`` for a recorded message (queued, sent, delivered,
        undelivered, failed) with its ``error_code``, durably (the caller then acknowledges the callback).
        A status earlier in a message's life than the stored one (callbacks arrive out of order) is not
        stored. Returns the message's ``job_key``; None for a message never recorded (nothing is stored)
        or one sent for no job."""
        ...

    # SMS opt-outs
    def set_opted_out(self, channel: str, address: str, opted_out: bool) -> None: ...
    def is_opted_out(self, channel: str, address: str) -> bool: ...

    # SMS: the business number a customer last texted, so every process answers from it
    def set_reply_from(self, channel: str, chat_id: str, address: str) -> None:
        """Durable when it returns (written only when it changed). Call it before enqueueing the message."""
        ...

    def reply_from(self, channel: str, chat_id: str) -> str | None:
        """The last address given to :meth:`set_reply_from` for this chat; None if none."""
        ...


def is_postgres_url(database: str | Path) -> bool:
    return str(database).startswith(("postgresql://", "postgres://"))


def open_store(database: str | Path, *, clock: Clock = system_clock) -> Store:
    """``postgresql://user@host/db`` (or ``postgres://``) opens PostgreSQL; anything else is a SQLite file
    path (``":memory:"`` for a throwaway one)."""
    if is_postgres_url(database):
        from bot.store.postgres import PostgresStore  # psycopg is only loaded when it is used

        return PostgresStore(str(database), clock=clock)
    return SQLiteStore(database, clock=clock)
