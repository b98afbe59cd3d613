"""The PostgreSQL store: several ``cadence-bot serve`` processes, on one machine or many, on one database.

Chosen by ``BOT_DATABASE=postgresql://user:password@host/db`` (see :func:`bot.store.open_store`). The
queries are :class:`bot.store.sql.SQLStore`'s, shared with SQLite; this module is how PostgreSQL is
connected to, locked and written. The store tests run against both.

What makes several processes safe:

- **Turn order.** :meth:`PostgresStore.turn_lock` takes a session advisory lock named after the
  conversation and holds it for the whole turn (load, the dialog's Cadence calls, commit), so two processes
  never run turns of one chat at once, and the second sees the first's commit (and its processed message)
  before it starts. A process that dies mid-turn drops its connection and the server releases the lock.
- **Once per message.** ``processed_messages``' unique key: a turn whose message is already there changes
  nothing, as in SQLite.
- **Queues.** Inbox messages and jobs are claimed with ``FOR UPDATE SKIP LOCKED`` plus a lease, so two
  processes never get the same row, and a claimer that died hands its rows on when the lease runs out.

Connections: two pools. Short calls (one transaction each) share ``pool_size`` connections; turn locks have
their own ``turn_slots`` connections, held for a turn, so turns waiting on a lock can never starve the calls
that would let the holder finish. At most ``turn_slots`` turns hold or wait for a lock at once; more wait on
the event loop, not in threads (which the short calls need).

Durability: every commit is durable (the server's ``synchronous_commit``), so a durable write asks nothing
more; a write of one statement runs without ``BEGIN``/``COMMIT`` around it (autocommit: two round trips
fewer), a longer one in a transaction.

Schema: :data:`bot.store.migrations.MIGRATIONS`, as on SQLite, applied when a store opens, each under a
transaction-level advisory lock, so processes starting together migrate once. Tables live in the
connection's ``search_path`` (the tests give each test a schema of its own).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

import anyio
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from bot.store.connection import Cursor, Executor
from bot.store.dialect import POSTGRES
from bot.store.migrations import MIGRATIONS, migrate
from bot.store.sql import SQLStore
from bot.types import Clock, system_clock

__all__ = ["MIGRATIONS", "PostgresStore"]


def _turn_key(channel: str, chat_id: str) -> int:
    """The conversation's advisory lock: 64 bits of a hash (a collision only serialises two chats)."""
    digest = hashlib.blake2b(f"turn\x00{channel}\x00{chat_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class _Connection:
    """A pooled connection that takes the shared queries' ``?`` placeholders."""

    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any], /) -> Cursor:
        return self._conn.execute(POSTGRES.sql(sql), params)


class PostgresStore(SQLStore):
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
        super().__init__(POSTGRES, clock)
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
            migrate(self._write, POSTGRES)
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

    @contextmanager
    def _read(self) -> Iterator[Executor]:
        with self._pool.connection() as conn:
            yield _Connection(conn)

    @contextmanager
    def _write(self, *, durable: bool = False, one_statement: bool = False) -> Iterator[Executor]:
        """A transaction on a pooled connection (every commit is durable here). ``one_statement``: the
        block runs one statement, atomic on its own, so no ``BEGIN``/``COMMIT`` round trips."""
        with self._pool.connection() as conn:
            if one_statement:
                yield _Connection(conn)
                return
            with conn.transaction():
                yield _Connection(conn)

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
