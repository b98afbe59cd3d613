"""Fuzz: 10,000 random inbound messages through the webhooks of both channels (issue 8).

What runs where (the choice the issue leaves open):

- the bot is ``cadence-bot serve``'s app (``open_bot`` + Telegram and SMS channels + ``create_app``, with
  its lifespan: webhook registration, resume loops, job worker), called in process through
  ``httpx.ASGITransport``: every message goes through the app's HTTP handlers, ``POST /telegram/webhook``
  with the secret header and ``POST /sms/twilio`` form-encoded and signed by the real ``twilio``
  RequestValidator for the public URL, but without a socket between the driver and the app. Uvicorn was
  measured first and was slower (one GIL for the server thread and the driver); the bot's own outgoing
  traffic, to Cadence and to the Bot API, does go over real sockets;
- the Cadence sandbox, the fake Telegram Bot API and the fake Twilio run in a child process
  (:class:`tests.reliability._chaos.OutsideWorld`): they get the second core, and the memory measured in
  this process is the bot's (and the driver's), not the fakes' records of every message.

50 Telegram chats and 50 SMS numbers talk at once, 100 messages each, one message in flight per chat.
Half the messages are steps that make sense in the chat's current dialog stage (business, service,
practitioner, "tomorrow 3pm", names, emails, phones, yes/no, taps on buttons really on screen), so
conversations reach every stage (the salon asks for a practitioner; Telegram chats and one SMS number in
five have no default business, so they start by naming it); the other half are junk: astral and emoji
text, RTL marks and combining characters, control characters including NUL, 10,000-character strings,
empty and whitespace-only texts, digits, impossible or far-off dates, slash commands, deep links to made-up
businesses and carrier keywords, markup and format strings, made-up callback data, shared contacts. Each
chat draws from its own generator seeded from :data:`SEED` and its index, so a chat's inputs are
reproducible (given the same replies; chats share the salon's slots).

The claims:

- no 5xx from either endpoint, ever (nor from ``/healthz`` or ``/metrics`` afterwards);
- every message is answered: on Telegram the fake Bot API accepts at least one ``sendMessage`` to the chat
  between the update's post and the end of its processing (the channel's ``on_done`` seam); on SMS the TwiML
  answer has a message (or says "One moment..." and a REST message follows). Silent by design, and checked
  as such: the carrier keywords Twilio answers itself (STOP, START and their synonyms) and texts from a
  number that opted out; an SMS form over the 64 KB cap is refused with 413 and not processed (Twilio sends
  at most 1,600 characters). A turn that crashed and got the engine's generic apology ("something went
  wrong") does not count as answered: its message was dropped (``cadence_bot_turns_total{result="error"}``
  must stay 0);
- memory is flat after a warm-up of 1,000 messages, measured after a full collection with freed heap
  pages handed back to the system (``malloc_trim``), at the warm-up, half way and the end:

  * no class of the bot's own (``bot``, ``channels``, ``cadence_adapter``) gains more than
    :data:`INSTANCES_BOUND` live instances: all 100 conversations exist after the warm-up, and everything
    per conversation lives in SQLite, so nothing of ours should scale with the number of messages;
  * the objects the garbage collector tracks grow by less than :data:`OBJECTS_BOUND` (a leak of a single
    container per message would add 9,000);
  * the resident set grows by less than :data:`RSS_SECOND_HALF_BOUND` over the second half (4,500
    messages): a leak of a kilobyte per message, one request body or update kept, shows as 4.5 MB there,
    while caches that fill and stop (SQLite's page cache, capped at 2 MB; locale and phone-number metadata
    loaded on first use; allocator arenas) grow in the first half and then level off (measured: 7-9 MB in
    the first half, 1.5-2.7 MB in the second). :data:`RSS_BOUND` caps the whole span as a sanity check.

Failures are reported by channel, chat index, message number, input category and length: no texts, no
numbers, nothing personal. ``CADENCE_BOT_FUZZ_PER_CHAT`` scales the run down for a quick local look (the
default, 100, is the issue's 10,000 messages).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import ctypes
import gc
import os
import random
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from channels.sms.compose import Keyword, keyword
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, twiml_bodies
from tests.reliability._chaos import (
    SALON_NUMBER,
    TELEGRAM_SECRET,
    BotApp,
    OutsideWorld,
    build_bot,
    telegram_message,
    telegram_tap,
)

pytestmark = pytest.mark.slow

SEED = 8_2026_06_01
CHATS = 50
"""Per channel."""
PER_CHAT = int(os.environ.get("CADENCE_BOT_FUZZ_PER_CHAT", "100"))
WARMUP_PER_CHAT = 10
"""Messages per chat before memory is first measured: 1,000 in all."""
INSTANCES_BOUND = 20
"""Growth, from the warm-up to the end, of the live instances of any one of the bot's own classes."""
OBJECTS_BOUND = 2_000
"""Growth, over the same span, of all the objects the garbage collector tracks."""
RSS_SECOND_HALF_BOUND = 5 * 1024 * 1024
"""Growth of the resident set from half way to the end (see the module's notes for the why)."""
RSS_BOUND = 24 * 1024 * 1024
"""Growth of the resident set from the warm-up to the end."""
SMS_MAX_BODY = 64 * 1024
UNMAPPED_NUMBER = "+351210000099"
"""An SMS number no tenant has: with no default tenant, its texters are asked for the business."""
WAIT = 60.0
"""Seconds an update may take before it counts as never processed (generous: a loaded CI machine)."""

