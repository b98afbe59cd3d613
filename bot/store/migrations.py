"""The schema, as one ordered list of migrations that both stores apply.

A migration is SQL text: statements both databases run (with the dialect's type names filled in:
``{timestamp}``), and, only where they cannot share one, statements of a single dialect. The schema
version is the number of migrations applied, kept in the one row of ``cadence_bot_version``; opening a
store applies the rest in order, each in its own transaction with its version bump, so a failure leaves
the previous version. Append only: an old migration is never edited, a change is a new one.

Databases written before this list existed are adopted where they stand. A SQLite file kept its version in
``PRAGMA user_version``, with the numbers of this list (its first five entries are those migrations). A
PostgreSQL database kept its own in ``cadence_bot_schema``, whose versions 1, 2 and 3 are this list's 3, 4
and 5; that table is dropped once adopted. The sixth migration brings the two to the same tables,
columns and indexes (their indexes had drifted apart). On SQLite ``user_version`` still follows the version,
so a bot from before this list refuses a file written by a newer one, as it always did.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final

from bot.store.connection import Executor
from bot.store.dialect import Dialect
from bot.store.records import SchemaError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "VERSION_TABLE", "Migration", "migrate"]

VERSION_TABLE: Final = "cadence_bot_version"


@dataclass(frozen=True)
class Migration:
    """One step of the schema: what it is for, and its statements."""

    why: str
    shared: tuple[str, ...] = ()
    """Run by both, with the dialect's type names filled in (:meth:`bot.store.dialect.Dialect.ddl`)."""
    only: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Statements of one dialect (by :attr:`Dialect.name`), run after the shared ones."""

    def statements(self, dialect: Dialect) -> tuple[str, ...]:
        return tuple(dialect.ddl(s) for s in self.shared) + self.only.get(dialect.name, ())


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        "Conversation state, processed inbound messages (with their replies), customer profiles.",
        shared=(
            "CREATE TABLE conversations (channel TEXT NOT NULL, chat_id TEXT NOT NULL, state TEXT NOT NULL,"
            " updated_at {timestamp} NOT NULL, PRIMARY KEY (channel, chat_id))",
            "CREATE TABLE processed_messages (channel TEXT NOT NULL, chat_id TEXT NOT NULL,"
            " message_id TEXT NOT NULL, processed_at {timestamp} NOT NULL, replies TEXT NOT NULL,"
            " PRIMARY KEY (channel, chat_id, message_id))",
            "CREATE TABLE profiles (channel TEXT NOT NULL, chat_id TEXT NOT NULL, name TEXT, email TEXT,"
            " phone TEXT, timezone TEXT, language TEXT, updated_at {timestamp} NOT NULL,"
            " PRIMARY KEY (channel, chat_id))",
        ),
    ),
    Migration(
        "Bookings made through the bot and who made them; processed messages by age, to prune them.",
        shared=(
            "CREATE TABLE owned_bookings (tenant TEXT NOT NULL, booking_id TEXT NOT NULL,"
            " channel TEXT NOT NULL, chat_id TEXT NOT NULL, start {timestamp} NOT NULL,"
            " service_name TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'active',"
            " created_at {timestamp} NOT NULL, updated_at {timestamp} NOT NULL,"
            " PRIMARY KEY (tenant, booking_id))",
            "CREATE INDEX owned_bookings_by_chat ON owned_bookings (channel, chat_id)",
            "CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)",
        ),
    ),
    Migration(
        "Durable work: inbound messages accepted but not yet answered, scheduled jobs, SMS opt-outs.",
        shared=(
            "CREATE TABLE inbox (channel TEXT NOT NULL, message_id TEXT NOT NULL, chat_id TEXT NOT NULL,"
            " inbound TEXT NOT NULL, received_at {timestamp} NOT NULL, lease_until {timestamp} NOT NULL,"
            " attempts INTEGER NOT NULL, PRIMARY KEY (channel, message_id))",
            "CREATE TABLE jobs (key TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL,"
            " run_at {timestamp} NOT NULL, payload TEXT NOT NULL, lease_until {timestamp} NOT NULL,"
            " attempts INTEGER NOT NULL, done_at {timestamp}, created_at {timestamp} NOT NULL)",
            "CREATE INDEX jobs_due ON jobs (done_at, run_at)",
            "CREATE TABLE opt_outs (channel TEXT NOT NULL, address TEXT NOT NULL,"
            " opted_out_at {timestamp} NOT NULL, PRIMARY KEY (channel, address))",
        ),
    ),
    Migration(
        "Issue 16: a sequence the database assigns to processed messages (``superseded`` compares it, not"
        " the clocks of the hosts that wrote them), old rows numbered in processing order; the newest"
        " Cadence event applied per owned booking; the number each SMS customer last texted; a row"
        " readiness probes rewrite.",
        shared=(
            "ALTER TABLE owned_bookings ADD COLUMN event_at {timestamp}",
            "CREATE TABLE reply_from (channel TEXT NOT NULL, chat_id TEXT NOT NULL, address TEXT NOT NULL,"
            " updated_at {timestamp} NOT NULL, PRIMARY KEY (channel, chat_id))",
            "CREATE TABLE health (name TEXT NOT NULL PRIMARY KEY, checked_at {timestamp} NOT NULL)",
        ),
        only={
            # AUTOINCREMENT needs an INTEGER PRIMARY KEY, so the table is rebuilt: the old key becomes a
            # unique constraint (ON CONFLICT still de-duplicates on it).
            "sqlite": (
                "CREATE TABLE processed_messages_v4 (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " channel TEXT NOT NULL, chat_id TEXT NOT NULL, message_id TEXT NOT NULL,"
                " processed_at TEXT NOT NULL, replies TEXT NOT NULL, UNIQUE (channel, chat_id, message_id))",
                "INSERT INTO processed_messages_v4 (channel, chat_id, message_id, processed_at, replies)"
                " SELECT channel, chat_id, message_id, processed_at, replies FROM processed_messages"
                " ORDER BY processed_at, rowid",
                "DROP TABLE processed_messages",
                "ALTER TABLE processed_messages_v4 RENAME TO processed_messages",
                "CREATE INDEX processed_messages_by_age ON processed_messages (processed_at)",
            ),
            # An identity column continuing after the old rows' numbers; the key moves to it in 6.
            "postgresql": (
                "ALTER TABLE processed_messages ADD COLUMN seq bigint",
                "UPDATE processed_messages AS p SET seq = o.n FROM (SELECT channel, chat_id, message_id,"
                " row_number() OVER (ORDER BY processed_at, message_id) AS n FROM processed_messages) AS o"
                " WHERE p.channel = o.channel AND p.chat_id = o.chat_id AND p.message_id = o.message_id",
                "ALTER TABLE processed_messages ALTER COLUMN seq SET NOT NULL,"
                " ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY",
                "SELECT setval(pg_get_serial_sequence('processed_messages', 'seq'),"
                " (SELECT COALESCE(max(seq), 0) + 1 FROM processed_messages), false)",
            ),
        },
    ),
    Migration(
        "Issue 17: the job each sent message belongs to and the platform's latest word on it (Twilio's"
        " status callbacks), so a reminder that never arrived is marked on its job.",
        shared=(
            "CREATE TABLE deliveries (channel TEXT NOT NULL, message_sid TEXT NOT NULL, job_key TEXT,"
            " chat_id TEXT NOT NULL, status TEXT, error_code TEXT, created_at {timestamp} NOT NULL,"
            " updated_at {timestamp} NOT NULL, PRIMARY KEY (channel, message_sid))",
            "CREATE INDEX deliveries_by_age ON deliveries (updated_at)",
        ),
    ),
    Migration(
        "Issue 17: one schema on both databases. Due jobs are found through a partial index of pending"
        " ones (the worker's poll), done ones through their own (pruning); the inbox by lease (claims);"
        " processed messages keyed by their sequence, with the old key kept unique, as SQLite has them.",
        shared=(
            "DROP INDEX IF EXISTS jobs_due",
            "CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL",
            "CREATE INDEX jobs_by_done ON jobs (done_at) WHERE done_at IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS inbox_by_lease ON inbox (lease_until)",
        ),
        only={
            "postgresql": (
                "ALTER TABLE processed_messages DROP CONSTRAINT processed_messages_pkey,"
                " ADD PRIMARY KEY (seq), ADD UNIQUE (channel, chat_id, message_id)",
            ),
        },
    ),
    Migration(
        "Issue 16: who holds each inbox message's lease, so a process renews only the leases it holds"
        " (never one another process claimed after its own ran out).",
        shared=("ALTER TABLE inbox ADD COLUMN holder TEXT NOT NULL DEFAULT ''",),
    ),
)
"""Applied in order; ``cadence_bot_version`` counts how many are in the database. Append only."""

SCHEMA_VERSION: Final = len(MIGRATIONS)

_POSTGRES_LEGACY: Final = {0: 0, 1: 3, 2: 4, 3: 5}
"""``cadence_bot_schema``'s versions, as versions of :data:`MIGRATIONS`."""


