"""200 customers race for 10 open slots through the Telegram webhook (issue 8, reliability suite).

The tenant has one practitioner and one 15-minute service, open 09:00-11:30 every day: ten slots on the
day every customer asks for (the day after tomorrow, named by its weekday). ``cadence-bot serve`` runs
as a real process (its own CPU, production settings: webhook mode, pacing, a SQLite file) against the
sandbox Cadence (another process) and a fake Bot API served here.

200 Telegram chats talk to it at once, each posting its updates to ``POST /telegram/webhook`` with the
secret header, over at most 40 connections, as Telegram does: the day (the bot greets and offers five
times), then a time: half of them the first time offered (100 customers on one slot), the others one of
the other nine at random (seeded), tapped when it is on the keyboard and typed the way the bot writes
it ("9:15 AM") when it is not; then a tap on the name Telegram knows, and an email. When every chat is
at "Ready to book", all 200 tap "Book it" together. A loser is told the time was taken and shown what
is still open; it taps one of those at random and tries again, until it is booked or is told nothing is
open that day.

Asserted: exactly 10 bookings in Cadence, none overlapping, each announced ("You're booked!" with its
reference) to exactly one customer, whose name and email it carries; the other 190 were told the time
was taken and, in the same answer, offered other times or told nothing is left; every update was
answered, and answered once (no chat got more messages than its turns' answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.i18n import t
from cadence_adapter import Booking, CadenceClient
from cadence_adapter.sandbox.server import serving
from tests.channels.fake_telegram import BOT_TOKEN
from tests.conftest import free_port
from tests.reliability._served import Chat, IndexedTelegram, Sent, ServeProcess, sandbox_process, slot_labels

CUSTOMERS = 200
SLOTS = 10
SLUG = "race"
KEY = "ck_test_race_key"
SECRET = "race-webhook-secret"
ZONE = ZoneInfo("Europe/Lisbon")
MAX_ROUNDS = 12
"""Attempts at "Book it" per customer; with ten slots nobody needs nearly this many."""
TURN_TIMEOUT = 45.0
RACE_TIMEOUT = 90.0
"""Guards against a hang, not speed requirements: the race takes 20-30 s on two cores, and under a
burst of 200 new chats a first answer may take 25 s."""

READY = "Ready to book:"
BOOKED = "You're booked!"
TAKEN = {t("en", "slot_taken"), t("en", "slot_not_open")}
NOTHING_AT_ALL = t("en", "nothing_at_all")


def race_seed() -> dict[str, Any]:
    every_day = {day: [["09:00", "11:30"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return {
        "orgs": [
            {
                "id": "org_race",
                "slug": SLUG,
                "name": "Race Clinic",
                "timezone": "Europe/Lisbon",
                "api_keys": [KEY],
                "services": [{"id": "svc_quick", "name": "Quick check", "duration_minutes": 15}],
                "practitioners": [
                    {"id": "prac_ana", "name": "Ana", "service_ids": ["svc_quick"], "hours": every_day}
                ],
            }
        ]
    }


def race_day() -> date:
    """The day raced for: the day after tomorrow in the clinic's zone, so a run across midnight still
    names one day by its weekday (the dialog reads a weekday alone as its next occurrence)."""
    return datetime.now(ZONE).date() + timedelta(days=2)


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"  # "Mon 30 Nov", as the bot writes it


FIRST = ["Ana", "Bruno", "Carla", "Duarte", "Eva", "Filipe", "Gabriela", "Hugo", "Ines", "Joao"]
FIRST += ["Katia", "Luis", "Marta", "Nuno", "Olga", "Pedro", "Rita", "Sergio", "Teresa", "Vasco"]
LAST = ["Almeida", "Barros", "Costa", "Dias", "Esteves", "Fonseca", "Gomes", "Henriques", "Lopes", "Moura"]


@dataclass
class Racer:
    chat: Chat
    name: str
    email: str
    rng: random.Random
    turns: list[tuple[dict[str, Any], list[Sent]]] = field(default_factory=list)
    """Every update this customer sent, with the messages the bot answered it with."""
    want: str = "9:00 AM"
    """The time picked first."""
    booked: str | None = None
    attempts: int = 0
    outcome: str = "unfinished"


Final = Callable[[list[Sent]], bool]


def ends_with(prefix: str) -> Final:
    """The turn is answered once a message with a line starting with ``prefix`` has come (a question
    may follow what was understood: "Haircut on Mon 7 Dec, 10:00 AM is open.")."""
    return lambda sent: any(line.startswith(prefix) for s in sent for line in s.text.splitlines())


def booked_or_refused(sent: list[Sent]) -> bool:
    """ "Book it" is answered by the confirmation, or by the refusal and what comes with it."""
    if sent and sent[0].text.startswith(BOOKED):
        return True
    return len(sent) >= 2 and sent[0].text in TAKEN


class Race:
    """The customers' side: posts updates as Telegram does, and waits for the bot's answer to each."""

    def __init__(self, fake: IndexedTelegram, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.fake, self.url, self.loop = fake, url, loop
        self.arrived: dict[int, asyncio.Event] = {}
        self.redelivered: list[str] = []
        fake.on_send = self._on_send
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=40)  # Telegram's default
        self.client = httpx.AsyncClient(limits=limits, timeout=TURN_TIMEOUT)

    def _on_send(self, sent: Sent) -> None:  # in the fake's server thread
        event = self.arrived.get(sent.chat_id)
        if event is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(event.set)

    async def post(self, update: dict[str, Any]) -> None:
        for attempt in itertools.count(1):
            try:
                response = await self.client.post(
                    f"{self.url}/telegram/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
            except httpx.TransportError as exc:  # Telegram delivers again an update whose POST failed
                self.redelivered.append(f"{update['update_id']}: {type(exc).__name__}")
                if attempt >= 3:
                    raise
                continue
            assert response.status_code == 200, (response.status_code, response.text)
            return

    async def turn(self, racer: Racer, update: dict[str, Any], final: Final) -> list[Sent]:
        """Deliver ``update`` and return what the bot sent back for it (until ``final`` holds)."""
        chat_id = racer.chat.chat_id
        event = self.arrived.setdefault(chat_id, asyncio.Event())
        before = self.fake.count(chat_id)
        await self.post(update)
        deadline = time.monotonic() + TURN_TIMEOUT
        while not final(replies := self.fake.chat(chat_id)[before:]):
            event.clear()
            if final(replies := self.fake.chat(chat_id)[before:]):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                texts = [s.text[:60] for s in replies]
                raise AssertionError(f"chat {chat_id}: update {update['update_id']} unanswered: {texts}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)
        racer.turns.append((update, replies))
        return replies


def _texts(replies: list[Sent]) -> list[str]:
    return [sent.text for sent in replies]


def slot_times(day: date) -> list[datetime]:
    opening = datetime.combine(day, datetime.min.time(), ZONE).replace(hour=9)
    return [opening + timedelta(minutes=15 * i) for i in range(SLOTS)]


def clock_label(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment:%M} {moment:%p}"  # "9:15 AM", as the bot writes it


async def converse(race: Race, racer: Racer, day: date, everyone_ready: asyncio.Barrier) -> None:
    """One customer: up to "Ready to book", wait for everyone, then book or be told there's nothing."""
    chat, offer_heading = racer.chat, f"Open times for Quick check on {day_label(day)}:"
    replies = await race.turn(racer, chat.text(f"{day:%A}"), ends_with("Open times"))
    assert _texts(replies) == ["Hi! I'm the booking assistant for Race Clinic.", offer_heading]
    offered = slot_labels(replies[-1].message)
    assert offered[0] == "9:00 AM", offered
    # Half of them want the first time offered, the others any other time of the day: a tap when it
    # is on the keyboard, typed when it is not.
    wanted = racer.want
    replies = await race.turn(
        racer, chat.tap(wanted) if wanted in offered else chat.text(wanted), ends_with("What name")
    )
    replies = await race.turn(racer, chat.tap(f"Use {racer.name}"), ends_with("What's the best email"))
    replies = await race.turn(racer, chat.text(racer.email), ends_with(READY))
    chosen = replies[-1].text.splitlines()[2]
    assert chosen == f"{day_label(day)}, {wanted}", f"asked for {wanted!r}, about to book {chosen!r}"

    await everyone_ready.wait()
    nothing_on = t("en", "nothing_on", days=day_label(day)).split(".")[0]
    while racer.attempts < MAX_ROUNDS:
        racer.attempts += 1
        replies = await race.turn(racer, chat.tap("Book it"), booked_or_refused)
        texts = _texts(replies)
        if texts[0].startswith(BOOKED):
            racer.booked = texts[0].rsplit("Reference: ", 1)[1].rstrip(".")
            racer.outcome = "booked"
            return
        if texts[1].startswith(nothing_on) or texts[1] == NOTHING_AT_ALL:
            racer.outcome = "nothing left"
            return
        assert texts[1] == offer_heading, texts
        pick = racer.rng.choice(slot_labels(replies[1].message))
        await race.turn(racer, chat.tap(pick), ends_with(READY))
    racer.outcome = "gave up"


