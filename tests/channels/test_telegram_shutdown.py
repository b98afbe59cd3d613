"""Stopping ``serve``: the app's lifespan owns the grace period (bot/turns.py). A Telegram turn and a
worker job in flight when the server is told to stop both finish and send their replies, in that
order, before the store is closed. Real uvicorn on 127.0.0.1, python-telegram-bot against the fake
Bot API, the sandbox Cadence."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from bot.app import create_app
from bot.service import open_bot
from bot.types import Inbound, Reply
from bot.worker import TURN, Worker
from cadence_adapter.sandbox.server import serving
from channels.telegram import TelegramChannel, TelegramOptions, create_channel
from tests.channels.conftest import TELEGRAM_SECRET, TelegramWorld
from tests.channels.fake_telegram import Customer, wait_until, webhook_deliverer

OTHER_CHAT = 515151


class HeldSends:
    """The worker's view of the Telegram channel, whose sends wait for ``release`` (a slow Bot API)."""

    name = "telegram"

    def __init__(self, channel: TelegramChannel, release: threading.Event) -> None:
        self.channel, self.release = channel, release
        self.entered = threading.Event()

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, chat_id: str, replies: Sequence[Reply], *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        self.entered.set()
        await asyncio.to_thread(self.release.wait)
        return await self.channel.send(chat_id, replies, tenant=tenant, job=job)


def test_turns_and_the_workers_batch_in_flight_at_shutdown_finish_before_the_store_closes(
    telegram_world: TelegramWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = telegram_world
    release = threading.Event()
    """Lets the customer's turn go on, once the shutdown has begun."""
    release_worker = threading.Event()
    """Lets the worker's send go on, once the customer's turn is over: the worker is stopped after."""
    held = threading.Event()
    done: set[str] = set()

    async def hold(inbound: Any) -> None:  # the customer's turn is in flight when the stop comes
        held.set()
        await asyncio.to_thread(release.wait)

    def finished(inbound: Inbound) -> None:
        done.add(inbound.message_id)
        release_worker.set()

    bot = open_bot(
        world.settings(), base_url=world.cadence_url, database=world.database, clock=lambda: world.now[0]
    )
    options = TelegramOptions(
        pace=0.01,
        resume_every=0.2,
        backoff=0.01,
        before_process=hold,
        on_done=finished,
    )
    channel = create_channel(bot, polling=False, options=options)
    slow = HeldSends(channel, release_worker)
    worker = Worker(bot, {"telegram": slow}, poll_seconds=0.05)
    started = Inbound(channel="telegram", chat_id=str(OTHER_CHAT), message_id="bot:1", text="/start salon")
    bot.store.add_job("turn:bot:1", TURN, world.now[0], {"inbound": started.model_dump(mode="json")})

    sent_when_closed: list[int] = []
    close = bot.store.close

    def recording_close() -> None:
        sent_when_closed.append(len(world.fake.sent()))
        close()

    monkeypatch.setattr(bot.store, "close", recording_close)
    app = create_app(bot, [channel], worker=worker, grace=5.0)
    turns = app.state.turns

    def release_once_stopping() -> None:  # so both are still in flight when the shutdown begins
        wait_until(lambda: not turns.accepting, what="the shutdown")
        release.set()

    with serving(app) as url:
        pat = Customer(world.fake, webhook_deliverer(url, TELEGRAM_SECRET), lambda: set(done))
        pat.deliver(pat.message_update(text="/start salon"))
        assert held.wait(10) and slow.entered.wait(10)
        assert world.fake.sent() == []
        releaser = threading.Thread(target=release_once_stopping)
        releaser.start()
    releaser.join(10)

    sent = world.fake.sent()
    assert sent[0]["chat_id"] == pat.chat_id and sent[0]["text"].startswith("Hi! I'm the booking assistant")
    assert world.fake.sent(OTHER_CHAT), "the worker's turn, then, delivered its replies too"
    assert {m["chat_id"] for m in sent[len(world.fake.sent(pat.chat_id)) :]} == {OTHER_CHAT}
    assert sent_when_closed == [len(world.fake.sent())], "the store closed after every reply went out"
