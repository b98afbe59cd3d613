"""Fixtures for the channels' tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.config import Settings, TenantConfig
from bot.service import Bot, open_bot
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from channels.telegram import TelegramChannel, TelegramOptions, create_channel
from tests.channels.fake_telegram import BOT_TOKEN, Customer, FakeTelegram, webhook_deliverer
from tests.conftest import NOW, SALON_KEY, salon_seed

# -- Telegram ---------------------------------------------------------------------------------------

TELEGRAM_SECRET = "test-webhook-secret_123"


@dataclass
class ServedBot:
    """``cadence-bot serve``'s app with the Telegram channel, under uvicorn on 127.0.0.1."""

    url: str
    bot: Bot
    channel: TelegramChannel
    done: set[str]
    """Update ids the channel finished processing (its ``on_done`` seam)."""
    sleeps: list[float]
    """Every wait the channel asked for (RetryAfter, backoff, pacing); each really lasts ≤ 10 ms."""

    def customer(self, world: TelegramWorld, **details: Any) -> Customer:
        deliver = webhook_deliverer(self.url, TELEGRAM_SECRET)
        return Customer(world.fake, deliver, lambda: set(self.done), **details)


@dataclass
class TelegramWorld:
    """A sandbox Cadence (the salon), a fake Bot API, and a way to serve bots on one database."""

    fake: FakeTelegram
    fake_url: str
    cadence_url: str
    database: str
    now: list[datetime] = field(default_factory=lambda: [NOW])

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": BOT_TOKEN,
            "telegram_webhook_secret": TELEGRAM_SECRET,
            "telegram_api_base_url": self.fake_url,
            "tenants": {"salon": TenantConfig(slug="salon", org_api_key=SALON_KEY)},
        }
        return Settings(**{**values, **overrides})

    @contextmanager
    def serve(
        self, *, polling: bool = False, settings: Settings | None = None, **options: Any
    ) -> Iterator[ServedBot]:
        done: set[str] = set()
        sleeps: list[float] = []
        lock = threading.Lock()

        async def fast_sleep(seconds: float) -> None:
            with lock:
                sleeps.append(seconds)
            await asyncio.sleep(min(seconds, 0.01))

        def finished(inbound: Any) -> None:
            with lock:
                done.add(inbound.message_id)

        tuning: dict[str, Any] = {
            "pace": 0.01,
            "poll_timeout": 1,
            "resume_every": 0.2,
            "grace": 0.5,
            "backoff": 0.01,
            "sleep": fast_sleep,
            "on_done": finished,
        }
        bot = open_bot(
            settings or self.settings(),
            base_url=self.cadence_url,
            database=self.database,
            clock=lambda: self.now[0],
        )
        telegram_options = TelegramOptions(**{**tuning, **options})
        channel = create_channel(bot, polling=polling, options=telegram_options)
        # The app's lifespan owns the grace on stop: the channel's own grace is the one the test chose.
        with serving(create_app(bot, [channel], grace=telegram_options.grace)) as url:
            yield ServedBot(url, bot, channel, done, sleeps)

    def bookings(self) -> list[dict[str, Any]]:
        """The salon's bookings in the sandbox."""
        response = httpx.get(
            f"{self.cadence_url}/api/v1/bookings",
            headers={"Authorization": f"Bearer {SALON_KEY}"},
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json()["bookings"])


@pytest.fixture
def telegram_world(tmp_path: Path) -> Iterator[TelegramWorld]:
    now = [NOW]
    fake = FakeTelegram()
    with (
        serving(create_sandbox(seed=salon_seed(), clock=lambda: now[0], rate_limit=None)) as cadence,
        serving(fake.app) as fake_url,
    ):
        yield TelegramWorld(fake, fake_url, cadence, str(tmp_path / "bot.db"), now)
