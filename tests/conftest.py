"""Shared fixtures: a fixed clock and small seeds for the Cadence sandbox (the values live in
``tests/support.py``, which the benchmarks import too; every name is re-exported here)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import NOW, SALON_KEY, TEST_KEY, RecordingChannel, clinic_seed, free_port, salon_seed

__all__ = ["NOW", "SALON_KEY", "TEST_KEY", "RecordingChannel", "clinic_seed", "free_port", "salon_seed"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Any:
    return lambda: NOW


# -- PostgreSQL ---------------------------------------------------------------------------------------

POSTGRES_URL_ENV = "BOT_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server (``export BOT_TEST_POSTGRES_URL=$(.ci/postgres)``). Without it the PostgreSQL tests
    skip, except under ``.ci/run`` (``BOT_TEST_REQUIRE_POSTGRES=1``), where a missing server is a failure."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if os.environ.get("BOT_TEST_REQUIRE_POSTGRES"):
            pytest.fail(f"{POSTGRES_URL_ENV} is not set, and this run requires PostgreSQL")
        pytest.skip(f"no PostgreSQL: export {POSTGRES_URL_ENV}=$(.ci/postgres) to run these")
    return url


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A database URL whose tables live in a fresh schema of their own, dropped afterwards."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{postgres_url}{'&' if '?' in postgres_url else '?'}options={quote(f'-c search_path={schema}')}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty bot database: a SQLite file, then (a second run of the test) a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.db")
    return str(request.getfixturevalue("postgres_database"))