# -- what customers send -----------------------------------------------------------------------------

SENSIBLE: dict[str, list[str]] = {
    "tenant": ["salon", "Studio Salon", "studio-salon", "/start salon", "t.me/cadence_test_bot?start=salon"],
    "service": ["haircut", "beard trim", "colour", "1", "2", "haircut tomorrow at 3pm", "Ana on friday"],
    "practitioner": ["Ana", "Rui", "anyone", "1", "2", "3"],
    "when": ["tomorrow 3pm", "tomorrow", "friday morning", "next week", "the 12th at 10", "tmrw 3", "sunday"],
    "slot": ["1", "2", "3", "later", "earlier", "another day", "2pm", "the first one", "4"],
    "details": ["Pat Patient", "Ana Lee", "pat@example.com", "+351912345678", "+1 212 555 0199", "José"],
    "confirm": ["1", "book it", "yes", "no", "2", "change time", "3"],
    "booked": ["my bookings", "cancel my booking", "move my booking", "haircut next week", "thanks"],
    "bookings": ["1", "2"],
    "booking": ["1", "2", "3", "keep it", "move it", "cancel it"],
    "cancel": ["yes", "1", "no", "keep it", "2"],
}
CONTACTS = ["+351912345678", "912", "not a phone", "+1 212 555 0199"]
"""Phone numbers shared with Telegram's contact button."""
ANYWHERE = ["start over", "help", "try again", "my time zone is Berlin", "language es", "language en"]
COMMANDS = [
    "/start", "/start salon", "/cancel", "/help", "/bookings", "/unknown", "/start@cadence_test_bot salon",
    "/", "//", "/tz Berlin", "/language es", "STOP", "stop", "Stop!", "HELP", "START", "UNSUBSCRIBE",
    "INFO", "cancel", "yes", "no", "language xx", "my time zone is Mars", "END", "quit", "unstop",
]  # fmt: skip
DATES = [
    "31/02", "2026-13-45", "30 feb", "yesterday", "in 1000 years", "12:99", "25pm", "0am", "next friday",
    "the 31st", "every day", "1/1/1", "9999-12-31T23:59:59Z", "mañana por la tarde",
    "nächsten Dienstag um 15 Uhr", "demain 15h", "amanhã às 15h", "29 feb 2027", "tomorrow at 24:00",
    "-1 days", "1970-01-01", "a week from last tuesday", "between 3 and 2", "half past 25",
    "between 1 june and 31 dec 9999", "31 dec 9999",
]  # fmt: skip
MARKUP = [
    "<b>bold</b>", "&amp; &lt;", "<script>alert(1)</script>", "]]><Response/>", "%s %d %n {0} {service}",
    "'; DROP TABLE conversations; --", "${jndi:ldap://x}", "{{7*7}}", "\\u0000", "</Message><Message>",
    "a" * 64 + "@" + "b" * 255 + ".com", "@@@", "+", "+" + "9" * 40, "mailto:", "http://",
]  # fmt: skip
WHITESPACE = ["", " ", "\t", "\n\n", "\u00a0", "\u200b", "\u3000", "\u2028", " \t\r\n ", "\ufeff"]

