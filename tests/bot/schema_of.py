"""A database's schema as plain values, the same shape for SQLite and PostgreSQL, so two compare equal when
they have the same tables, columns (normalised types, nullability, defaults), keys and indexes."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

_PG_TYPES = {"text": "text", "integer": "integer", "bigint": "integer", "timestamp with time zone": "text"}
"""PostgreSQL's types as SQLite's storage classes: SQLite keeps a timestamp as fixed-width ISO text
(``bot.store.records.timestamp``), so that is what a ``timestamptz`` column matches."""


@dataclass(frozen=True)
class Table:
    columns: dict[str, tuple[str, bool, str | None]]
    """By name: (type, not null, default)."""
    primary_key: tuple[str, ...]
    unique: frozenset[tuple[str, ...]]
    """Unique constraints other than the primary key, as their columns."""
    indexes: dict[str, tuple[tuple[str, ...], bool, str | None]]
    """Named indexes (not those behind a key): (columns, unique, the partial index's condition)."""


def sqlite_schema(conn: sqlite3.Connection) -> dict[str, Table]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    schema = {}
    for name in names:
        info = conn.execute(f"PRAGMA table_info({name})").fetchall()
        primary_key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        columns = {
            row[1]: (row[2].lower(), bool(row[3]) or row[1] in primary_key, _default(row[4])) for row in info
        }
        unique: set[tuple[str, ...]] = set()
        indexes = {}
        for _, index, is_unique, origin, _partial in conn.execute(f"PRAGMA index_list({name})").fetchall():
            cols = tuple(row[2] for row in conn.execute(f"PRAGMA index_info({index})"))
            if origin == "u":
                unique.add(cols)
            elif origin == "c":
                sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [index]).fetchone()[0]
                where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else None
                indexes[index] = (cols, bool(is_unique), _condition(where))
        schema[name] = Table(columns, primary_key, frozenset(unique), indexes)
    return schema


def postgres_schema(conn: Any) -> dict[str, Table]:
    """The schema of the connection's ``current_schema()`` (``conn``: a psycopg connection)."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]
    schema = {}
    for name in names:
        columns = {
            column: (_PG_TYPES[kind], nullable == "NO", _default(default))
            for column, kind, nullable, default in conn.execute(
                "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s",
                [name],
            )
        }
        primary_key: tuple[str, ...] = ()
        unique: set[tuple[str, ...]] = set()
        indexes = {}
        rows = conn.execute(
            "SELECT i.relname, x.indisunique, con.contype, pg_get_expr(x.indpred, x.indrelid),"
            " ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
            "  JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n)"
            " FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid"
            " JOIN pg_class AS t ON t.oid = x.indrelid"
            " LEFT JOIN pg_constraint AS con ON con.conindid = x.indexrelid"
            " WHERE t.relname = %s AND t.relnamespace = current_schema()::regnamespace",
            [name],
        ).fetchall()
        for index, is_unique, constraint, where, cols in rows:
            if constraint == "p":
                primary_key = tuple(cols)
            elif constraint == "u":
                unique.add(tuple(cols))
            else:
                indexes[index] = (tuple(cols), bool(is_unique), _condition(where))
        schema[name] = Table(columns, primary_key, frozenset(unique), indexes)
    return schema


def _default(value: str | None) -> str | None:
    """``'active'::text`` (PostgreSQL) and ``'active'`` (SQLite) are one default."""
    return re.sub(r"::[a-z ]+$", "", value) if value is not None else None


def _condition(where: str | None) -> str | None:
    """``(done_at IS NULL)`` (PostgreSQL) and ``done_at IS NULL`` (SQLite) are one condition."""
    if where is None:
        return None
    return " ".join(where.replace("(", " ").replace(")", " ").lower().split())