async def run_race(fake: IndexedTelegram, url: str, racers: list[Racer], day: date) -> Race:
    race = Race(fake, url, asyncio.get_running_loop())
    barrier = asyncio.Barrier(len(racers))
    try:
        tasks = [asyncio.create_task(converse(race, racer, day, barrier)) for racer in racers]
        done, pending = await asyncio.wait(tasks, timeout=RACE_TIMEOUT, return_when=asyncio.FIRST_EXCEPTION)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # the first failure, with its message
        assert not pending, f"{len(pending)} conversations unfinished after {RACE_TIMEOUT}s"
    finally:
        fake.on_send = None
        await race.client.aclose()
    return race


@dataclass
class World:
    fake: IndexedTelegram
    cadence: str
    serve: ServeProcess


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fake = IndexedTelegram()
    with sandbox_process(race_seed()) as cadence, serving(fake.app) as fake_url:
        env = {
            "CADENCE_BASE_URL": cadence,
            "BOT_DEFAULT_TENANT": SLUG,
            "CADENCE_ORG_API_KEY": KEY,
            "BOT_DATABASE": str(tmp_path / "bot.db"),
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": fake_url,
        }
        serve = ServeProcess(free_port(), env, tmp_path / "logs")
        try:
            yield World(fake, cadence, serve)
        finally:
            serve.stop()


