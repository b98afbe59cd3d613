"""kill -9 of ``cadence-bot serve`` mid-conversation, restart, carry on (issue 8, reliability suite).

The real command (``python -m bot.cli serve``, configured by its environment only, a SQLite file) runs
against the sandbox Cadence and a fake Bot API, both served by this test. Five Telegram customers book a
haircut each, by taps and typed words, over the webhook; Telegram's side is played faithfully: an update
whose POST did not get a 200 (the process died, or the connection broke) is POSTed again until one does.

While they talk, the process is killed with SIGKILL at seeded random points, one of each kind (one at a
time, each new process given a second to settle), and started again on the same port and database:

- ``after_post``: right after the webhook answered 200 to some update (stored, not yet answered);
- ``mid_reply``: as the Bot API takes one of a turn's replies (before the bot hears back, let alone
  finishes the update);
- ``booking``: while a booking request is in flight: Cadence has made the booking, and its answer is
  held back (a small ASGI middleware) until the process is dead;
- ``random``: at a random moment.

Asserted at the end:

- every conversation finished: each customer got "You're booked!";
- no duplicate booking: exactly one booking in Cadence per customer (a booking made while the bot
  was dying is found again through its idempotency key, not made twice);
- no message answered twice. The channel sends a turn's replies at least once (channels/telegram/
  channel.py: a turn it resumes from its inbox sends the committed replies again, because it cannot
  know whether they went out) and never re-sends for a redelivered update. So a message may arrive
  twice only for an update the kill interrupted while its replies were going out: committed, some
  reply already at the Bot API, still in the inbox. That set is read from the database while the
  process is dead, before each restart; any other repeat is a failure;
- nothing left in the bot's inbox.

Bounded: each turn must be answered within ``TURN_TIMEOUT`` seconds of its delivery, restarts included.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cadence_adapter import Booking, CadenceClient
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.channels.fake_telegram import BOT_TOKEN
from tests.conftest import free_port
from tests.reliability._served import Chat, IndexedTelegram, Sent, ServeProcess

SEED = 8
SLUG = "salon"
KEY = "ck_test_crash_key"
SECRET = "crash-webhook-secret"
ZONE = ZoneInfo("Europe/Lisbon")
TURN_TIMEOUT = 40.0
"""Seconds from an update's delivery to its answer, however many restarts lie between (an update can be
caught by two kills in a row)."""
SETTLE = 1.0
"""A new process runs at least this long before it may be killed again."""
BOOKING_DELAY = 0.5
"""How long Cadence's answer to a booking is held back: the window for the ``booking`` kill."""

GREETING = "Hi! I'm the booking assistant for Crash Salon."
ASK_SERVICE = "What would you like to book?"
BOOKED = "You're booked!"

CUSTOMERS = [
    ("Ana", "Almeida", "10am"),
    ("Bruno", "Barros", "11am"),
    ("Carla", "Costa", "12pm"),
    ("Duarte", "Dias", "2pm"),
    ("Eva", "Esteves", "3pm"),
]


