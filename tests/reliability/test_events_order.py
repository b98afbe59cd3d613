"""Cadence's webhook events delivered newest first, through the real ``cadence-bot serve`` (issue 16,
item 2). Cadence retries a failed delivery with backoff, so an older event can arrive after a newer
one. The bot runs as a process (:class:`ServeProcess`, configured by its environment only) against the
sandbox Cadence and a fake Bot API served here; two customers book over the Telegram webhook, then the
business changes their bookings in Cadence, and this test delivers the signed events itself, in
reverse order, as a retrying Cadence would:

- two reschedules (10am -> 12pm -> 2pm), newest first: the customer is told "moved to 2:00 PM" once,
  never 12:00 PM, and the reminder is at 2pm's lead time;
- a cancel delivered before an older reschedule: told "cancelled" once, never "moved", and no reminder.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from cadence_adapter import Booking, CadenceClient, sign
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.channels.fake_telegram import BOT_TOKEN
from tests.conftest import free_port
from tests.reliability._served import Chat, IndexedTelegram, Sent, ServeProcess

SLUG = "salon"
KEY = "ck_test_events_key"
TELEGRAM_SECRET = "events-telegram-secret"
WEBHOOK_SECRET = "whsec_events_order"
ZONE = ZoneInfo("Europe/Lisbon")
TIMEOUT = 20.0
BOOKED = "You're booked!"
LEAD = timedelta(hours=24)
"""The reminder's lead time (the default ``reminder_lead_hours``)."""


def seed() -> dict[str, Any]:
    every_day = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return {
        "orgs": [
            {
                "id": "org_events",
                "slug": SLUG,
                "name": "Order Salon",
                "timezone": "Europe/Lisbon",
                "api_keys": [KEY],
                "services": [  # two, so the bot asks which (one alone is taken as said)
                    {"id": "svc_cut", "name": "Haircut", "duration_minutes": 30},
                    {"id": "svc_beard", "name": "Beard trim", "duration_minutes": 15},
                ],
                "practitioners": [
                    {
                        "id": "prac_ana",
                        "name": "Ana",
                        "service_ids": ["svc_cut", "svc_beard"],
                        "hours": every_day,
                    }
                ],
            }
        ]
    }


@dataclass
class World:
    fake: IndexedTelegram
    cadence: str
    serve: ServeProcess
    database: Path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fake = IndexedTelegram()
    database = tmp_path / "bot.db"
    with serving(create_sandbox(seed=seed(), rate_limit=None)) as cadence, serving(fake.app) as fake_url:
        env = {
            "CADENCE_BASE_URL": cadence,
            "BOT_DEFAULT_TENANT": SLUG,
            "CADENCE_ORG_API_KEY": KEY,  # the worker re-reads a booking before telling its customer
            "CADENCE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BOT_DATABASE": str(database),
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_API_BASE_URL": fake_url,
        }
        serve = ServeProcess(free_port(), env, tmp_path / "logs")
        serve.start()
        try:
            yield World(fake, cadence, serve, database)
        finally:
            serve.stop()


# -- the customers' side ------------------------------------------------------------------------------


def say(world: World, chat: Chat, update: dict[str, Any], answer: str) -> None:
    """Deliver ``update`` to the webhook as Telegram does and wait for a reply starting with ``answer``."""
    before = world.fake.count(chat.chat_id)
    response = httpx.post(
        f"{world.serve.url}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        timeout=10.0,
    )
    assert response.status_code == 200, response.text

    def answered(sent: list[Sent]) -> bool:
        return any(line.startswith(answer) for s in sent[before:] for line in s.text.splitlines())

    assert world.fake.wait_for(chat.chat_id, answered, TIMEOUT), f"no {answer!r}: {world.serve.log_tail()}"


def book(world: World, chat: Chat, day: date) -> Booking:
    """A haircut at 10am on ``day``, booked through the bot; returns it as Cadence has it."""
    say(world, chat, chat.text(f"/start {SLUG}"), "What would you like to book?")
    say(world, chat, chat.tap("Haircut"), "When would you like to come for Haircut?")
    say(world, chat, chat.text(f"{day:%A} at 10am"), "What name should I put the booking under?")
    say(world, chat, chat.tap(f"Use {chat.first_name} {chat.last_name}"), "What's the best email or phone")
    say(world, chat, chat.text(f"{chat.first_name.lower()}@example.com"), "Ready to book:")
    say(world, chat, chat.tap("Book it"), BOOKED)
    name = f"{chat.first_name} {chat.last_name}"
    [booking] = [b for b in cadence_bookings(world) if b.customer and b.customer.name == name]
    return booking


