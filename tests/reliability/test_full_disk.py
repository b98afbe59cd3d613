"""Issue 16, item 5: the edges of ``serve``'s app, over real HTTP on 127.0.0.1.

- A full disk: ``GET /healthz`` (liveness) stays 200 but ``GET /readyz`` is 503 and says why, because it
  proves a durable write (``Store.check_writable``); an SMS that cannot be stored is not lost without a
  word: Twilio does not retry a 500, so the customer is told in the TwiML answer to try again.
- A revoked Telegram token (getMe answers 401) disables Telegram alone: the app starts, SMS and
  Cadence's webhook serve, and ``/readyz`` and ``cadence_bot_channel_up`` report it.

A SQLite file on a size-limited filesystem needs privileges a test run does not have, so the full disk
is a store whose writes raise what SQLite raises then: ``OperationalError("database or disk is full")``.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.app import create_app
from bot.config import Settings, TenantConfig
from bot.service import Bot, open_bot
from bot.types import Channel
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from channels.sms import SmsOptions
from channels.sms import create_channel as sms_channel
from channels.telegram import create_channel as telegram_channel
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Phone
from tests.conftest import NOW, salon_seed

SALON_NUMBER = "+351210000001"
PAT = "+351912345678"
APOLOGY = "Sorry, something went wrong on our side. Please try again."
_WRITES = frozenset({"check_writable", "enqueue_inbound", "set_reply_from", "commit_turn", "add_job"})


class FullDisk:
    """A store whose writes fail as SQLite's do on a full disk, once ``full`` is set; reads work."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.full = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if self.full and name in _WRITES:
            return _full
        return attribute


def _full(*args: Any, **kwargs: Any) -> Any:
    raise sqlite3.OperationalError("database or disk is full")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    tmp_path: Path, settings: Settings, channels: Callable[[Bot], list[Channel]], port: int
) -> Iterator[tuple[str, Bot]]:
    with serving(create_sandbox(seed=salon_seed(), clock=lambda: NOW, rate_limit=None)) as cadence:
        bot = open_bot(settings, base_url=cadence, database=str(tmp_path / "bot.db"), clock=lambda: NOW)
        with serving(create_app(bot, channels(bot)), port=port) as url:
            yield url, bot


def sms_settings(fake_url: str, public_url: str, **extra: Any) -> Settings:
    return Settings(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=fake_url,
        public_url=public_url,
        tenants={"salon": TenantConfig(slug="salon", twilio_numbers=(SALON_NUMBER,))},
        **extra,
    )


def test_a_full_disk_fails_readiness_not_liveness_and_an_sms_is_answered_not_lost(tmp_path: Path) -> None:
    fake = FakeTwilio()
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    disk: list[FullDisk] = []

    def channels(bot: Bot) -> list[Channel]:
        disk.append(FullDisk(bot.store))
        bot.store = disk[0]  # type: ignore[assignment]
        return [sms_channel(bot, options=SmsOptions(reply_budget=2.0))]

    with (
        serving(fake.app) as fake_url,
        served(tmp_path, sms_settings(fake_url, public), channels, port) as (
            url,
            bot,
        ),
    ):
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["database"] == "ok", ready.text
        disk[0].full = True
        assert httpx.get(f"{url}/healthz").status_code == 200, "alive: restarting would not free the disk"
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] == "OperationalError: database or disk is full"
        assert ready.json()["cadence"] == "ok"

        answer = Phone(url, PAT, SALON_NUMBER, public_url=public).text("a haircut tomorrow at 3pm")
        assert answer.bodies == [APOLOGY], "Twilio would drop a 500: the customer is told instead"
        assert bot.metrics.value("cadence_bot_errors_total", kind="sms_store") == 1

        disk[0].full = False
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert "Studio Salon" in Phone(url, PAT, SALON_NUMBER, public_url=public).text("hello").text


def test_a_revoked_telegram_token_disables_telegram_alone(tmp_path: Path) -> None:
    telegram = FakeTelegram(token="999:the-token-telegram-knows")  # ours was revoked: getMe is 401
    twilio = FakeTwilio()
    port = _free_port()
    public = f"http://127.0.0.1:{port}"

    def channels(bot: Bot) -> list[Channel]:
        return [telegram_channel(bot), sms_channel(bot)]

    with serving(telegram.app) as telegram_url, serving(twilio.app) as twilio_url:
        settings = sms_settings(
            twilio_url,
            public,
            telegram_bot_token="123456:REVOKED-token",
            telegram_webhook_secret="secret_1",
            telegram_api_base_url=telegram_url,
        )
        with served(tmp_path, settings, channels, port) as (url, _bot):
            ready = httpx.get(f"{url}/readyz")
            assert ready.status_code == 200, "Cadence and the database are fine: still ready"
            assert ready.json()["disabled_channels"] == {"telegram": "Telegram rejected TELEGRAM_BOT_TOKEN"}
            assert "REVOKED" not in ready.text
            metrics = httpx.get(f"{url}/metrics").text
            assert 'cadence_bot_channel_up{channel="telegram"} 0.0' in metrics
            assert 'cadence_bot_channel_up{channel="sms"} 1.0' in metrics
            answer = Phone(url, PAT, SALON_NUMBER, public_url=public).text("a haircut tomorrow at 3pm")
            assert "Studio Salon" in answer.text, "SMS serves"
            assert httpx.post(f"{url}/cadence/webhook/salon", content=b"{}").status_code == 404