def crash_seed() -> dict[str, Any]:
    every_day = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return {
        "orgs": [
            {
                "id": "org_crash",
                "slug": SLUG,
                "name": "Crash Salon",
                "timezone": "Europe/Lisbon",
                "api_keys": [KEY],
                "services": [
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


def booking_day() -> date:
    """The day after tomorrow in the salon's zone: named by its weekday, one day even across midnight."""
    return datetime.now(ZONE).date() + timedelta(days=2)


# -- Cadence with a booking answer held back ---------------------------------------------------------


class HeldBookings:
    """ASGI middleware for the sandbox: a booking POST is fully handled (the booking exists), then its
    answer waits ``delay`` seconds; ``on_answer(status)`` is called first (201 made, 200 an idempotent
    replay of one made before)."""

    def __init__(self, app: ASGIApp, delay: float, on_answer: Callable[[int], None]) -> None:
        self.app, self.delay, self.on_answer = app, delay, on_answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/bookings"):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        status = int(held[0]["status"]) if held and held[0]["type"] == "http.response.start" else 0
        await asyncio.to_thread(self.on_answer, status)
        await asyncio.sleep(self.delay)
        with contextlib.suppress(OSError, RuntimeError):  # the bot may be gone by now
            for message in held:
                await send(message)


# -- the killer ----------------------------------------------------------------------------------------


@dataclass
class Kill:
    kind: str
    at: float
    """Seconds since the conversations began."""
    detail: str
    inbox: list[str] = field(default_factory=list)
    """Update ids in the bot's inbox when it died (accepted, not finished)."""
    interrupted: dict[str, list[str]] = field(default_factory=dict)
    """Updates committed and partly answered but not finished, with their reply texts: these are sent
    again when the next process resumes them."""
    restart_seconds: float = 0.0


@dataclass
class Trigger:
    kind: str
    threshold: float
    """The first moment of its kind from this one on: the n-th POST answered 200 (after_post), message
    sent (mid_reply) or booking made (booking), or so many seconds in (random)."""
    fired: bool = False


class Killer:
    """Kills ``serve`` when a trigger's moment comes (one at a time, never within ``SETTLE`` of a start),
    reads what the dead process left in its database, and starts a new one."""

    def __init__(
        self, serve: ServeProcess, fake: IndexedTelegram, database: Path, triggers: list[Trigger]
    ) -> None:
        self.serve, self.fake, self.database, self.triggers = serve, fake, database, triggers
        self.kills: list[Kill] = []
        self.counts: Counter[str] = Counter()
        self.booking_answers: Counter[int] = Counter()
        self.began = time.monotonic()
        self._lock = threading.Lock()
        self._up_since = time.monotonic()
        self._down = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="killer", daemon=True)
        self.errors: list[BaseException] = []

    def start(self) -> None:
        self.began = self._up_since = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def now(self) -> float:
        return time.monotonic() - self.began

    # events, from the customers' threads, the Bot API's and Cadence's server threads
    def posted(self, update: dict[str, Any]) -> None:
        self._event("after_post", f"update {update['update_id']} answered 200")

    def sent(self, message: Sent) -> None:
        self._event("mid_reply", f"chat {message.chat_id}: {message.text.splitlines()[0][:40]!r} just sent")

    def booking_answered(self, status: int) -> None:
        with self._lock:
            self.booking_answers[status] += 1
        if status == 201:
            self._event("booking", "booking made in Cadence, its answer still held back")

    def _event(self, kind: str, detail: str) -> None:
        with self._lock:
            self.counts[kind] += 1
            count = self.counts[kind]
            for trigger in self.triggers:
                due = trigger.kind == kind and not trigger.fired and count >= trigger.threshold
                if due and self._kill(trigger, detail):
                    return

    def _kill(self, trigger: Trigger, detail: str) -> bool:
        """Under the lock: SIGKILL now, if the process is up and has settled."""
        if self._down.is_set() or time.monotonic() - self._up_since < SETTLE:
            return False
        self.serve.kill()
        trigger.fired = True
        self.kills.append(Kill(trigger.kind, self.now, detail))
        self._down.set()
        return True

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                with self._lock:
                    for trigger in self.triggers:
                        if trigger.kind == "random" and not trigger.fired and self.now >= trigger.threshold:
                            self._kill(trigger, "a random moment")
                if not self._down.wait(0.02):
                    continue
                kill = self.kills[-1]
                kill.inbox, kill.interrupted = self._left_behind()
                kill.restart_seconds = self.serve.start()
                with self._lock:
                    self._up_since = time.monotonic()
                    self._down.clear()
        except BaseException as exc:  # surfaced by the test
            self.errors.append(exc)

    def _left_behind(self) -> tuple[list[str], dict[str, list[str]]]:
        """What the dead process left: its inbox, and which of those updates had committed replies some
        of which had already reached the Bot API."""
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            inbox = [row[0] for row in db.execute("SELECT message_id FROM inbox WHERE channel = 'telegram'")]
            committed = db.execute(
                "SELECT chat_id, message_id, replies FROM processed_messages"
                f" WHERE channel = 'telegram' AND message_id IN ({', '.join('?' * len(inbox))})",
                inbox,
            ).fetchall()
        interrupted: dict[str, list[str]] = {}
        for chat_id, message_id, replies in committed:
            texts = [str(reply["text"]) for reply in json.loads(replies)]
            already = {sent.text for sent in self.fake.chat(int(chat_id))}
            if any(text in already for text in texts):
                interrupted[message_id] = texts
        return inbox, interrupted


# -- the customers -------------------------------------------------------------------------------------


@dataclass
class Customer:
    chat: Chat
    name: str
    when: str
    email: str
    turns: list[tuple[str, dict[str, Any], list[Sent]]] = field(default_factory=list)
    redelivered: int = 0
    booked: str | None = None


class Telegram:
    """Delivers updates as Telegram does: POSTed again until the webhook answers 200."""

    def __init__(self, url: str, killer: Killer) -> None:
        self.url, self.killer = url, killer

    def deliver(
        self, customer: Customer, client: httpx.Client, update: dict[str, Any], deadline: float
    ) -> None:
        for attempt in itertools.count():
            try:
                response = client.post(
                    f"{self.url}/telegram/webhook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                if response.status_code == 200:
                    self.killer.posted(update)
                    return
            except httpx.TransportError:
                pass
            if attempt:
                customer.redelivered += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update['update_id']} never accepted by the webhook")
            time.sleep(0.05 if attempt == 0 else 0.1)


def inbox_state(database: Path, update: dict[str, Any]) -> str:
    """Where the bot's database has this update: for a failure message."""
    key = str(update["update_id"])
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
        queued = db.execute(
            "SELECT received_at, lease_until, attempts FROM inbox"
            " WHERE channel = 'telegram' AND message_id = ?",
            [key],
        ).fetchone()
        done = db.execute(
            "SELECT 1 FROM processed_messages WHERE channel = 'telegram' AND message_id = ?", [key]
        ).fetchone()
    where = "processed" if done else "not processed"
    if queued is None:
        return f"{where}, not in the inbox"
    received, lease, attempts = queued
    return f"{where}, in the inbox since {received}, leased until {lease} ({attempts} attempt(s))"


def converse(
    customer: Customer, telegram: Telegram, fake: IndexedTelegram, day: date, database: Path
) -> None:
    chat = customer.chat
    steps: list[tuple[str, Callable[[], dict[str, Any]], str]] = [
        ("/start", lambda: chat.text(f"/start {SLUG}"), ASK_SERVICE),
        ("service", lambda: chat.tap("Haircut"), "When would you like to come for Haircut?"),
        (
            "when",
            lambda: chat.text(f"{day:%A} at {customer.when}"),
            "What name should I put the booking under?",
        ),
        ("name", lambda: chat.tap(f"Use {customer.name}"), "What's the best email or phone number"),
        ("email", lambda: chat.text(customer.email), "Ready to book:"),
        ("book", lambda: chat.tap("Book it"), BOOKED),
    ]
    with httpx.Client(timeout=10.0) as client:
        for step, make, answer in steps:
            update = make()
            before = fake.count(chat.chat_id)
            deadline = time.monotonic() + TURN_TIMEOUT
            telegram.deliver(customer, client, update, deadline)

            def answered(sent: list[Sent], before: int = before, answer: str = answer) -> bool:
                # a question may follow what was understood ("Haircut on Mon 7 Dec, 10:00 AM is open.")
                return any(line.startswith(answer) for s in sent[before:] for line in s.text.splitlines())

            if not fake.wait_for(chat.chat_id, answered, max(0.0, deadline - time.monotonic())):
                texts = [s.text.split("\n")[0][:50] for s in fake.chat(chat.chat_id)[before:]]
                raise AssertionError(
                    f"{customer.name}: {step!r} (update {update['update_id']}) unanswered "
                    f"{TURN_TIMEOUT:.0f}s after delivery (at {datetime.now(UTC):%H:%M:%S}); since then the "
                    f"chat got {texts}; the update is {inbox_state(database, update)}"
                )
            replies = fake.chat(chat.chat_id)[before:]
            customer.turns.append((step, update, replies))
    [confirmation] = [s.text for s in replies if s.text.startswith(BOOKED)]
    customer.booked = confirmation.rsplit("Reference: ", 1)[1].rstrip(".")


# -- the test ------------------------------------------------------------------------------------------


@dataclass
class World:
    fake: IndexedTelegram
    cadence: str
    serve: ServeProcess
    database: Path
    on_booking: list[Callable[[int], None]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    fake = IndexedTelegram()
    on_booking: list[Callable[[int], None]] = []

    def answered(status: int) -> None:
        for hook in on_booking:
            hook(status)

    sandbox = HeldBookings(create_sandbox(seed=crash_seed(), rate_limit=None), BOOKING_DELAY, answered)
    database = tmp_path / "bot.db"
    with serving(sandbox) as cadence, serving(fake.app) as fake_url:
        env = {
            "CADENCE_BASE_URL": cadence,
            "BOT_DEFAULT_TENANT": SLUG,
            "CADENCE_ORG_API_KEY": KEY,
            "BOT_DATABASE": str(database),
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": fake_url,
        }
        serve = ServeProcess(free_port(), env, tmp_path / "logs")
        try:
            yield World(fake, cadence, serve, database, on_booking)
        finally:
            fake.on_send = None
            serve.stop()


def plan(rng: random.Random) -> list[Trigger]:
    """One kill of each kind, at seeded random points."""
    return [
        Trigger("after_post", rng.randint(3, 14)),
        Trigger("mid_reply", rng.randint(4, 16)),
        Trigger("booking", rng.randint(1, 2)),
        Trigger("random", rng.uniform(1.5, 6.0)),
    ]


async def _bookings(cadence: str) -> list[Booking]:
    async with CadenceClient(cadence, KEY) as keyed:
        return await keyed.list_bookings()


def test_kill_9_mid_conversation_loses_nothing_and_repeats_nothing(world: World) -> None:
    rng = random.Random(SEED)
    fake, day = world.fake, booking_day()
    customers = [
        Customer(Chat(fake, 30_000 + i, first, last), f"{first} {last}", when, f"{first.lower()}@example.com")
        for i, (first, last, when) in enumerate(CUSTOMERS)
    ]
    triggers = plan(rng)
    world.serve.start()
    killer = Killer(world.serve, fake, world.database, triggers)
    fake.on_send = killer.sent
    world.on_booking.append(killer.booking_answered)
    telegram = Telegram(world.serve.url, killer)
    failures: list[BaseException] = []

    def run(customer: Customer, delay: float) -> None:
        time.sleep(delay)
        try:
            converse(customer, telegram, fake, day, world.database)
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=run, args=(customer, i * 0.6), name=customer.name)
        for i, customer in enumerate(customers)
    ]
    killer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TURN_TIMEOUT * 7)
    killer.stop()
    elapsed = killer.now
    report = "\n".join(
        f"  kill {n} at {k.at:5.1f}s {k.kind:10} {k.detail}; inbox {k.inbox}; "
        f"interrupted {sorted(k.interrupted)}; restarted in {k.restart_seconds:.1f}s"
        for n, k in enumerate(killer.kills, 1)
    )
    print(f"\ncrash test: {elapsed:.1f}s, {len(killer.kills)} kills\n{report}")
    assert not killer.errors, killer.errors
    if failures:
        raise AssertionError(f"{failures[0]}\nkills:\n{report}") from failures[0]
    assert not any(thread.is_alive() for thread in threads)

    # One kill of each kind happened.
    assert sorted(k.kind for k in killer.kills) == sorted(t.kind for t in triggers), report

    # Every conversation finished, with exactly one booking per customer in Cadence.
    made = asyncio.run(_bookings(world.cadence))
    by_customer = Counter(b.customer.email if b.customer else None for b in made)
    assert by_customer == {c.email: 1 for c in customers}, by_customer
    assert sorted(c.booked or "" for c in customers) == sorted(b.id for b in made)
    if any(k.kind == "booking" for k in killer.kills):
        assert killer.booking_answers[200] >= 1, "the booking made while the bot died was not found again"

    # Nothing left half done: what a kill interrupted after its answer went out is resumed too.
    assert wait_inbox_empty(world.database, TURN_TIMEOUT), (
        f"left in the inbox {TURN_TIMEOUT:.0f}s after the last answer: "
        f"{[inbox_state(world.database, {'update_id': key}) for key in inbox(world.database)]}"
    )
    # A resumed message leaves the inbox once its replies went out (or wait in the outbox): wait for that.
    assert wait_outbox_empty(world.database, TURN_TIMEOUT), "replies left waiting in the outbox"

    # No message answered twice, but for what a kill interrupted while it was being answered.
    again: dict[str, list[str]] = {}
    for kill in killer.kills:
        again.update(kill.interrupted)
    repeated: dict[str, list[str]] = {}
    for customer in customers:
        sent = [s.text for s in fake.chat(customer.chat.chat_id)]
        assert sent[:2] == [GREETING, ASK_SERVICE], (customer.name, sent)
        repeats = [text for text, n in Counter(sent).items() for _ in range(n - 1)]
        excused = {
            text for update in customer.chat.updates for text in again.get(str(update["update_id"]), [])
        }
        assert [t for t in repeats if t not in excused] == [], (customer.name, sent, report)
        repeated[customer.name] = [
            f"{text[:24]!r}: messages {[n for n, t in enumerate(sent, 1) if t == text]} of {len(sent)}"
            for text in repeats
        ]
    print(f"sent again after a resume (at least once, by design): {repeated}")
    print(
        f"redelivered POSTs: {[c.redelivered for c in customers]}; booking answers {killer.booking_answers}"
    )


def inbox(database: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
        return [row[0] for row in db.execute("SELECT message_id FROM inbox")]


def wait_outbox_empty(database: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    query = "SELECT count(*) FROM jobs WHERE kind = 'send' AND done_at IS NULL"
    while True:
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
            if not db.execute(query).fetchone()[0]:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def wait_inbox_empty(database: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while inbox(database):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