def drained(database: str, timeout: float) -> bool:
    """The bot's inbox and outbox are empty (read from its SQLite file), within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
            waiting = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
            waiting += db.execute(
                "SELECT count(*) FROM jobs WHERE kind = 'send' AND done_at IS NULL"
            ).fetchone()[0]
        if not waiting:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def _overlapping(bookings: list[Booking]) -> list[tuple[str, str]]:
    ordered = sorted(bookings, key=lambda b: b.start)
    for booking in ordered:
        assert booking.end is not None, booking
    return [(a.id, b.id) for a, b in itertools.pairwise(ordered) if a.end is None or b.start < a.end]


async def _bookings(cadence: str) -> list[Booking]:
    async with CadenceClient(cadence, KEY) as keyed:
        return await keyed.list_bookings()


def test_200_customers_race_for_10_slots(world: World) -> None:
    fake, day = world.fake, race_day()
    rng = random.Random(20260601)
    racers = []
    for i in range(CUSTOMERS):
        first, last = FIRST[i % len(FIRST)], LAST[i // len(FIRST)]
        chat = Chat(fake, chat_id=10_000 + i, first_name=first, last_name=last)
        racer = Racer(chat, f"{first} {last}", f"racer{i}@example.com", random.Random(rng.random()))
        if i % 2:
            racer.want = rng.choice([clock_label(moment) for moment in slot_times(day)[1:]])
        racers.append(racer)
    world.serve.start()
    started = time.monotonic()
    race = asyncio.run(run_race(fake, world.serve.url, racers, day))
    elapsed = time.monotonic() - started
    # Anything that could still be sent (a message resumed from the inbox, a reply in the outbox) is
    # waited for: once both are empty, nothing more can arrive.
    assert drained(world.serve.env["BOT_DATABASE"], timeout=20), "the inbox or the outbox never emptied"
    made = asyncio.run(_bookings(world.cadence))

    # Exactly ten bookings, one per slot, none overlapping, all on the day raced for.
    assert len(made) == SLOTS, [(b.id, b.start) for b in made]
    assert not _overlapping(made)
    assert sorted(b.start for b in made) == slot_times(day)

    # Each booking announced to exactly one customer, the one it is for.
    winners = [r for r in racers if r.outcome == "booked"]
    assert sorted(r.booked or "" for r in winners) == sorted(b.id for b in made)
    by_id = {b.id: b for b in made}
    for racer in winners:
        customer = by_id[racer.booked or ""].customer
        assert customer is not None
        assert (customer.name, customer.email) == (racer.name, racer.email)

    # Everyone else: told it was taken, and in the same answer offered other times or told it's over.
    losers = [r for r in racers if r.outcome != "booked"]
    assert Counter(r.outcome for r in losers) == {"nothing left": CUSTOMERS - SLOTS}
    for racer in losers:
        refusals = [replies for _, replies in racer.turns if replies[0].text in TAKEN]
        assert len(refusals) == racer.attempts
        assert not any(BOOKED in s.text for _, replies in racer.turns for s in replies)

    # Every update answered, and answered once.
    for racer in racers:
        assert len(racer.turns) == len(racer.chat.updates)
        sent = fake.chat(racer.chat.chat_id)
        assert [s.text for s in sent] == [s.text for _, replies in racer.turns for s in replies]
    updates = sum(len(r.turns) for r in racers)
    rounds = Counter(r.attempts for r in racers)
    print(f"\nrace: {updates} updates from {CUSTOMERS} chats in {elapsed:.1f}s")
    print(f"attempts at booking: {sorted(rounds.items())}; redelivered: {race.redelivered}")
