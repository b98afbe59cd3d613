"""What the shared queries need of a database connection: one statement at a time, a cursor back. Both
sqlite3 (through sqlite-utils) and psycopg connections have this shape, so neither is named here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["Cursor", "Executor"]


class Cursor(Protocol):
    """What a statement gives back, as sqlite3 and psycopg cursors both have it."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Executor(Protocol):
    """Runs one statement written with ``?`` placeholders: a sqlite-utils ``Database``, or a psycopg
    connection behind :class:`bot.store.postgres.PostgresStore`'s placeholder translation."""

    def execute(self, sql: str, params: Sequence[Any], /) -> Cursor: ...
