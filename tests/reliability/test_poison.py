"""Issue 16: a poison message, one whose processing fails every time, is tried ``max_attempts`` times
(counted by the store, not in memory) and then answered as a dead letter: an apology to the customer,
a metric, and never another try, not even when Telegram delivers it again.

``serve``'s app under uvicorn with the Telegram channel, a fake Bot API and the sandbox Cadence; the
store's clock is the world's, moved by the test past each retry wait.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.channels.conftest import TelegramWorld
from tests.channels.fake_telegram import FakeTelegram, wait_until
from tests.conftest import NOW, salon_seed

APOLOGY = "Sorry, something went wrong on our side. Please try again."
ATTEMPTS = 3


def test_a_message_that_fails_every_time_becomes_a_dead_letter_after_its_attempts(
    telegram_world: TelegramWorld,
) -> None:
    world = telegram_world
    tries: Counter[str] = Counter()
    lock = threading.Lock()
    poison: set[str] = set()

    async def crash(inbound: Any) -> None:  # the turn dies the same way on every attempt
        with lock:
            tries[inbound.message_id] += 1
        if inbound.message_id in poison:
            raise RuntimeError("poison")

    options = {"before_process": crash, "retry_after": timedelta(seconds=1), "max_attempts": ATTEMPTS}
    with world.serve(**options) as served:
        pat = served.customer(world)
        pat.start("salon")  # a healthy message is tried once
        update = pat.message_update(text="haircut")
        poison.add(str(update["update_id"]))
        pat.deliver(update)
        key = str(update["update_id"])
        for attempt in range(1, ATTEMPTS + 1):
            wait_until(lambda attempt=attempt: tries[key] == attempt, 10, f"attempt {attempt}")
            # The failure is written back (its retry wait set from the clock) before the clock moves on.
            wait_until(lambda: not served.channel.inbox.holds(key), 10, f"attempt {attempt} to end")
            world.now[0] += timedelta(seconds=2)  # the retry wait is over
        apology = lambda: [m for m in world.fake.sent(pat.chat_id) if m["text"] == APOLOGY]  # noqa: E731
        wait_until(lambda: len(apology()) == 1, 10, "the apology")
        assert served.bot.metrics.value("cadence_bot_dead_letters_total", channel="telegram") == 1

        world.now[0] += timedelta(minutes=5)
        pat.deliver(update)  # Telegram delivers it again: processed (as a dead letter), so nothing runs
        pat.say("help")  # one chat's messages run in order: once this one is done, the other would be
        assert tries[key] == ATTEMPTS, "never tried after its attempts"
        assert len(apology()) == 1
        assert served.bot.store.claim_inbound(channel="telegram", lease=timedelta(0)) == []
    assert sorted(tries.values()) == [1, 1, ATTEMPTS], "the healthy messages were tried once"


@pytest.fixture
def telegram_world(tmp_path: Path) -> Iterator[TelegramWorld]:
    now = [NOW]
    fake = FakeTelegram()
    with (
        serving(create_sandbox(seed=salon_seed(), clock=lambda: now[0], rate_limit=None)) as cadence,
        serving(fake.app) as fake_url,
    ):
        yield TelegramWorld(fake, fake_url, cadence, str(tmp_path / "bot.db"), now)
