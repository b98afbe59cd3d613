"""Issue 16, item 4: Telegram's 429s and outages never stall other chats and never drop replies.

``serve``'s app under uvicorn on 127.0.0.1, python-telegram-bot talking HTTP to a fake Bot API that
throttles chosen chats (429 with ``retry_after``) or is down (500), the sandbox Cadence behind the bot.
The channel's sleep is real but twenty times faster, so a bot that slept out a 120 s flood wait while
holding a turn slot would hold it 6 s here: slow enough to fail the test, quick enough to finish it.
Time in the store and the worker is the world's injected clock, moved by the test.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.channels.conftest import TELEGRAM_SECRET, TelegramWorld
from tests.channels.fake_telegram import EPOCH, FakeTelegram, TelegramRefusal, wait_until
from tests.conftest import NOW, salon_seed

GREETING = "Hi! I'm the booking assistant for Studio Salon."
FLOOD_WAIT = 120
SPEED_UP = 20.0

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")


class ThrottlingTelegram(FakeTelegram):
    """The fake Bot API, with chats under flood control and a switch for an outage."""

    def __init__(self) -> None:
        super().__init__()
        self.throttled: set[int] = set()
        self.down = False

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.down:
            raise TelegramRefusal(500, "Internal Server Error")
        if params.get("chat_id") in self.throttled:
            raise TelegramRefusal(
                429, f"Too Many Requests: retry after {FLOOD_WAIT}", {"retry_after": FLOOD_WAIT}
            )
        return super()._api_sendMessage(params)

    def texts(self, chat_id: int) -> list[str]:
        return [str(params["text"]) for params in self.sent(chat_id)]

    def refused(self, status: int) -> int:
        return sum(1 for call in self.calls_of("sendMessage", ok_only=False) if call.status == status)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[TelegramWorld]:
    now = [NOW]
    fake = ThrottlingTelegram()
    with (
        serving(create_sandbox(seed=salon_seed(), clock=lambda: now[0], rate_limit=None)) as cadence,
        serving(fake.app) as fake_url,
    ):
        yield TelegramWorld(fake, fake_url, cadence, str(tmp_path / "bot.db"), now)


async def _faster(seconds: float) -> None:
    await asyncio.sleep(seconds / SPEED_UP)


_update_ids = itertools.count(910_000_000)


def start_update(chat_id: int) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"}
    message = {
        "message_id": chat_id % 1000,
        "from": user,
        "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
        "date": EPOCH,
        "text": "/start salon",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": next(_update_ids), "message": message}


def post(url: str, update: dict[str, Any]) -> None:
    response = httpx.post(
        f"{url}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        timeout=10,
    )
    assert response.status_code == 200


def test_seventeen_throttled_chats_never_delay_an_eighteenth(world: TelegramWorld) -> None:
    fake = world.fake
    assert isinstance(fake, ThrottlingTelegram)
    throttled = list(range(5001, 5018))
    fake.throttled.update(throttled)
    with world.serve(sleep=_faster, max_turns=16, pace=0) as served:
        threads = [threading.Thread(target=post, args=(served.url, start_update(chat))) for chat in throttled]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_until(lambda: fake.refused(429) >= len(throttled), 20, "every throttled chat to be refused")

        started = time.monotonic()
        post(served.url, start_update(6000))
        wait_until(lambda: len(fake.texts(6000)) == 2, 20, "the unthrottled chat's answer")
        waited = time.monotonic() - started
        assert fake.texts(6000)[0] == GREETING
        # Sleeping out the flood wait in the turn would take 6 s here (120 s in production).
        assert waited < 2.0, f"the 18th chat waited {waited:.1f}s behind the throttled ones"

        # Every throttled chat's replies wait durably in the outbox, and their updates left the inbox.
        store = served.bot.store
        wait_until(lambda: store.count_jobs("send") == len(throttled), 10, "the replies to be queued")
        assert store.claim_inbound(channel="telegram", lease=timedelta(0)) == []
        assert all(fake.texts(chat) == [] for chat in throttled)

        # Telegram lifts the limit; once its wait is over, the worker delivers each chat's replies once.
        fake.throttled.clear()
        world.now[0] += timedelta(seconds=FLOOD_WAIT + 1)
        for chat in throttled:
            wait_until(lambda chat=chat: len(fake.texts(chat)) == 2, 20, f"chat {chat}'s replies")
        # Once the outbox is empty nothing more can be sent: a reply sent twice would be there now.
        wait_until(lambda: store.count_jobs("send") == 0, 10, "the outbox to empty")
    assert all(fake.texts(chat)[0] == GREETING and len(fake.texts(chat)) == 2 for chat in throttled)


def nudge(world: TelegramWorld, done: Callable[[], bool]) -> bool:
    """Move the injected clock past the outbox's longest wait (10 minutes) and give the worker a few
    seconds to act; False when it did not. A try that ends after the clock moved plans its next one
    from the new time, so a caller moves it again rather than waiting for ever."""
    world.now[0] += timedelta(minutes=10, seconds=1)
    deadline = time.monotonic() + 3.0
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_bot_api_outage_of_an_hour_delays_replies_but_never_drops_them(world: TelegramWorld) -> None:
    fake = world.fake
    assert isinstance(fake, ThrottlingTelegram)
    fake.down = True
    with world.serve(sleep=_faster, pace=0, retries=0) as served:
        update = start_update(7000)
        post(served.url, update)
        wait_until(lambda: str(update["update_id"]) in served.done, 20, "the turn to end")
        assert served.bot.store.count_jobs("send") == 1, "the replies wait in the outbox"
        outage_ends = world.now[0] + timedelta(hours=1)
        tries = 0
        while world.now[0] < outage_ends:  # the worker tries, and fails, all along
            before = fake.refused(500)
            tries += nudge(world, lambda before=before: fake.refused(500) > before)
        assert tries >= 4 and fake.texts(7000) == []
        fake.down = False
        for _ in range(3):
            if nudge(world, lambda: len(fake.texts(7000)) == 2):
                break
        wait_until(lambda: served.bot.store.count_jobs("send") == 0, 10, "the outbox to empty")
    assert fake.texts(7000)[0] == GREETING and len(fake.texts(7000)) == 2