_RANGES = {
    "latin": (0x20, 0x24F),
    "greek_cyrillic": (0x370, 0x4FF),
    "hebrew": (0x5D0, 0x5EA),
    "arabic": (0x620, 0x64A),
    "devanagari": (0x900, 0x97F),
    "cjk": (0x4E00, 0x9FFF),
    "hangul": (0xAC00, 0xD7A3),
    "emoji": (0x1F300, 0x1FAFF),
    "math": (0x1D400, 0x1D7FF),
    "cjk_ext_b": (0x20000, 0x2A6DF),
    "private_use": (0xE000, 0xF8FF),
}
_BIDI = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = "".join(chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)))
_EMOJI_SEQUENCES = ["👩\u200d👩\u200d👧", "🇵🇹", "👍🏽", "❤\ufe0f", "1\ufe0f\u20e3", "🏳️\u200d🌈"]
"""ZWJ sequences, a flag, a skin tone, variation selectors, a keycap."""
_SLUG_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"


def _unicode(rng: random.Random, length: int) -> str:
    chars: list[str] = []
    while len(chars) < length:
        pick = rng.random()
        if pick < 0.1:  # a letter drowned in combining marks
            marks = "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(1, 30)))
            chars.append(rng.choice("aeiouxyz") + marks)
        elif pick < 0.15:
            chars.append(rng.choice(_BIDI))
        elif pick < 0.2:  # emoji ZWJ sequences, flags, skin tones, variation selectors
            chars.append(rng.choice(_EMOJI_SEQUENCES))
        else:
            low, high = rng.choice(list(_RANGES.values()))
            chars.append(chr(rng.randint(low, high)))
    return "".join(chars)


def _control(rng: random.Random) -> str:
    parts = [rng.choice(_CONTROL if rng.random() < 0.5 else "abc123 ") for _ in range(rng.randint(1, 40))]
    if rng.random() < 0.5:
        parts.insert(rng.randint(0, len(parts)), "\x00")
    return "".join(parts)


