"""Fixtures for the sandbox tests: a settable fixed clock, a small seed, and in-process clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from cadence_adapter.sandbox import create_app, sandbox_of
from tests.sandbox.helpers import NOW, FixedClock, small_seed


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def app(clock: FixedClock) -> AsyncIterator[Starlette]:
    """The small two-practitioner org of :func:`small_seed`, no rate limit, fixed clock."""
    application = create_app(seed=small_seed(), clock=clock, rate_limit=None)
    yield application
    await sandbox_of(application).aclose()


@pytest.fixture
async def demo_app(clock: FixedClock) -> AsyncIterator[Starlette]:
    """The built-in demo seed (movela, bloom) with a fixed clock."""
    application = create_app(clock=clock)
    yield application
    await sandbox_of(application).aclose()
