"""One schema on both databases (issue 17): fresh ones compare equal, and a database any released bot
wrote, on either, migrates to exactly the fresh schema, keeping its data."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.store.migrations import SCHEMA_VERSION, VERSION_TABLE
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore
from tests.bot import legacy_schemas
from tests.bot.schema_of import Table, postgres_schema, sqlite_schema

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def fresh_sqlite(path: Path) -> dict[str, Table]:
    SQLiteStore(path).close()
    with closing(sqlite3.connect(path)) as conn:
        return sqlite_schema(conn)


def fresh_postgres(url: str) -> dict[str, Table]:
    PostgresStore(url).close()
    with psycopg.connect(url) as conn:
        return postgres_schema(conn)


def test_fresh_sqlite_and_postgres_schemas_are_equal(tmp_path: Path, postgres_database: str) -> None:
    sqlite, postgres = fresh_sqlite(tmp_path / "bot.db"), fresh_postgres(postgres_database)
    assert sorted(sqlite) == sorted(postgres)
    for name in sqlite:
        assert sqlite[name] == postgres[name], name


def test_the_schema_has_the_keys_and_indexes_the_queries_rely_on(tmp_path: Path) -> None:
    """What the comparison above compares, so it cannot pass by comparing two empty schemas."""
    schema = fresh_sqlite(tmp_path / "bot.db")
    assert sorted(schema) == [
        VERSION_TABLE,
        "conversations",
        "deliveries",
        "health",
        "inbox",
        "jobs",
        "opt_outs",
        "owned_bookings",
        "processed_messages",
        "profiles",
        "reply_from",
    ]
    indexes = {name: index for table in schema.values() for name, index in table.indexes.items()}
    assert indexes == {
        "deliveries_by_age": (("updated_at",), False, None),
        "inbox_by_lease": (("lease_until",), False, None),
        "jobs_by_done": (("done_at",), False, "done_at is not null"),
        "jobs_due": (("run_at",), False, "done_at is null"),
        "owned_bookings_by_chat": (("channel", "chat_id"), False, None),
        "processed_messages_by_age": (("processed_at",), False, None),
    }
    processed = schema["processed_messages"]
    assert processed.primary_key == ("seq",)
    assert processed.unique == {("channel", "chat_id", "message_id")}
    assert schema["owned_bookings"].columns["status"] == ("text", True, "'active'")


@pytest.mark.parametrize("version", sorted(legacy_schemas.SQLITE))
def test_a_sqlite_file_of_any_release_migrates_to_the_fresh_schema(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for statement in legacy_schemas.SQLITE[version]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute(
            "INSERT INTO conversations (channel, chat_id, state, updated_at) VALUES ('telegram', '42', ?, ?)",
            [json.dumps({"n": version}), T0.isoformat()],
        )

    with SQLiteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.load("telegram", "42").state == {"n": version}
    with closing(sqlite3.connect(path)) as conn:
        migrated = sqlite_schema(conn)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION, "older bots refuse it"
    assert migrated == fresh_sqlite(tmp_path / "fresh.db")


@pytest.mark.parametrize("version", range(1, len(legacy_schemas.POSTGRES) + 1))
def test_a_postgres_database_of_any_release_migrates_to_the_fresh_schema(
    postgres_url: str, postgres_database: str, version: int
) -> None:
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE cadence_bot_schema (version integer NOT NULL)")
        conn.execute("INSERT INTO cadence_bot_schema (version) VALUES (%s)", [version])
        for migration in legacy_schemas.POSTGRES[:version]:
            for statement in migration:
                conn.execute(statement)
        conn.execute(
            "INSERT INTO conversations (channel, chat_id, state, updated_at)"
            " VALUES ('telegram', '42', %s, %s)",
            [json.dumps({"n": version}), T0],
        )

    with PostgresStore(postgres_database) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.load("telegram", "42").state == {"n": version}
    with psycopg.connect(postgres_database) as conn:
        migrated = postgres_schema(conn)
    assert "cadence_bot_schema" not in migrated, "the old version table is adopted, then dropped"

    fresh = postgres_database.replace("search_path%3D", "search_path%3Dfresh_")
    schema = fresh.split("search_path%3D", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        assert migrated == fresh_postgres(fresh)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