def _long(rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:
        return "a" * 10_000
    if kind == 1:
        return ("tomorrow at 3pm " * 700)[:10_000]
    if kind == 2:
        return "9" * 10_000
    if kind == 3:
        return "😀" * 10_000
    if kind == 4:
        return " " * 10_000
    if kind == 5:
        return "a" + "\u0301" * 9_999
    return (_unicode(rng, 250) * 40)[:10_000]  # random, and cheap to make


def _digits(rng: random.Random) -> str:
    return rng.choice(
        [
            str(rng.randint(-(10**30), 10**30)),
            str(rng.randint(0, 12)),
            "0",
            "00",
            "1.5",
            "½",
            "٣",
            "１２",
            "1e309",
            "NaN",
            "-0",
            "9" * 40,
            "0.0",
            "#1",
            "1)",
        ]
    )


JUNK: dict[str, Callable[[random.Random], str]] = {
    "unicode": lambda rng: _unicode(rng, rng.randint(1, 80)),
    "control": _control,
    "long": _long,
    "whitespace": lambda rng: rng.choice(WHITESPACE),
    "digits": _digits,
    "dates": lambda rng: rng.choice(DATES),
    "commands": lambda rng: rng.choice(COMMANDS),
    "markup": lambda rng: rng.choice(MARKUP),
    "slug": lambda rng: "/start " + "".join(rng.choice(_SLUG_CHARS) for _ in range(rng.randint(1, 64))),
}  # fmt: skip


CATEGORIES = ("sensible", "tap", "callback", "contact", "no text", *JUNK)
TELEGRAM_CHATS = 600_000
"""Chat ids of the Telegram customers start here."""


def _callback_junk(rng: random.Random) -> str:
    return rng.choice(
        [
            "",
            "9999.0",
            "0.0",
            "1.-1",
            "-1.0",
            "1.99999999999999999999",
            "a.b",
            ".",
            "1.",
            "¿.?",
            "😀" * 16,
            "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(rng.randint(1, 64))),
            f"{rng.randint(0, 40)}.{rng.randint(0, 12)}",
        ]
    )


# -- the tally ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts only (no per-message records), so the driver adds nothing to the memory measured."""

    messages: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    silent_by_design: int = 0
    too_large: int = 0
    late: int = 0
    slowest: float = 0.0
    stages: dict[str, set[str]] = field(default_factory=lambda: {"telegram": set(), "sms": set()})
    failures: list[str] = field(default_factory=list)

    def fail(self, channel: str, chat: int, number: int, category: str, text: str, problem: str) -> None:
        where = f"{channel} chat #{chat} message {number} ({category}, {len(text)} chars)"
        self.failures.append(f"{where}: {problem}")


_FIRST_PARTY = ("bot.", "channels.", "cadence_adapter.")


def _release_free_memory() -> None:
    """Hand freed heap pages back to the system (glibc), so RSS follows what is really in use."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass(frozen=True)
class Memory:
    """The process's memory at one moment, after a full collection."""

    rss: int
    """Resident set size in bytes, once freed heap pages are handed back."""
    census: Counter[str]
    """Live instances of the bot's own classes (bot, channels, cadence_adapter), by class."""
    objects: int
    """Every object the garbage collector tracks."""

    @classmethod
    def now(cls) -> Memory:
        gc.collect()
        _release_free_memory()
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        tracked = gc.get_objects()
        census: Counter[str] = Counter()
        for kind in map(type, tracked):
            module = kind.__dict__.get("__module__")
            if isinstance(module, str) and module.startswith(_FIRST_PARTY):
                census[f"{module}.{kind.__qualname__}"] += 1
        return cls(rss, census, len(tracked))

    def grown_since(self, earlier: Memory) -> Counter[str]:
        return self.census - earlier.census

    def __str__(self) -> str:
        return f"RSS {self.rss / 1e6:.1f} MB, {self.objects} objects tracked"


@dataclass
class Driver:
    """Sends each chat's messages through the app's webhooks and checks each answer."""

    built: BotApp
    bot_http: httpx.AsyncClient
    """To the app, in process (ASGI)."""
    http: httpx.AsyncClient
    """To the outside world's test views."""
    world: OutsideWorld
    tally: Tally
    loop: asyncio.AbstractEventLoop
    waiting: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    opted_out: set[int] = field(default_factory=set)
    windows: array[float] = field(default_factory=lambda: array("d", bytes(16 * CHATS * PER_CHAT)))
    """Per Telegram message: when it was posted and when its processing ended (0: never)."""
    kinds: array[int] = field(default_factory=lambda: array("B", bytes(CHATS * PER_CHAT)))
    lengths: array[int] = field(default_factory=lambda: array("l", bytes(8 * CHATS * PER_CHAT)))
    rngs: dict[tuple[str, int], random.Random] = field(default_factory=dict)
    update_ids: Iterator[int] = field(default_factory=lambda: iter(range(50_000_000, 60_000_000)))

    def rng(self, channel: str, chat: int) -> random.Random:
        key = (channel, chat)
        if key not in self.rngs:
            self.rngs[key] = random.Random(f"{SEED}:{channel}:{chat}")
        return self.rngs[key]

    def done(self, message_id: str) -> None:
        """The Telegram channel finished an update (its ``on_done`` seam)."""
        with contextlib.suppress(RuntimeError):  # the driver already stopped (a failure elsewhere)
            self.loop.call_soon_threadsafe(self._resolve, message_id)

    def _resolve(self, message_id: str) -> None:
        future = self.waiting.pop(message_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def stage(self, channel: str, chat_id: str) -> str:
        stored = await asyncio.to_thread(self.built.bot.store.load, channel, chat_id)
        stage = str(stored.state["stage"]) if stored.state else "new"
        self.tally.stages[channel].add(stage)
        return stage

    def text_for(self, rng: random.Random, stage: str) -> tuple[str, str]:
        """(category, text): a sensible step for ``stage``, or junk."""
        if rng.random() < 0.5:
            if rng.random() < 0.1:
                return "sensible", rng.choice(ANYWHERE)
            return "sensible", rng.choice(SENSIBLE.get(stage, SENSIBLE["tenant"]))
        category = rng.choice(list(JUNK))
        return category, JUNK[category](rng)

    def took(self, started: float) -> None:
        self.tally.slowest = max(self.tally.slowest, time.monotonic() - started)

    # -- Telegram -----------------------------------------------------------------------------------

    async def telegram_chat(self, index: int, messages: range) -> None:
        chat = TELEGRAM_CHATS + index
        rng = self.rng("telegram", index)
        last_keyboard: dict[str, Any] | None = None
        for number in messages:
            stage = await self.stage("telegram", str(chat))
            update_id = next(self.update_ids)
            roll = rng.random()
            keyboard = await self._keyboard(chat) if roll < 0.3 else None
            if keyboard is not None:  # a tap on a button really on screen
                buttons = [b for row in keyboard["reply_markup"]["inline_keyboard"] for b in row]
                category, text = "tap", str(rng.choice(buttons)["callback_data"])
                update = telegram_tap(chat, update_id, keyboard, text)
                last_keyboard = keyboard
            elif roll < 0.4:  # made-up data, on a keyboard seen before or on a message long gone
                carrier = last_keyboard or telegram_message(chat, 1, "an old offer")["message"]
                category, text = "callback", _callback_junk(rng)
                update = telegram_tap(chat, update_id, carrier, text)
            elif roll < 0.43:  # a shared contact, mostly the customer's own
                category, text = "contact", rng.choice(CONTACTS)
                owner = chat if rng.random() < 0.8 else 1
                contact = {"phone_number": text, "first_name": "Pat", "user_id": owner}
                update = telegram_message(chat, update_id, contact=contact)
            elif roll < 0.45:  # a sticker, a photo: no text at all
                category, text = "no text", ""
                update = telegram_message(chat, update_id, None)
            else:
                category, text = self.text_for(rng, stage)
                update = telegram_message(chat, update_id, text)
            await self._telegram_one(index, number, category, text, update)

    async def look(self, url: str) -> Any:
        """A test view of the outside world (retried: uvicorn may close an idle kept-alive connection
        just as it is reused)."""
        for attempt in range(3):
            try:
                response = await self.http.get(url)
            except httpx.TransportError:
                if attempt == 2:
                    raise
                continue
            return response.json()

    async def _keyboard(self, chat: int) -> dict[str, Any] | None:
        keyboard: dict[str, Any] | None = (await self.look(f"{self.world.telegram_url}/_test/chat/{chat}"))[
            "keyboard"
        ]
        return keyboard

    async def _telegram_one(
        self, index: int, number: int, category: str, text: str, update: dict[str, Any]
    ) -> None:
        self.tally.messages += 1
        self.tally.categories[category] += 1
        key = str(update["update_id"])
        finished = self.loop.create_future()
        self.waiting[key] = finished
        started = time.monotonic()
        try:
            response = await self.bot_http.post(
                "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
            )
        except httpx.TransportError as exc:
            self.waiting.pop(key, None)
            self.tally.fail("telegram", index, number, category, text, f"no answer: {type(exc).__name__}")
            return
        self.tally.statuses[response.status_code] += 1
        if response.status_code != 200:
            self.waiting.pop(key, None)
            self.tally.fail("telegram", index, number, category, text, f"HTTP {response.status_code}")
            return
        try:
            await asyncio.wait_for(finished, WAIT)
        except TimeoutError:
            self.waiting.pop(key, None)
            self.tally.fail("telegram", index, number, category, text, "never processed")
            return
        self.took(started)
        # Each chat has one update in flight, so what the fake accepted for the chat between the post
        # and the end of processing is this update's answer; checked at the end, in one look.
        slot = index * PER_CHAT + number
        self.windows[2 * slot], self.windows[2 * slot + 1] = started, time.monotonic()
        self.kinds[slot], self.lengths[slot] = CATEGORIES.index(category), len(text)

    async def check_telegram_answers(self) -> None:
        """Every processed update has at least one accepted ``sendMessage`` inside its window."""
        sends = await self.look(f"{self.world.telegram_url}/_test/sends")
        for index in range(CHATS):
            times = sorted(sends.get(str(TELEGRAM_CHATS + index), []))
            for number in range(PER_CHAT):
                slot = index * PER_CHAT + number
                start, end = self.windows[2 * slot], self.windows[2 * slot + 1]
                if end == 0:
                    continue  # not processed: already reported
                first = bisect.bisect_left(times, start)
                if first == len(times) or times[first] > end:
                    category = CATEGORIES[self.kinds[slot]]
                    text = "x" * self.lengths[slot]  # only its length is reported
                    self.tally.fail("telegram", index, number, category, text, "no message sent back")

    # -- SMS ----------------------------------------------------------------------------------------

    async def sms_chat(self, index: int, messages: range) -> None:
        number = f"+3519100{index:05d}"
        to = UNMAPPED_NUMBER if index % 5 == 0 else SALON_NUMBER
        rng = self.rng("sms", index)
        validator = RequestValidator(AUTH_TOKEN)
        for count in messages:
            stage = await self.stage("sms", number)
            if index in self.opted_out and rng.random() < 0.5:
                category, text = "sensible", rng.choice(["START", "unstop", "Yes"])
            else:
                category, text = self.text_for(rng, stage)
            sid = f"SM{uuid.UUID(int=rng.getrandbits(128)).hex}"
            params = {
                "ToCountry": "PT",
                "SmsMessageSid": sid,
                "NumMedia": "0",
                "SmsSid": sid,
                "SmsStatus": "received",
                "Body": text,
                "To": to,
                "NumSegments": "1",
                "MessageSid": sid,
                "AccountSid": ACCOUNT_SID,
                "From": number,
                "ApiVersion": "2010-04-01",
            }
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": validator.compute_signature(APP_URL + SMS_PATH, params),
            }
            await self._sms_one(index, count, category, text, urlencode(params).encode(), headers)

    async def _sms_one(
        self, index: int, count: int, category: str, text: str, body: bytes, headers: dict[str, str]
    ) -> None:
        self.tally.messages += 1
        self.tally.categories[category] += 1
        started = time.monotonic()
        try:
            response = await self.bot_http.post(SMS_PATH, content=body, headers=headers)
        except httpx.TransportError as exc:
            self.tally.fail("sms", index, count, category, text, f"no answer: {type(exc).__name__}")
            return
        self.took(started)
        status = response.status_code
        self.tally.statuses[status] += 1
        if len(body) > SMS_MAX_BODY:
            self.tally.too_large += 1
            if status != 413:
                self.tally.fail("sms", index, count, category, text, f"HTTP {status} for an oversized form")
            return
        if status != 200:
            self.tally.fail("sms", index, count, category, text, f"HTTP {status}")
            return
        bodies = twiml_bodies(response.text)
        kind = keyword(text)
        if kind in (Keyword.OPT_OUT, Keyword.OPT_IN):  # Twilio answers those itself
            (self.opted_out.add if kind is Keyword.OPT_OUT else self.opted_out.discard)(index)
            self.tally.silent_by_design += 1
            if bodies:
                self.tally.fail("sms", index, count, category, text, "a carrier keyword was answered")
        elif index in self.opted_out:  # Twilio would block any answer
            self.tally.silent_by_design += 1
            if bodies:
                self.tally.fail("sms", index, count, category, text, "an opted-out number was answered")
        elif not any(body.strip() for body in bodies):
            self.tally.fail("sms", index, count, category, text, "empty answer")
        elif bodies == ["One moment..."]:
            self.tally.late += 1  # the answer follows by REST: counted at the end


APP_URL = "http://bot.test"
"""The app's URL in process, which is also its public URL (what Twilio signs)."""
SMS_PATH = "/sms/twilio"


async def _drive(
    world: OutsideWorld, database: Path, tally: Tally
) -> tuple[Memory, Memory, Memory, int, list[str]]:
    built = build_bot(
        cadence_url=world.cadence_url,
        telegram_api=world.telegram_url,
        twilio_api=world.twilio_url,
        database=database,
        public_url=APP_URL,
        default_tenant=None,  # Telegram chats and the unmapped SMS number start by naming the business
        ask_practitioner=True,  # so the practitioner stage is part of every booking
        reply_budget=10,
    )
    app = built.app
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=APP_URL, timeout=60) as bot_http,
        httpx.AsyncClient(timeout=30, limits=limits) as http,
    ):
        driver = Driver(built, bot_http, http, world, tally, asyncio.get_running_loop())
        built.on_done.append(driver.done)

        async def phase(messages: range) -> None:
            await asyncio.gather(
                *(driver.telegram_chat(i, messages) for i in range(CHATS)),
                *(driver.sms_chat(i, messages) for i in range(CHATS)),
            )

        await phase(range(WARMUP_PER_CHAT))
        warm = Memory.now()
        half = (WARMUP_PER_CHAT + PER_CHAT) // 2
        await phase(range(WARMUP_PER_CHAT, half))
        middle = Memory.now()
        await phase(range(half, PER_CHAT))
        end = Memory.now()
        await driver.check_telegram_answers()
        for path in ("/healthz", "/metrics"):
            tally.statuses[(await bot_http.get(path)).status_code] += 1
        if tally.late:
            sent = (await driver.look(f"{world.twilio_url}/_test/sent"))["sent"]
            assert sum(sent.values()) >= tally.late, "every late answer went by REST"
        metrics = built.bot.metrics
        failed = sum(
            metrics.value("cadence_bot_turns_total", channel=channel, result="error")
            for channel in ("telegram", "sms")
        )
        errors = [line for line in metrics.render().splitlines() if "errors_total{" in line]
    return warm, middle, end, int(failed), errors


