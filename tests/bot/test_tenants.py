"""The tenant directory: slugs found through Cadence's public surface, cached, and nothing kept for the
slugs customers make up."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.tenants import TenantDirectory
from cadence_adapter import new_http_client
from cadence_adapter.sandbox import create_app
from tests.conftest import NOW, clinic_seed, salon_seed

pytestmark = pytest.mark.anyio


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.requests = inner, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


def _directory(settings: Settings | None = None) -> tuple[TenantDirectory, Counting]:
    seed = salon_seed()
    seed["orgs"] += clinic_seed()["orgs"]
    app = create_app(seed=seed, clock=lambda: NOW, rate_limit=None)
    network = Counting(httpx.ASGITransport(app=app))
    http = new_http_client(transport=network)
    directory = TenantDirectory("http://cadence.test", settings or Settings(), http=http, clock=lambda: NOW)
    return directory, network


async def test_with_only_listed_a_slug_cadence_knows_but_the_file_does_not_is_not_served(
    tmp_path: Path,
) -> None:
    tenants = tmp_path / "tenants.toml"
    tenants.write_text('only_listed = true\n[tenants.salon]\nlanguage = "en"\n')
    directory, network = _directory(load_settings({"BOT_TENANTS_FILE": str(tenants)}))
    assert await directory.get("salon") is not None
    assert await directory.get("clinic") is None and await directory.find("/start clinic") is None
    calls = network.requests
    assert await directory.get("clinic") is None and network.requests == calls, "not even asked of Cadence"
    everyone, _ = _directory(load_settings({}))
    assert await everyone.get("clinic") is not None, "without the option, any Cadence slug is served"


def test_only_listed_names_what_is_wrong(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants.toml"
    tenants.write_text('only_listed = "yes"\n[tenants.salon]\n')
    with pytest.raises(ConfigError, match="only_listed"):
        load_settings({"BOT_TENANTS_FILE": str(tenants)})
    tenants.write_text("only_listed = true\n[tenants.salon]\n")
    with pytest.raises(ConfigError, match="BOT_DEFAULT_TENANT 'clinic'"):
        load_settings({"BOT_TENANTS_FILE": str(tenants), "BOT_DEFAULT_TENANT": "clinic"})
    tenants.write_text("serve_only = true\n")
    with pytest.raises(ConfigError, match="unknown key 'serve_only'"):
        load_settings({"BOT_TENANTS_FILE": str(tenants)})


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