def texts_since(world: World, chat: Chat, booked: int) -> list[str]:
    return [s.text for s in world.fake.chat(chat.chat_id)[booked:]]


# -- the business's side: Cadence, and its webhook deliveries --------------------------------------------


def keyed(world: World, call: Any) -> Any:
    async def run() -> Any:
        async with CadenceClient(world.cadence, KEY) as client:
            return await call(client)

    return asyncio.run(run())


def cadence_bookings(world: World) -> list[Booking]:
    result: list[Booking] = keyed(world, lambda client: client.list_bookings())
    return result


def event(kind: str, booking: Booking, number: int) -> dict[str, Any]:
    """The event Cadence sends for a change, stamped now: events made later are newer."""
    return {
        "id": f"evt_{booking.id}_{number}",
        "type": kind,
        "created_at": datetime.now(UTC).isoformat(),
        "data": booking.model_dump(mode="json"),
    }


def deliver(world: World, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    response = httpx.post(
        f"{world.serve.url}/cadence/webhook/{SLUG}",
        content=raw,
        headers={"Content-Type": "application/json", "X-Cadence-Signature": sign(WEBHOOK_SECRET, raw)},
        timeout=10.0,
    )
    assert response.status_code == 200 and response.json() == {"received": True, "duplicate": False}


def wait_processed(world: World, *events: dict[str, Any]) -> None:
    """Until the worker has finished every one of ``events``' jobs (read from the bot's database)."""
    keys = [f"event:{SLUG}:{e['id']}" for e in events]
    deadline = time.monotonic() + TIMEOUT
    while True:
        with sqlite3.connect(world.database, timeout=10) as db:
            marks = "?, " * (len(keys) - 1) + "?"
            done = db.execute(
                f"SELECT count(*) FROM jobs WHERE key IN ({marks}) AND done_at IS NOT NULL", keys
            ).fetchone()[0]
        if done == len(keys):
            return
        assert time.monotonic() < deadline, f"events not processed: {world.serve.log_tail()}"
        time.sleep(0.05)


def reminder_at(world: World, booking_id: str) -> datetime | None:
    """When the booking's pending reminder is due; None when there is none."""
    with sqlite3.connect(world.database, timeout=10) as db:
        row = db.execute(
            "SELECT run_at FROM jobs WHERE key = ? AND done_at IS NULL", [f"reminder:{booking_id}"]
        ).fetchone()
    return datetime.fromisoformat(row[0]) if row else None


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


# -- the test -------------------------------------------------------------------------------------------


def test_events_delivered_newest_first_leave_the_newest_state_told_once(world: World) -> None:
    day = datetime.now(ZONE).date() + timedelta(days=2)  # named by its weekday; reminders in the future
    moved = Chat(world.fake, 61_001, "Mia", "Patient")
    cancelled = Chat(world.fake, 61_002, "Noa", "Patient")
    first = book(world, moved, day)
    second = book(world, cancelled, day + timedelta(days=1))
    assert reminder_at(world, first.id) == at(day, 10) - LEAD
    told_moved, told_cancelled = world.fake.count(moved.chat_id), world.fake.count(cancelled.chat_id)

    # Two reschedules, 10am -> 12pm -> 2pm, and a reschedule then a cancel, each event stamped as made.
    to_noon = keyed(world, lambda c: c.reschedule_booking(first.id, at(day, 12)))
    older_move = event("booking.rescheduled", to_noon, 1)
    to_two = keyed(world, lambda c: c.reschedule_booking(first.id, at(day, 14)))
    newer_move = event("booking.rescheduled", to_two, 2)
    moved_then = keyed(world, lambda c: c.reschedule_booking(second.id, at(day + timedelta(days=1), 12)))
    older_reschedule = event("booking.rescheduled", moved_then, 1)
    gone = keyed(world, lambda c: c.cancel_booking(second.id))
    newer_cancel = event("booking.cancelled", gone, 2)

    # Cadence's retries deliver them newest first.
    deliver(world, newer_move)
    deliver(world, newer_cancel)
    wait_processed(world, newer_move, newer_cancel)
    deliver(world, older_move)
    deliver(world, older_reschedule)
    wait_processed(world, older_move, older_reschedule)

    told = texts_since(world, moved, told_moved)
    assert len(told) == 1 and "moved your Haircut" in told[0] and "2:00 PM" in told[0], told
    assert reminder_at(world, first.id) == at(day, 14) - LEAD, "the reminder follows the newest time"

    told = texts_since(world, cancelled, told_cancelled)
    assert len(told) == 1 and "has been cancelled" in told[0], told
    assert not any("moved" in text for text in told)
    assert reminder_at(world, second.id) is None, "a cancelled booking is never reminded"
