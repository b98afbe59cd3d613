"""Whole conversations: the dialog, store and engine against the in-process sandbox, with a fixed clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings, TenantConfig
from bot.dialog import Stage
from bot.service import Bot, open_bot
from bot.types import Inbound, Reply
from cadence_adapter import CadenceClient, new_http_client
from cadence_adapter.sandbox import create_app
from tests.conftest import NOW, SALON_KEY, salon_seed

pytestmark = pytest.mark.anyio

TOMORROW_3PM = datetime.fromisoformat("2026-06-02T14:00:00+00:00")  # 15:00 in Lisbon (UTC+1)


class Switch(httpx.AsyncBaseTransport):
    """The network between bot and Cadence, with a switch to take Cadence down and canned faults."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.booking_status: int | None = None  # answer the next booking POST with this status
        self.windows: list[tuple[datetime, datetime]] = []  # the from/to of every availability request

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/availability"):
            query = request.url.params
            self.windows.append((datetime.fromisoformat(query["from"]), datetime.fromisoformat(query["to"])))
        if self.down:
            raise httpx.ConnectError("Cadence is down", request=request)
        if self.booking_status and request.method == "POST" and request.url.path.endswith("/bookings"):
            status, self.booking_status = self.booking_status, None
            return httpx.Response(status, json={"error": {"code": "not_found", "message": "gone"}})
        return await self.inner.handle_async_request(request)


@dataclass
class World:
    """A sandbox and a way to open bots on it (several bots = several processes, or a restart)."""

    app: Any
    network: Switch
    database: str
    settings: Settings
    now: list[datetime] = field(default_factory=lambda: [NOW])
    bots: list[Bot] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now[0]

    def open(self) -> Bot:
        bot = open_bot(
            self.settings,
            base_url="http://cadence.test",
            http=new_http_client(transport=self.network),
            database=self.database,
            clock=self.clock,
        )
        self.bots.append(bot)
        return bot

    def keyed(self) -> CadenceClient:
        return CadenceClient("http://cadence.test", SALON_KEY, http=new_http_client(transport=self.network))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    now = [NOW]
    app = create_app(seed=salon_seed(), clock=lambda: now[0], rate_limit=None)
    settings = Settings(
        default_tenant="salon",
        tenants={"salon": TenantConfig(slug="salon", org_api_key=SALON_KEY)},
    )
    world = World(app, Switch(httpx.ASGITransport(app=app)), str(tmp_path / "bot.db"), settings, now)
    yield world
    for bot in world.bots:
        await bot.aclose()


class Chat:
    """One customer talking to a bot; remembers the last options so a test can tap them."""

    def __init__(self, bot: Bot, chat_id: str = "c1", **defaults: Any) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.defaults = defaults
        self.count = 0
        self.replies: tuple[Reply, ...] = ()

    async def send(
        self, text: str = "", *, choice: str | None = None, message_id: str | None = None, **extra: Any
    ) -> str:
        self.count += 1
        fields = {**self.defaults, **extra}
        inbound = Inbound(
            channel="console",
            chat_id=self.chat_id,
            message_id=message_id or f"{self.chat_id}-{self.count}-{uuid.uuid4().hex[:8]}",
            text=text,
            choice=choice,
            **fields,
        )
        result = await self.bot.engine.handle(inbound)
        assert result.replies, "every inbound message gets a reply"
        self.replies = result.replies
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def labels(self) -> list[str]:
        return [o.label for r in self.replies for o in r.options]

    async def tap(self, label: str | Callable[[str], bool]) -> str:
        match = label if callable(label) else (lambda text: label.lower() in text.lower())
        for reply in self.replies:
            for option in reply.options:
                if match(option.label):
                    return await self.send(choice=option.value)
        raise AssertionError(f"no option {label!r} in {self.labels}")

    def stage(self) -> Stage:
        state = self.bot.store.load("console", self.chat_id).state
        assert state is not None
        return Stage(state["stage"])


async def book_haircut(chat: Chat) -> str:
    """The long way round, one step a turn."""
    assert "Studio Salon" in await chat.send("hi")
    assert {"Haircut", "Colour", "Beard trim"} <= set(chat.labels)
    assert "When" in await chat.tap("Haircut")
    await chat.send("tomorrow afternoon")
    assert chat.stage() is Stage.SLOT and "Tue 2 Jun" in chat.text
    await chat.tap(lambda label: "PM" in label)
    assert "name" in chat.text
    await chat.send("Pat Patient")
    assert "email" in chat.text
    await chat.send("pat@example.com")
    assert chat.stage() is Stage.CONFIRM
    assert "Haircut" in chat.text and "Pat Patient" in chat.text and "pat@example.com" in chat.text
    return await chat.tap("Book it")


