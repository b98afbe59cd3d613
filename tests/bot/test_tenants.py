"""The tenant directory: slugs found through Cadence's public surface, cached, and nothing kept for the
slugs customers make up."""

from __future__ import annotations

import httpx
import pytest

from bot.config import Settings
from bot.tenants import TenantDirectory
from cadence_adapter import new_http_client
from cadence_adapter.sandbox import create_app
from tests.conftest import NOW, salon_seed

pytestmark = pytest.mark.anyio


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.requests = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


def _directory() -> tuple[TenantDirectory, Counting]:
    app = create_app(seed=salon_seed(), clock=lambda: NOW, rate_limit=None)
    network = Counting(httpx.ASGITransport(app=app))
    http = new_http_client(transport=network)
    return TenantDirectory("http://cadence.test", Settings(), http=http, clock=lambda: NOW), network


async def test_a_known_slug_is_found_once_and_then_served_from_cache() -> None:
    directory, network = _directory()
    first = await directory.get("salon")
    assert first is not None and first.org.name
    calls = network.requests
    assert await directory.get("salon") is first
    assert network.requests == calls
    assert directory.public("salon") is directory.public("salon")


async def test_made_up_slugs_leave_nothing_behind() -> None:
    """A customer typing "/start <anything>" a thousand times must not grow the directory."""
    directory, _ = _directory()
    assert await directory.get("salon") is not None
    for n in range(200):
        assert await directory.get(f"no-such-business-{n}") is None
        assert await directory.find(f"/start made-up-{n}") is None
    assert set(directory._public) == {"salon"}
    assert set(directory._cache) == {"salon"}
