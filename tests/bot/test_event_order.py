"""Cadence's events applied in order (issue 16): Cadence retries deliveries with backoff, so an older event
can arrive after a newer one. Per booking the newest by ``created_at`` wins, a stale event changes and
sends nothing, a cancel is never undone by a late "moved", and with the tenant's key the booking is re-read
and what Cadence says now is what the customer hears.

The worker runs against a real sandbox on 127.0.0.1 and a real store (SQLite, then PostgreSQL); events
are queued as ``POST /cadence/webhook`` queues them, in the order a late retry would deliver them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings, TenantConfig
from bot.service import Bot, open_bot
from bot.types import Inbound
from bot.worker import Worker
from cadence_adapter import CadenceClient
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.conftest import NOW, SALON_KEY, RecordingChannel, salon_seed

pytestmark = pytest.mark.anyio

CHAT = "555"
TEN = datetime.fromisoformat("2026-06-02T09:00:00+00:00")  # Tuesday 10:00 in Lisbon
NOON = datetime.fromisoformat("2026-06-02T11:00:00+00:00")
TWO = datetime.fromisoformat("2026-06-02T13:00:00+00:00")
LEAD = timedelta(hours=12)


@pytest.fixture
def cadence() -> Iterator[str]:
    with serving(create_sandbox(seed=salon_seed(), clock=lambda: NOW)) as url:
        yield url


@pytest.fixture(params=[False, True], ids=["no-key", "keyed"])
def keyed(request: pytest.FixtureRequest) -> bool:
    """Whether the bot has the tenant's org key (and so re-reads bookings from Cadence)."""
    return bool(request.param)


@pytest.fixture
async def bot(cadence: str, database: str, keyed: bool) -> AsyncIterator[Bot]:
    config = TenantConfig(slug="salon", org_api_key=SALON_KEY if keyed else None, reminder_lead_hours=12)
    settings = Settings(default_tenant="salon", tenants={"salon": config})
    opened = open_bot(settings, base_url=cadence, database=database, clock=lambda: NOW)
    yield opened
    await opened.aclose()


@pytest.fixture
async def business(cadence: str) -> AsyncIterator[CadenceClient]:
    """The business's own hands on Cadence (its dashboard), whether or not the bot has the key."""
    async with CadenceClient(cadence, SALON_KEY) as client:
        yield client


async def book_at_ten(bot: Bot) -> str:
    for text in ("haircut tomorrow at 10am", "Pat Patient", "pat@example.com", "yes"):
        inbound = Inbound(channel="telegram", chat_id=CHAT, message_id=uuid.uuid4().hex, text=text)
        result = await bot.engine.handle(inbound)
    assert "You're booked" in result.replies[-1].text
    [owned] = bot.store.owned_bookings("telegram", CHAT)
    assert owned.start == TEN
    return owned.booking_id


def event(
    kind: str, booking_id: str, start: datetime, created: int, status: str = "confirmed"
) -> dict[str, Any]:
    """The body Cadence posts; ``created`` is seconds after NOW."""
    return {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "type": f"booking.{kind}",
        "created_at": (NOW + timedelta(seconds=created)).isoformat().replace("+00:00", "Z"),
        "data": {"id": booking_id, "service_id": "svc_cut", "start": start.isoformat(), "status": status},
    }


async def deliver(bot: Bot, worker: Worker, body: dict[str, Any]) -> None:
    assert bot.store.add_job(
        f"event:salon:{body['id']}", "cadence_event", NOW, {"tenant": "salon", "event": body}
    )
    assert await worker.run_once() == 1


def told(channel: RecordingChannel, word: str) -> list[str]:
    return [text for text in channel.texts(CHAT) if word in text]


async def test_two_moves_delivered_newest_first_leave_the_newest(bot: Bot, business: CadenceClient) -> None:
    """10am -> 12pm -> 2pm, delivered as the 2pm event, then the 12pm one: told 2pm once, reminder at 2pm."""
    telegram = RecordingChannel("telegram")
    worker = Worker(bot, {"telegram": telegram})
    booking_id = await book_at_ten(bot)
    await business.reschedule_booking(booking_id, NOON)
    await business.reschedule_booking(booking_id, TWO)
    to_noon = event("rescheduled", booking_id, NOON, created=60)
    to_two = event("rescheduled", booking_id, TWO, created=120)

    await deliver(bot, worker, to_two)
    await deliver(bot, worker, to_noon)

    assert told(telegram, "moved") == ["Studio Salon moved your Haircut to Tue 2 Jun, 2:00 PM."]
    assert [b.start for b in bot.store.owned_bookings("telegram", CHAT)] == [TWO]
    reminder = bot.store.get_job(f"reminder:{booking_id}")
    assert reminder is not None and reminder.run_at == TWO - LEAD