def migrate(
    transaction: Callable[[], AbstractContextManager[Executor]],
    dialect: Dialect,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> int:
    """Apply the migrations the database lacks, each with its version bump in one ``transaction()``
    (which commits when its block ends and rolls back on an error). Returns the resulting version.

    Safe with several processes opening one database at once: the version is re-read in each
    transaction, after the dialect's migration lock (SQLite's write lock is taken when it begins)."""
    while True:
        with transaction() as db:
            if dialect.migration_lock is not None:
                db.execute(dialect.migration_lock, ())
            version = _version(db, dialect)
            if version > len(MIGRATIONS):
                raise SchemaError(
                    f"database schema version {version} is newer than this bot's ({len(MIGRATIONS)})"
                )
            if version >= len(migrations):
                return version
            for statement in migrations[version].statements(dialect):
                db.execute(statement, ())
            _set_version(db, dialect, version + 1)


def read_version(db: Executor) -> int:
    row = db.execute(f"SELECT version FROM {VERSION_TABLE}", ()).fetchone()
    return int(row[0]) if row is not None else 0


def _version(db: Executor, dialect: Dialect) -> int:
    """The database's version, creating the version table (and adopting an older record) if need be."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)", ())
    row = db.execute(f"SELECT version FROM {VERSION_TABLE}", ()).fetchone()
    if row is not None:
        return int(row[0])
    version = _legacy_version(db, dialect)
    db.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES ({int(version)})", ())
    return version


def _legacy_version(db: Executor, dialect: Dialect) -> int:
    if dialect.name == "sqlite":
        return int(db.execute("PRAGMA user_version", ()).fetchone()[0])
    if db.execute("SELECT to_regclass('cadence_bot_schema')", ()).fetchone()[0] is None:
        return 0
    row = db.execute("SELECT version FROM cadence_bot_schema", ()).fetchone()
    old = int(row[0]) if row is not None else 0
    if old not in _POSTGRES_LEGACY:
        raise SchemaError(f"database schema version {old} (cadence_bot_schema) is newer than this bot's")
    db.execute("DROP TABLE cadence_bot_schema", ())
    return _POSTGRES_LEGACY[old]


def _set_version(db: Executor, dialect: Dialect, version: int) -> None:
    db.execute(f"UPDATE {VERSION_TABLE} SET version = {int(version)}", ())
    if dialect.name == "sqlite":  # what bots from before this list read, so they refuse a newer file
        db.execute(f"PRAGMA user_version = {int(version)}", ())