async def test_happy_path_books_in_cadence(world: World) -> None:
    chat = Chat(world.open())
    answer = await book_haircut(chat)
    assert "You're booked" in answer
    bookings = await world.keyed().list_bookings()
    assert len(bookings) == 1
    assert bookings[0].customer is not None and bookings[0].customer.email == "pat@example.com"
    assert chat.stage() is Stage.BOOKED


async def test_everything_in_one_message_books_in_two_turns_after_the_greeting(world: World) -> None:
    bot = world.open()
    first = Chat(bot, "returning")
    await book_haircut(first)
    world.now[0] = NOW + timedelta(days=2)  # the conversation went idle; the profile stays
    chat = Chat(bot, "returning")
    await chat.send("hi")
    answer = await chat.send("a haircut on friday at 3pm")
    assert chat.stage() is Stage.CONFIRM, answer
    assert "Fri 5 Jun" in answer and "3:00" in answer and "Pat Patient" in answer
    assert "You're booked" in await chat.send("yes")
    assert len(await world.keyed().list_bookings()) == 2


async def test_a_new_customer_says_it_all_at_once(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat Patient")
    answer = await chat.send("Hi, can I get a haircut tomorrow at 3pm?")
    assert chat.stage() is Stage.DETAILS and "Use Pat Patient" in chat.labels, answer
    await chat.tap("Use Pat Patient")
    await chat.send("+351 912 345 678")
    assert chat.stage() is Stage.CONFIRM
    assert "You're booked" in await chat.send("yes please")
    [booking] = await world.keyed().list_bookings()
    assert booking.start == TOMORROW_3PM
    assert booking.customer is not None and booking.customer.phone == "+351912345678"


async def test_practitioner_named_in_the_request(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await chat.send("a haircut with Rui tomorrow at 3pm")
    await chat.tap("Use Pat")
    await chat.send("pat@example.com")
    assert "Rui" in chat.text
    await chat.send("yes")
    [booking] = await world.keyed().list_bookings()
    assert booking.practitioner_id == "prac_rui"


async def test_customer_in_another_zone_sees_their_own_clock(world: World) -> None:
    chat = Chat(world.open(), timezone="America/New_York")
    await chat.send("hi")
    await chat.tap("Haircut")
    await chat.send("tomorrow at 10am")  # 10:00 in New York is 15:00 in Lisbon
    await chat.send("Pat Patient")
    await chat.send("pat@example.com")
    assert "10:00" in chat.text and "New York" in chat.text, chat.text
    await chat.send("yes")
    [booking] = await world.keyed().list_bookings()
    assert booking.start == TOMORROW_3PM


async def test_time_zone_command_reshows_the_offer(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("haircut tomorrow afternoon")
    assert chat.stage() is Stage.SLOT
    before = chat.labels
    answer = await chat.send("my time zone is Berlin")
    assert "Berlin" in answer
    assert chat.labels != before and any("(Berlin)" in label for label in chat.labels)


async def test_two_chats_race_for_the_last_slot(world: World) -> None:
    bot = world.open()
    first, second = Chat(bot, "a", sender_name="Ann"), Chat(bot, "b", sender_name="Ben")
    for chat, email in ((first, "ann@example.com"), (second, "ben@example.com")):
        await chat.send("colour tomorrow at 9am")  # only Ana does colour
        await chat.tap("Use")
        await chat.send(email)
        assert chat.stage() is Stage.CONFIRM
    assert "You're booked" in await first.send("yes")
    answer = await second.send("yes")
    assert "just taken" in answer and second.stage() is Stage.SLOT
    assert second.labels and all("9:00 AM" not in label for label in second.labels[:5])
    assert len(await world.keyed().list_bookings()) == 1


async def test_slot_closed_before_confirming_refreshes_the_offer(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await chat.send("haircut today at 3pm")
    await chat.tap("Use Pat")
    await chat.send("pat@example.com")
    world.now[0] = TOMORROW_3PM - timedelta(days=1, minutes=-5)  # 15:05 today: past for Cadence now
    answer = await chat.send("yes")
    assert "no longer open" in answer and chat.stage() in (Stage.SLOT, Stage.WHEN)


async def test_service_gone_goes_back_to_services(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await chat.send("haircut tomorrow at 3pm")
    await chat.tap("Use Pat")
    await chat.send("pat@example.com")
    world.network.booking_status = 404
    answer = await chat.send("yes")
    assert "no longer available" in answer and chat.stage() is Stage.SERVICE


async def test_cadence_down_mid_booking_then_back(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await chat.send("haircut tomorrow at 3pm")
    await chat.tap("Use Pat")
    await chat.send("pat@example.com")
    world.network.down = True
    answer = await chat.send("yes")  # no answer: it may have been made, so never "can't reach"
    assert "hasn't confirmed" in answer and "can't reach" not in answer and chat.stage() is Stage.CONFIRM
    world.network.down = False
    assert "You're booked" in await chat.send("try again")
    assert len(await world.keyed().list_bookings()) == 1


async def test_cadence_down_on_the_first_message(world: World) -> None:
    world.network.down = True
    chat = Chat(world.open())
    assert "can't reach" in await chat.send("haircut tomorrow at 3pm")
    world.network.down = False
    await chat.send("try again")
    assert chat.stage() is Stage.DETAILS


async def test_a_restarted_engine_continues_the_conversation(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await chat.send("haircut tomorrow at 3pm")
    await chat.tap("Use Pat")
    await world.bots[0].aclose()
    world.bots.clear()
    chat.bot = world.open()  # a new process on the same database
    await chat.send("pat@example.com")
    assert chat.stage() is Stage.CONFIRM
    assert "You're booked" in await chat.send("yes")


async def test_the_same_message_delivered_twice_books_once(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await chat.send("haircut tomorrow at 3pm")
    await chat.tap("Use Pat")
    await chat.send("pat@example.com")
    first = await chat.send("yes", message_id="dup-1")
    second = await chat.send("yes", message_id="dup-1")
    assert first == second and "You're booked" in first
    third = await chat.send("yes")  # a repeated "yes" says it's done, and books nothing new
    assert "already" in third.lower() or "booked" in third.lower()
    assert len(await world.keyed().list_bookings()) == 1


async def test_move_and_cancel_through_the_keyed_api(world: World) -> None:
    chat = Chat(world.open())
    await book_haircut(chat)
    [booking] = await world.keyed().list_bookings()
    await chat.send("my bookings")
    await chat.tap("Haircut")
    await chat.tap("Move it")
    await chat.send("wednesday at 11am")
    assert chat.stage() is Stage.CONFIRM and "Move your Haircut" in chat.text, chat.text
    assert "is now on" in await chat.tap("Yes, move it")
    moved = await world.keyed().get_booking(booking.id)
    assert moved.start == datetime.fromisoformat("2026-06-03T10:00:00+00:00")
    await chat.send("cancel my booking")
    assert chat.stage() is Stage.CANCEL
    assert "cancelled" in await chat.tap("Yes, cancel it")
    assert (await world.keyed().get_booking(booking.id)).status == "cancelled"
    assert "no upcoming bookings" in await chat.send("my bookings")


async def test_another_customer_cannot_touch_a_booking_that_is_not_theirs(world: World) -> None:
    bot = world.open()
    owner = Chat(bot, "owner")
    await book_haircut(owner)
    await owner.send("cancel my booking")
    stolen = [o.value for r in owner.replies for o in r.options]
    stranger = Chat(bot, "stranger")
    assert "no upcoming bookings" in await stranger.send("cancel my booking")
    assert "expired" in await stranger.send(choice=stolen[0])
    [booking] = await world.keyed().list_bookings()
    assert booking.status == "confirmed"


async def test_a_tap_on_an_old_keyboard_is_expired(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("hi")
    old = chat.replies[-1].options[0].value
    await chat.tap("Haircut")
    answer = await chat.send(choice=old)
    assert "expired" in answer and "When" in answer


async def test_unknown_tenant_gets_a_clear_answer_and_a_retry(world: World) -> None:
    bot = world.open()
    bot.dialog.default_tenant = None
    chat = Chat(bot, "lost")
    assert "Which business" in await chat.send("hello")
    assert "couldn't find" in await chat.send("Nonexistent Bakery")
    assert "Studio Salon" in await chat.send("salon")
    assert list(bot.directory._public) == ["salon"]  # no client kept for each made-up name


async def test_spanish_conversation(world: World) -> None:
    chat = Chat(world.open(), language="es")
    assert "¡Hola!" in await chat.send("hola")
    await chat.tap("Haircut")
    await chat.send("mañana por la tarde")
    assert chat.stage() is Stage.SLOT and "Horas libres" in chat.text, chat.text


JUNK = ["", "   ", "🙂🙂🙂", "asdf qwer zxcv", "\x00\x07\u202e", "x" * 10_000, "?" * 300]


async def _drive_to(stage: Stage, chat: Chat, hour: int) -> None:
    request = f"haircut tomorrow at {hour:02d}:00"  # a different slot per chat: they share the salon
    steps = {
        Stage.SERVICE: ["hi"],
        Stage.WHEN: ["hi", "haircut"],
        Stage.SLOT: ["haircut tomorrow afternoon"],
        Stage.DETAILS: [request],
        Stage.CONFIRM: [request, "Pat Patient", "pat@example.com"],
        Stage.BOOKED: [request, "Pat Patient", "pat@example.com", "yes"],
        Stage.BOOKINGS: [request, "Pat Patient", "pat@example.com", "yes", "my bookings"],
    }[stage]
    for text in steps:
        await chat.send(text)


@pytest.mark.parametrize(
    "stage",
    [Stage.SERVICE, Stage.WHEN, Stage.SLOT, Stage.DETAILS, Stage.CONFIRM, Stage.BOOKED, Stage.BOOKINGS],
)
async def test_junk_in_every_stage_gets_a_helpful_reply(world: World, stage: Stage) -> None:
    bot = world.open()
    for i, junk in enumerate(JUNK):
        chat = Chat(bot, f"junk-{stage}-{i}")
        await _drive_to(stage, chat, hour=[9, 10, 11, 12, 14, 15, 16][i])
        assert chat.stage() is stage
        answer = await chat.send(junk)
        assert answer.strip() and "went wrong" not in answer
        assert chat.stage() is stage or stage is Stage.BOOKED


async def test_a_name_that_is_also_a_date_word_is_a_name_when_asked(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("haircut tomorrow at 3pm")
    await chat.send("Sam Smith")
    assert "email" in chat.text
    await chat.send("sam@example.com")
    assert "Sam Smith" in chat.text and chat.stage() is Stage.CONFIRM


async def test_paging_says_which_day(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("haircut tomorrow afternoon")
    await chat.tap("Later")
    assert chat.stage() is Stage.SLOT
    slot_labels = [label for label in chat.labels if ":" in label]
    assert slot_labels and all("Jun" in label for label in slot_labels), chat.labels


def days_asked(window: tuple[datetime, datetime]) -> float:
    return (window[1] - window[0]) / timedelta(days=1)


async def test_a_request_for_a_day_asks_cadence_about_that_day_only(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("haircut on thursday at 3pm")
    assert chat.stage() is Stage.DETAILS, chat.text
    [window] = world.network.windows[-1:]
    assert days_asked(window) == 1 and window[0].date() == date(2026, 6, 3)  # Lisbon midnight is 23:00 UTC


async def test_a_closed_day_offers_the_nearest_open_days(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("haircut on sunday")  # the salon is closed on Sundays
    assert "Nothing is open on Sun 7 Jun" in chat.text, chat.text
    assert {"Sat 6 Jun", "Mon 8 Jun"} <= set(chat.labels), chat.labels
    narrow, wide = world.network.windows[-2:]
    assert days_asked(narrow) == 1 and days_asked(wide) > 14  # widened only because the day was closed
    await chat.tap("Mon 8 Jun")
    assert chat.stage() is Stage.SLOT and "Mon 8 Jun" in chat.text


async def test_a_past_day_is_refused_clearly(world: World) -> None:
    chat = Chat(world.open())
    for past in ("haircut on 1970-01-01", "haircut yesterday"):
        answer = await chat.send(past)
        assert "already passed" in answer and chat.stage() is Stage.WHEN, answer
    assert all(start >= NOW for start, _ in world.network.windows)


async def test_a_day_beyond_the_horizon_is_refused_clearly(world: World) -> None:
    chat = Chat(world.open())
    for far in ("haircut on 31 dec 9999", "haircut 9999-12-31T23:59:59Z", "haircut on 2 june 2027"):
        answer = await chat.send(far)
        assert "only book up to Tue 1 Jun 2027" in answer and chat.stage() is Stage.WHEN, answer
    await chat.send("tomorrow at 3pm")
    assert chat.stage() is Stage.DETAILS


async def test_past_and_far_days_are_refused_in_spanish_too(world: World) -> None:
    chat = Chat(world.open(), language="es")
    await chat.send("hola")
    await chat.tap("Haircut")
    assert "ya ha pasado" in await chat.send("el 1970-01-01"), chat.text
    assert "Solo puedo reservar hasta el mar 1 jun 2027" in await chat.send("el 31 de diciembre de 9999"), (
        chat.text
    )


async def test_a_range_to_the_end_of_time_is_cut_to_the_horizon(world: World) -> None:
    chat = Chat(world.open())
    answer = await chat.send("haircut between 1 june and 31 dec 9999")
    assert chat.stage() is Stage.SLOT and "Open times" in answer, answer
    assert all(days_asked(window) <= 31 for window in world.network.windows)


async def test_paging_earlier_from_an_offer_that_has_gone_by(world: World) -> None:
    chat = Chat(world.open())
    await chat.send("haircut today")
    world.now[0] = NOW + timedelta(hours=10)  # 19:00 in Lisbon: every time on offer is past
    answer = await chat.tap("Earlier")
    assert "nothing earlier" in answer and chat.stage() is Stage.SLOT, answer