async def test_a_cancel_delivered_before_an_older_move_stays_cancelled(
    bot: Bot, business: CadenceClient
) -> None:
    telegram = RecordingChannel("telegram")
    worker = Worker(bot, {"telegram": telegram})
    booking_id = await book_at_ten(bot)
    await business.reschedule_booking(booking_id, NOON)
    await business.cancel_booking(booking_id)
    moved = event("rescheduled", booking_id, NOON, created=60)
    cancelled = event("cancelled", booking_id, NOON, created=120, status="cancelled")

    await deliver(bot, worker, cancelled)
    await deliver(bot, worker, moved)

    assert len(told(telegram, "cancelled")) == 1
    assert told(telegram, "moved") == [], "a late move never revives a cancelled booking"
    assert bot.store.owned_bookings("telegram", CHAT) == []
    assert bot.store.get_job(f"reminder:{booking_id}") is None


async def test_a_move_in_the_same_second_as_a_cancel_never_revives_it(
    bot: Bot, business: CadenceClient
) -> None:
    """Cadence's created_at has whole seconds, so order can't always be told: a cancel is final."""
    telegram = RecordingChannel("telegram")
    worker = Worker(bot, {"telegram": telegram})
    booking_id = await book_at_ten(bot)
    await business.cancel_booking(booking_id)
    await deliver(bot, worker, event("cancelled", booking_id, TEN, created=60, status="cancelled"))
    await deliver(bot, worker, event("rescheduled", booking_id, NOON, created=60))
    assert told(telegram, "moved") == []
    assert bot.store.owned_bookings("telegram", CHAT) == []
    assert bot.store.get_job(f"reminder:{booking_id}") is None


async def test_with_the_key_a_late_move_of_a_booking_cancelled_since_tells_cancelled_once(
    bot: Bot, business: CadenceClient, keyed: bool
) -> None:
    """The older event arrives first, before the cancel's: re-reading says what is true now."""
    if not keyed:
        pytest.skip("needs the tenant's key to re-read the booking")
    telegram = RecordingChannel("telegram")
    worker = Worker(bot, {"telegram": telegram})
    booking_id = await book_at_ten(bot)
    await business.reschedule_booking(booking_id, NOON)
    await business.cancel_booking(booking_id)

    await deliver(bot, worker, event("rescheduled", booking_id, NOON, created=60))
    await deliver(bot, worker, event("cancelled", booking_id, NOON, created=120, status="cancelled"))

    assert told(telegram, "moved") == []
    assert len(told(telegram, "cancelled")) == 1
    assert bot.store.owned_bookings("telegram", CHAT) == []
    assert bot.store.get_job(f"reminder:{booking_id}") is None


async def test_with_the_key_an_older_move_arriving_first_tells_where_the_booking_is_now(
    bot: Bot, business: CadenceClient, keyed: bool
) -> None:
    if not keyed:
        pytest.skip("needs the tenant's key to re-read the booking")
    telegram = RecordingChannel("telegram")
    worker = Worker(bot, {"telegram": telegram})
    booking_id = await book_at_ten(bot)
    await business.reschedule_booking(booking_id, NOON)
    await business.reschedule_booking(booking_id, TWO)

    await deliver(bot, worker, event("rescheduled", booking_id, NOON, created=60))  # in order, the first late
    await deliver(bot, worker, event("rescheduled", booking_id, TWO, created=120))

    assert told(telegram, "moved") == ["Studio Salon moved your Haircut to Tue 2 Jun, 2:00 PM."]
    reminder = bot.store.get_job(f"reminder:{booking_id}")
    assert reminder is not None and reminder.run_at == TWO - LEAD


async def test_events_in_order_are_all_told(bot: Bot, business: CadenceClient) -> None:
    telegram = RecordingChannel("telegram")
    worker = Worker(bot, {"telegram": telegram})
    booking_id = await book_at_ten(bot)
    await business.reschedule_booking(booking_id, NOON)
    await deliver(bot, worker, event("rescheduled", booking_id, NOON, created=60))
    await business.reschedule_booking(booking_id, TWO)
    await deliver(bot, worker, event("rescheduled", booking_id, TWO, created=120))
    assert told(telegram, "moved") == [
        "Studio Salon moved your Haircut to Tue 2 Jun, 12:00 PM.",
        "Studio Salon moved your Haircut to Tue 2 Jun, 2:00 PM.",
    ]
