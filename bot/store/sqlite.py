"""The SQLite store: every deployment on one machine (the default, ``BOT_DATABASE=cadence-bot.db``).

The queries are :class:`bot.store.sql.SQLStore`'s, shared with PostgreSQL; this module is how SQLite is
connected to, written and made durable. SQLite through sqlite-utils, in WAL mode. One
:meth:`SQLiteStore.commit_turn` is one transaction, so a crash at any point leaves either the old turn or
the new one on disk, never half of one.

Durability: what the bot acknowledges to someone else is on disk (fsync) before the acknowledgement: a
message entering the inbox (Telegram and Twilio get their 200 after it), a Cadence event's job, an opt-out,
a delivery status (Twilio's callback). Everything else (turns, leases, finished messages and jobs) commits
with ``synchronous = NORMAL``: safe from any crash of the process, and after a power cut the WAL keeps a
prefix of the commits, so what can be lost is a suffix of turns whose messages are then still in the
inbox, and are taken again (the same booking, by its idempotency key; replies at least once). That saves
an fsync per turn: on this kind of disk 0.2 ms typically and 5-10 ms at the 99th percentile
(docs/benchmarks.md). The queries ask for durability (``_write(durable=True)``); this module grants it.

Threads: the store owns ONE connection, opened with ``check_same_thread=False`` and used only under a
``threading.Lock``, so the engine may call it from worker threads (``anyio.to_thread``) and the event loop
never waits on SQLite. One connection (rather than one per call) is what makes ``":memory:"`` work and
keeps a call cheap; calls in one process are serialised by the lock, which costs little because each is a
few index lookups. Other processes on the same file are serialised by SQLite itself: writes take the write
lock up front (``BEGIN IMMEDIATE``) and wait up to ``busy_timeout`` for it, which is also why queue claims
need no row locks here. Their turns are de-duplicated (the processed_messages key) but not ordered per
conversation: :meth:`SQLiteStore.turn_lock` is a no-op, so one machine runs one ``serve`` process; several
processes need PostgreSQL's advisory locks.

Schema: :data:`bot.store.migrations.MIGRATIONS`, applied when a store opens, as on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Final

from sqlite_utils import Database

from bot.store.connection import Executor
from bot.store.dialect import SQLITE
from bot.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from bot.store.sql import SQLStore
from bot.types import Clock, system_clock

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore"]

MIN_SQLITE: Final = (3, 35)
"""``RETURNING`` (queue claims in one statement) arrived in SQLite 3.35 (2021)."""


class SQLiteStore(SQLStore):
    """Conversation storage on one SQLite file (or ``":memory:"``); thread-safe, see the module notes."""

    def __init__(self, path: str | Path, *, clock: Clock = system_clock, busy_timeout: float = 5.0) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old: the store needs 3.35 or later")
        super().__init__(SQLITE, clock)
        self._lock = threading.Lock()
        conn = sqlite3.connect(str(path), timeout=busy_timeout, check_same_thread=False, isolation_level=None)
        try:
            self._db = Database(conn, recursive_triggers=False, execute_plugins=False)
            self._reads = _Locked(self._lock, self._db)
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if str(path) != ":memory:":
                self._db.enable_wal()
            self._db.execute("PRAGMA synchronous = NORMAL")  # see the module notes: durable writes ask
            migrate(self._write, SQLITE)
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

    def _read(self) -> AbstractContextManager[Executor]:
        return self._reads

    @contextmanager
    def _write(self, *, durable: bool = False, one_statement: bool = False) -> Iterator[Executor]:
        """One write transaction, holding SQLite's write lock from the start; rolled back on any error.

        ``durable``: on disk when this returns, and with it every commit before it (one WAL, in order).
        A single statement is a transaction too: ``BEGIN IMMEDIATE`` waits for the write lock up to
        ``busy_timeout`` rather than failing at once when another process holds it."""
        with self._lock:
            if durable:
                self._db.execute("PRAGMA synchronous = FULL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.rollback()  # also when COMMIT itself fails (busy, I/O): never leave one open
                    raise
            finally:
                if durable:
                    self._db.execute("PRAGMA synchronous = NORMAL")


class _Locked(AbstractContextManager[Executor]):
    """The connection under the store's lock, for reads: a plain object rather than a generator-based
    context manager, because a read is a few microseconds and the generator machinery would add one more."""

    __slots__ = ("_db", "_lock")

    def __init__(self, lock: threading.Lock, db: Database) -> None:
        self._lock, self._db = lock, db

    def __enter__(self) -> Executor:
        self._lock.acquire()
        return self._db

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
