"""Putting the bot together: settings -> store, tenant directory, dialog, engine.

Channels get a ready :class:`Bot` from :func:`open_bot` and only ever call ``bot.engine.handle``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bot.config import Settings
from bot.dialog import Dialog
from bot.engine import Engine
from bot.i18n import supported, t
from bot.metrics import Metrics
from bot.reminders import with_reminders
from bot.store import Store, open_store
from bot.tenants import TenantDirectory
from bot.types import Clock, DialogStep, Inbound, Outcome, OwnedBooking, Profile, Reply, system_clock
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
    metrics: Metrics = field(default_factory=Metrics)
    clock: Clock = system_clock

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
    metrics = Metrics()
    _time_cadence(client, metrics)
    store = open_store(database or settings.database, clock=clock)
    directory = TenantDirectory(url, settings, http=client, clock=clock)

    async def owned(channel: str, chat_id: str, tenant: str) -> Sequence[OwnedBooking]:
        return await asyncio.to_thread(store.owned_bookings, channel, chat_id, tenant)

    dialog = Dialog(
        directory,
        owned,
        default_tenant=settings.default_tenant,
        default_language=settings.default_language,
    )

    def fallback(inbound: Inbound) -> Reply:
        language = supported(inbound.language) or settings.default_language
        return Reply(text=t(language, "went_wrong"))

    step = _measured(_with_reminders(dialog.step, settings), metrics)
    engine = Engine(store, step, clock=clock, fallback=fallback)
    return Bot(settings, store, directory, dialog, engine, client, metrics, clock)


def _with_reminders(step: DialogStep, settings: Settings) -> DialogStep:
    """The dialog step, planning (or dropping) the reminders of the bookings it made or cancelled;
    the engine commits them with the turn, so a booking never lacks its reminder."""

    async def step_with_reminders(
        state: dict[str, Any] | None, profile: Profile, inbound: Inbound, now: datetime
    ) -> Outcome:
        return with_reminders(settings, await step(state, profile, inbound, now), now)

    return step_with_reminders


def _measured(step: DialogStep, metrics: Metrics) -> DialogStep:
    """The dialog step, counted and timed for /metrics."""

    async def measured(
        state: dict[str, Any] | None, profile: Profile, inbound: Inbound, now: datetime
    ) -> Outcome:
        started = time.perf_counter()
        try:
            outcome = await step(state, profile, inbound, now)
        except Exception as exc:
            metrics.inc("cadence_bot_turns_total", channel=inbound.channel, result="error")
            metrics.inc("cadence_bot_errors_total", kind=type(exc).__name__)
            raise
        metrics.observe("cadence_bot_turn_seconds", time.perf_counter() - started, channel=inbound.channel)
        metrics.inc("cadence_bot_turns_total", channel=inbound.channel, result="ok")
        if outcome.owned:
            metrics.inc("cadence_bot_bookings_total", len(outcome.owned), channel=inbound.channel)
        return outcome

    return measured


def _time_cadence(http: httpx.AsyncClient, metrics: Metrics) -> None:
    """Time every Cadence request through the shared client's event hooks."""

    async def on_request(request: httpx.Request) -> None:
        request.extensions["cadence_bot_started"] = time.perf_counter()

    async def on_response(response: httpx.Response) -> None:
        started = response.request.extensions.get("cadence_bot_started")
        if started is not None:
            metrics.observe("cadence_bot_cadence_seconds", time.perf_counter() - started)
        if response.status_code >= 500:
            metrics.inc("cadence_bot_errors_total", kind=f"cadence_{response.status_code}")

    http.event_hooks["request"].append(on_request)
    http.event_hooks["response"].append(on_response)
