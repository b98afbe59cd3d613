"""What differs between the SQL the two stores speak, and nothing else.

Every query of :mod:`bot.store.sql` is written once, in the SQL both databases accept, with ``?``
placeholders and a few named holes filled from a :class:`Dialect`:

- placeholders: ``?`` for sqlite3, ``%s`` for psycopg (:meth:`Dialect.sql` translates, once per query text);
- timestamps: SQLite keeps them as fixed-width UTC ISO text (text order is time order), PostgreSQL as
  ``timestamptz``; :attr:`Dialect.to_db` and :attr:`Dialect.from_db` convert;
- row locks: PostgreSQL claims queue rows ``FOR UPDATE SKIP LOCKED``, so processes never take the same one;
  SQLite has one writer at a time (every write transaction is ``BEGIN IMMEDIATE``), so it needs none;
- migrations: the column type names that differ (``{timestamp}`` in the migration text), and what keeps
  processes that start together from migrating at once (PostgreSQL's advisory lock; SQLite's write lock).

How connections, transactions, durable writes and the turn lock work is the store's own business
(:mod:`bot.store.sqlite`, :mod:`bot.store.postgres`): those are I/O, this module is text and values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bot.store.records import aware, timestamp

__all__ = ["POSTGRES", "SQLITE", "Dialect"]


@dataclass(frozen=True)
class Dialect:
    name: str
    """The key of this dialect's own steps in :data:`bot.store.migrations.MIGRATIONS`."""
    placeholder: str
    to_db: Callable[[datetime], Any]
    """A timezone-aware moment as a query parameter; raises ValueError for a naive one."""
    from_db: Callable[[Any], datetime]
    """A timestamp column's value as a timezone-aware moment."""
    skip_locked: str
    """Appended to the subquery choosing queue rows to claim: rows another process holds are passed over."""
    for_update: str
    """Appended to a read whose row the same transaction then rewrites (an owned booking's events)."""
    types: Mapping[str, str]
    """Type names the migrations' text leaves open, by name (``{timestamp}``)."""
    migration_lock: str | None
    """A statement taken first in every migration transaction, so processes starting together migrate
    one after the other (None: opening the transaction already excludes other writers)."""
    _translated: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def sql(self, text: str) -> str:
        """``text`` with this dialect's placeholders. Translated once per query text: the queries are
        constants, so the cache is as small as the store's set of queries."""
        if self.placeholder == "?":
            return text
        translated = self._translated.get(text)
        if translated is None:
            translated = self._translated[text] = text.replace("?", self.placeholder)
        return translated

    def ddl(self, text: str) -> str:
        """A migration statement with this dialect's type names."""
        return text.format_map(self.types)


def _identity(value: Any) -> datetime:
    # psycopg reads timestamptz as an aware datetime already (the sessions run in UTC).
    assert isinstance(value, datetime)
    return value


_MIGRATION_LOCK: Final = int.from_bytes(
    hashlib.blake2b(b"cadence-bot:migrate", digest_size=8).digest(), "big", signed=True
)

SQLITE: Final = Dialect(
    name="sqlite",
    placeholder="?",
    to_db=timestamp,
    from_db=datetime.fromisoformat,
    skip_locked="",
    for_update="",
    types={"timestamp": "TEXT"},
    migration_lock=None,
)

POSTGRES: Final = Dialect(
    name="postgresql",
    placeholder="%s",
    to_db=aware,
    from_db=_identity,
    skip_locked=" FOR UPDATE SKIP LOCKED",
    for_update=" FOR UPDATE",
    types={"timestamp": "timestamptz"},
    migration_lock=f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})",
)