def test_ten_thousand_random_messages_no_5xx_all_answered_memory_flat(tmp_path: Path) -> None:
    tally = Tally()
    started = time.monotonic()
    with OutsideWorld() as world:
        warm, middle, end, failed_turns, errors = asyncio.run(_drive(world, tmp_path / "bot.db", tally))
    seconds = time.monotonic() - started

    print(
        f"\n{tally.messages} messages in {seconds:.1f}s (slowest answer {tally.slowest:.2f}s); "
        f"statuses {dict(tally.statuses)}; silent by design {tally.silent_by_design}, "
        f"too large {tally.too_large}, late {tally.late}; categories {dict(tally.categories)}; "
        f"stages telegram {sorted(tally.stages['telegram'])}, sms {sorted(tally.stages['sms'])}; "
        f"\nafter the warm-up: {warm}\nhalf way:         {middle}\nat the end:       {end}\n"
        f"grown since the warm-up: {dict(end.grown_since(warm).most_common(5))}\n" + "\n".join(errors)
    )
    assert tally.messages == 2 * CHATS * PER_CHAT
    problems: list[str] = []
    if any(status >= 500 for status in tally.statuses):
        problems.append(f"5xx answers: {dict(tally.statuses)}")
    if tally.failures:
        problems.append(f"{len(tally.failures)} messages not answered as they should be:")
        problems += [f"  {failure}" for failure in tally.failures[:40]]
    if failed_turns:
        problems.append(f"{failed_turns} turns crashed and got the generic apology; by kind: {errors}")
    every_stage = {"tenant", "service", "practitioner", "when", "slot", "details", "confirm", "booked"}
    for channel in ("telegram", "sms"):
        if missed := every_stage - tally.stages[channel]:
            problems.append(f"{channel} conversations never reached {sorted(missed)}")
    if missed := {"bookings", "booking", "cancel"} - (tally.stages["telegram"] | tally.stages["sms"]):
        problems.append(f"no conversation reached {sorted(missed)}")
    if grown := {kind: n for kind, n in end.grown_since(warm).items() if n > INSTANCES_BOUND}:
        problems.append(f"live instances of the bot's own classes grew after the warm-up: {grown}")
    if end.objects - warm.objects >= OBJECTS_BOUND:
        problems.append(f"tracked objects grew from {warm} to {end}")
    if end.rss - middle.rss >= RSS_SECOND_HALF_BOUND:
        problems.append(f"RSS still growing in the second half: {middle} half way, {end} at the end")
    if end.rss - warm.rss >= RSS_BOUND:
        problems.append(f"RSS grew from {warm} to {end}")
    assert not problems, "\n".join(problems)
