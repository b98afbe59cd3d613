"""Putting the bot together: settings -> store, tenant directory, dialog, engine.

Channels get a ready :class:`Bot` from :func:`open_bot` and only ever call ``bot.engine.handle``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from bot.config import Settings
from bot.dialog import Dialog
from bot.engine import Engine
from bot.store import Store
from bot.tenants import TenantDirectory
from bot.types import Clock, OwnedBooking, system_clock
from cadence_adapter import new_http_client

__all__ = ["Bot", "open_bot"]


@dataclass
class Bot:
    settings: Settings
    store: Store
    directory: TenantDirectory
    dialog: Dialog
    engine: Engine
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.http.aclose()
        self.store.close()


def open_bot(
    settings: Settings,
    *,
    base_url: str | None = None,
    http: httpx.AsyncClient | None = None,
    database: str | None = None,
    clock: Clock = system_clock,
) -> Bot:
    """A bot wired from ``settings``; ``base_url``, ``http`` and ``database`` override them (tests,
    the embedded sandbox). The returned bot owns ``http`` and closes it in :meth:`Bot.aclose`."""
    url = base_url or settings.cadence_base_url
    if not url:
        raise ValueError("CADENCE_BASE_URL is not set")
    client = http or new_http_client()
    store = Store(database or settings.database, clock=clock)
    directory = TenantDirectory(url, settings, http=client, clock=clock)

    async def owned(channel: str, chat_id: str, tenant: str) -> Sequence[OwnedBooking]:
        return await asyncio.to_thread(store.owned_bookings, channel, chat_id, tenant)

    dialog = Dialog(
        directory,
        owned,
        default_tenant=settings.default_tenant,
        default_language=settings.default_language,
    )
    engine = Engine(store, dialog.step, clock=clock)
    return Bot(settings, store, directory, dialog, engine, client)
